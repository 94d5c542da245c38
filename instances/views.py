from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from instances import health, selectors, services
from instances.api import guide
from instances.engines import engine_get
from instances.engines.base import EngineError
from instances.forms import InstanceCreateForm, InstanceForm, PairingForm, ProfileForm
from instances.models import ActorKind, Instance
from instances.poll_cache import poll_state_store

# Shown for timeouts and refusals alike: the instance is left as it was.
ENGINE_DOWN = "Serviço do WhatsApp indisponível, tente de novo em instantes."


def _get_instance_for_user(request: HttpRequest, instance_id) -> Instance:
    instance = selectors.instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


def _connect(request: HttpRequest, instance: Instance, phone_number: str = "") -> bool:
    """Ask for a QR (or pairing) code; say what went wrong if it did not work."""
    try:
        services.instance_connect(
            instance=instance,
            actor_kind=ActorKind.CUSTOMER,
            actor=request.user,
            phone_number=phone_number,
        )
    except EngineError:
        messages.error(request, _(ENGINE_DOWN))
    except (services.InstanceError, ValidationError) as error:
        messages.error(
            request, error.messages[0] if hasattr(error, "messages") else str(error)
        )
    else:
        return True
    return False


@login_required
@require_GET
def instance_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.instance_list_for_user(request.user), 25).get_page(
        request.GET.get("pagina")
    )
    return render(request, "instances/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def instance_create(request: HttpRequest) -> HttpResponse:
    form = InstanceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        instance = services.instance_create(
            owner=request.user, name=form.cleaned_data["name"]
        )
        _connect(request, instance)
        return redirect("instances:detail", instance.pk)
    return render(request, "instances/create.html", {"form": form})


def _detail_context(request: HttpRequest, instance: Instance) -> dict:
    return {
        "instance": instance,
        "api_base_url": f"{settings.SITE_URL}/instances/{instance.pk}",
        "polling": instance.awaiting_scan,
        "simulator": engine_get().name == "simulator",
        "activated_recently": health.activated_recently(instance),
    }


@never_cache  # shows the API token or the signing secret
@login_required
@require_GET
def instance_detail(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    context = _detail_context(request, instance)
    context["timeline"] = selectors.instance_timeline(instance)
    context["sends_today"], context["sends_limit"] = health.warmup_usage(instance)
    return render(request, "instances/detail.html", context)


@require_GET
def instance_qr(request: HttpRequest, instance_id) -> HttpResponse:
    """The QR panel, polled every 2 s; never calls the engine.

    "Nothing changed" is answered before the view by
    instances.middleware.QrPollMiddleware from one cache round trip (no
    query). What reaches the view takes the full path: login check, one row
    read, 204 if the page is current after all (the cache had lost the
    session or the entry), else the fragment, and 286 (stop polling) once
    the instance is no longer waiting for a scan.
    """
    if not request.user.is_authenticated:
        login = f"{reverse(settings.LOGIN_URL)}?next={request.path}"
        # htmx would swap the login page into the panel; send the tab there.
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    instance = _get_instance_for_user(request, instance_id)
    poll_state_store(instance, request.user)
    waiting = instance.awaiting_scan
    if waiting and request.GET.get("v") == instance.poll_version:
        return HttpResponse(status=204)
    # The state changed: Histórico is swapped in with the panel (one query,
    # only on this path, never on the 204 one).
    context = {
        **_detail_context(request, instance),
        "timeline": selectors.instance_timeline(instance),
    }
    response = render(request, "instances/detail.html#qr_panel", context)
    if not waiting:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_http_methods(["POST"])
def instance_connect(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    _connect(request, instance)
    return redirect("instances:detail", instance.pk)


@login_required
@require_http_methods(["GET", "POST"])
def instance_pair(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    form = PairingForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _connect(request, instance, form.cleaned_data["phone_number"])
    ):
        return redirect("instances:detail", instance.pk)
    return render(request, "instances/pair.html", {"instance": instance, "form": form})


def _confirm(request: HttpRequest, instance: Instance, **text) -> HttpResponse:
    return render(request, "instances/confirm.html", {"instance": instance, **text})


@login_required
@require_http_methods(["GET", "POST"])
def instance_disconnect(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if request.method == "GET":
        return _confirm(
            request,
            instance,
            title=_("Desconectar instância"),
            question=_(
                "O WhatsApp deste número será desconectado da PlugMessage e a API "
                "deixará de enviar mensagens por ele até você conectá-lo de novo."
            ),
            action=_("Sim, desconectar"),
        )
    try:
        services.instance_disconnect(
            instance=instance, actor_kind=ActorKind.CUSTOMER, actor=request.user
        )
    except EngineError:
        messages.error(request, _(ENGINE_DOWN))
    except services.InstanceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Instância desconectada."))
    return redirect("instances:detail", instance.pk)


@login_required
@require_http_methods(["GET", "POST"])
def instance_delete(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if request.method == "GET":
        return _confirm(
            request,
            instance,
            title=_("Excluir instância"),
            question=_(
                "A instância “%(name)s”, seu token e seu histórico serão apagados. "
                "Esta ação não pode ser desfeita."
            )
            % {"name": instance.name},
            action=_("Sim, excluir"),
        )
    try:
        services.instance_delete(instance=instance)
    except services.InstanceError as error:
        messages.error(request, str(error))
        return redirect("instances:detail", instance.pk)
    except EngineError:
        messages.error(request, _(ENGINE_DOWN))
        return redirect("instances:detail", instance.pk)
    messages.success(
        request, _("Instância “%(name)s” excluída.") % {"name": instance.name}
    )
    return redirect("instances:list")


@login_required
@require_http_methods(["GET", "POST"])
def instance_token_regenerate(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if request.method == "GET":
        return _confirm(
            request,
            instance,
            title=_("Gerar novo token"),
            question=_(
                "O token atual deixa de funcionar imediatamente: os sistemas que o "
                "usam precisarão do novo token."
            ),
            action=_("Sim, gerar novo token"),
        )
    services.instance_token_regenerate(instance=instance)
    messages.success(request, _("Novo token gerado. O anterior já não funciona."))
    return redirect("instances:detail", instance.pk)


@login_required
@require_http_methods(["GET", "POST"])
def instance_edit(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    form = InstanceForm(
        request.POST or None,
        initial={f: getattr(instance, f) for f in InstanceForm.Meta.fields},
    )
    if request.method == "POST" and form.is_valid():
        services.instance_update(instance=instance, **form.cleaned_data)
        messages.success(request, _("Dados da instância salvos."))
        return redirect("instances:edit", instance.pk)
    return _edit_page(request, instance, form=form)


def _edit_page(request, instance, *, form=None, profile_form=None, status=200):
    form = form or InstanceForm(
        initial={f: getattr(instance, f) for f in InstanceForm.Meta.fields}
    )
    profile_form = profile_form or ProfileForm(
        initial={
            "profile_name": instance.profile_name,
            "profile_about": instance.profile_about,
        }
    )
    return render(
        request,
        "instances/edit.html",
        {
            "instance": instance,
            "form": form,
            "profile_form": profile_form,
            "tab": "data",
        },
        status=status,
    )


@login_required
@require_POST
def instance_profile(request: HttpRequest, instance_id) -> HttpResponse:
    """ "Perfil do WhatsApp": name, about and picture of the connected number."""
    instance = _get_instance_for_user(request, instance_id)
    form = ProfileForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        upload = data["profile_picture"]
        try:
            services.instance_profile_update(
                instance=instance,
                name=data["profile_name"] or None,
                about=data["profile_about"]
                if data["profile_about"] != instance.profile_about
                else None,
                picture=upload.read() if upload else None,
            )
        except services.ProfileRefused as refused:
            form.add_error(None, refused.message)
        except EngineError:
            form.add_error(
                None,
                _(
                    "O WhatsApp não aceitou a mudança agora. Confira se a instância "
                    "está conectada e tente de novo."
                ),
            )
        else:
            messages.success(request, _("Perfil do WhatsApp atualizado."))
            return redirect(reverse("instances:edit", args=[instance.pk]) + "#perfil")
    return _edit_page(request, instance, profile_form=form, status=422)


@require_GET
def docs_migrate_zapi(request: HttpRequest) -> HttpResponse:
    """ "Migrar do Z-API": public, like the rest of the API docs."""
    return render(
        request,
        "instances/docs_migrate_zapi.html",
        {
            "routes": guide.compatible_routes(),
            "webhook_types": guide.WEBHOOK_TYPES,
            "base_url": f"{request.scheme}://{request.get_host()}",
        },
    )


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    """The old address of "Documentação": the API docs now live at /api/docs."""
    return redirect("api:openapi-view")
