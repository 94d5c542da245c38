"""Apagar dados de um contato: the customer erases what an instance holds
about one phone number (LGPD)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from instances.health import is_excluded
from instances.phones import phone_display
from instances.selectors import instance_for_user
from privacy import selectors, services
from privacy.forms import ContactEraseForm
from privacy.models import ErasureStatus


def _get_instance_for_user(request: HttpRequest, instance_id):
    instance = instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


@login_required
@require_http_methods(["GET", "POST"])
def contact_erase(request: HttpRequest, instance_id) -> HttpResponse:
    """The number, then a confirmation with what will go, then the request."""
    instance = _get_instance_for_user(request, instance_id)
    form = ContactEraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if request.POST.get("confirmado") == "1":
            erasure = services.contact_erasure_request(
                instance=instance, phone=phone, actor=request.user
            )
            return redirect("privacy:erasure", instance.pk, erasure.pk)
        counts = selectors.contact_data_count(instance, phone)
        return render(
            request,
            "privacy/contact_erase_confirm.html",
            {
                "instance": instance,
                "phone": phone,
                "phone_shown": phone_display(phone),
                "lines": selectors.erasure_lines(counts),
                "excluded": is_excluded(instance, phone),
            },
        )
    return render(
        request,
        "privacy/contact_erase.html",
        {
            "instance": instance,
            "form": form,
            "erasures": selectors.erasures_for_instance(instance),
        },
    )


@require_GET
def erasure_detail(request: HttpRequest, instance_id, erasure_id: int) -> HttpResponse:
    """The request's result; polled every 2 s while it runs."""
    if not request.user.is_authenticated:
        login = f"{reverse(settings.LOGIN_URL)}?next={request.path}"
        # The poll would swap the login page into the result.
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    instance = _get_instance_for_user(request, instance_id)
    erasure = selectors.erasure_for_instance(instance, erasure_id)
    if erasure is None:
        raise Http404
    template = "privacy/erasure.html"
    if request.htmx:
        template += "#result"
    response = render(
        request,
        template,
        {
            "instance": instance,
            "erasure": erasure,
            "lines": selectors.erasure_lines(erasure.counts),
        },
    )
    if request.htmx and erasure.status == ErasureStatus.DONE:
        response.status_code = HTMX_STOP_POLLING
    return response
