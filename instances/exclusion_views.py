"""The "Lista de exclusão" page of an instance."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from instances import health, selectors
from instances.forms import ExclusionAddForm, ExclusionImportForm
from instances.models import ExclusionSource, ImportStatus
from instances.views import _get_instance_for_user


def _page(request: HttpRequest, instance, **extra) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    entries = selectors.exclusions_for_instance(instance, search=query)
    context = {
        "instance": instance,
        "page": Paginator(entries, 50).get_page(request.GET.get("pagina")),
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "add_form": ExclusionAddForm(),
        "import_form": ExclusionImportForm(),
        "imports": selectors.exclusion_imports_recent(instance),
        **extra,
    }
    return render(request, "instances/exclusions.html", context)


@login_required
@require_GET
def exclusion_list(request: HttpRequest, instance_id) -> HttpResponse:
    return _page(request, _get_instance_for_user(request, instance_id))


@login_required
@require_POST
def exclusion_add(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    form = ExclusionAddForm(request.POST)
    if not form.is_valid():
        return _page(request, instance, add_form=form)
    _entry, created = health.exclusion_add(
        instance=instance,
        phone=form.cleaned_data["phone"],
        reason=form.cleaned_data["reason"],
        source=ExclusionSource.CUSTOMER,
        actor=request.user,
    )
    messages.success(
        request,
        _("Número adicionado à lista de exclusão.")
        if created
        else _("Este número já estava na lista."),
    )
    return redirect("instances:exclusions", instance.pk)


@login_required
@require_http_methods(["GET", "POST"])
def exclusion_remove(request: HttpRequest, instance_id, entry_id: int) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    entry = selectors.exclusions_for_instance(instance).filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    if request.method == "GET":
        return render(
            request,
            "instances/confirm.html",
            {
                "instance": instance,
                "title": _("Remover da lista de exclusão"),
                "question": _(
                    "%(phone)s voltará a poder receber mensagens pela API. Faça isso só se a pessoa pediu."
                )
                % {"phone": entry.phone},
                "action": _("Sim, remover"),
                "cancel_url": "instances:exclusions",
            },
        )
    health.exclusion_remove(instance=instance, entry_id=entry.pk)
    messages.success(request, _("Número removido da lista de exclusão."))
    return redirect("instances:exclusions", instance.pk)


@login_required
@require_POST
def exclusion_import(request: HttpRequest, instance_id) -> HttpResponse:
    """The upload is checked here; a task imports it, and its page shows
    how it goes."""
    instance = _get_instance_for_user(request, instance_id)
    form = ExclusionImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, instance, import_form=form)
    upload = form.cleaned_data["file"]
    try:
        job = health.exclusion_import_request(
            instance=instance,
            content=upload.read(),
            file_name=upload.name,
            actor=request.user,
        )
    except ValidationError as error:
        form.add_error("file", error)
        return _page(request, instance, import_form=form)
    return redirect("instances:exclusion_import_detail", instance.pk, job.pk)


@require_GET
def exclusion_import_detail(
    request: HttpRequest, instance_id, import_id: int
) -> HttpResponse:
    """The import's progress, then its report; polled every 2 s while it runs."""
    if not request.user.is_authenticated:
        login = f"{reverse(settings.LOGIN_URL)}?next={request.path}"
        # The poll would swap the login page into the result.
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    instance = _get_instance_for_user(request, instance_id)
    job = selectors.exclusion_import_for_instance(instance, import_id)
    if job is None:
        raise Http404
    template = "instances/exclusion_import.html"
    if request.htmx:
        template += "#result"
    response = render(request, template, {"instance": instance, "job": job})
    if request.htmx and job.status == ImportStatus.DONE:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_GET
def exclusion_export(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    response = HttpResponse(
        health.exclusion_export_csv(instance), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="lista-de-exclusao-{instance.pk}.csv"'
    )
    return response
