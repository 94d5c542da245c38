from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing import selectors, services
from billing.forms import BillingProfileForm
from billing.models import Plan
from instances import selectors as instance_selectors
from instances.models import Instance


def _get_instance_for_user(request: HttpRequest, instance_id) -> Instance:
    instance = instance_selectors.instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("proximo") or request.GET.get("proximo") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def billing_profile_edit(request: HttpRequest) -> HttpResponse:
    """ "Dados de cobrança" under Minha conta."""
    profile = selectors.billing_profile_for(request.user)
    form = BillingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.billing_profile_save(account=request.user, values=form.cleaned_data)
        messages.success(request, _("Dados de cobrança salvos."))
        return redirect(_next_url(request, "billing:profile"))
    return render(
        request,
        "billing/profile.html",
        {"form": form, "next": _next_url(request, "")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, instance_id) -> HttpResponse:
    """ "Assinar": the price, the postpaid rule and the billing data (asked
    here the first time), then one confirmation."""
    instance = _get_instance_for_user(request, instance_id)
    if instance.subscribed_since is not None:
        messages.info(request, _("Esta instância já está assinada."))
        return redirect("instances:detail", instance.pk)
    profile = selectors.billing_profile_for(request.user)
    form = None if profile else BillingProfileForm(request.POST or None)
    if request.method == "POST" and (form is None or form.is_valid()):
        if form is not None:
            services.billing_profile_save(
                account=request.user, values=form.cleaned_data
            )
        try:
            services.subscription_start(instance=instance, actor=request.user)
        except services.BillingError as error:
            messages.error(request, str(error))
            return redirect("instances:detail", instance.pk)
        messages.success(
            request,
            _("Instância “%(name)s” assinada. Obrigado!") % {"name": instance.name},
        )
        return redirect("instances:detail", instance.pk)
    return render(
        request,
        "billing/subscribe.html",
        {
            "instance": instance,
            "plan": services.plan_current(),
            "profile": profile,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if instance.subscribed_since is None:
        messages.info(request, _("Esta instância não está assinada."))
        return redirect("instances:detail", instance.pk)
    if request.method == "GET":
        return render(request, "billing/cancel.html", {"instance": instance})
    try:
        services.subscription_cancel(instance=instance, actor=request.user)
    except services.BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Assinatura da instância “%(name)s” cancelada.")
            % {"name": instance.name},
        )
    return redirect("instances:detail", instance.pk)


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/invoice_list.html", {"plan": Plan.objects.first()})
