import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from instances.selectors import instance_for_user
from webhooks import selectors, services
from webhooks.forms import DeliveryFilterForm, EndpointsForm, ReplayForm
from webhooks.models import DeliveryStatus, EventKind


def _get_instance_for_user(request: HttpRequest, instance_id):
    instance = instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


def _get_delivery_for_user(request: HttpRequest, instance_id, delivery_id: int):
    instance = _get_instance_for_user(request, instance_id)
    delivery = selectors.delivery_for_instance(instance, delivery_id)
    if delivery is None:
        raise Http404
    return instance, delivery


def _tab_context(instance, form, settings_row) -> dict:
    endpoints = selectors.endpoints_for_instance(instance)
    return {
        "instance": instance,
        "form": form,
        "tab": "webhooks",
        "secret": settings_row.secret,
        "disabled": [e for e in endpoints if e.disabled_at],
        "replay_form": ReplayForm(),
    }


@never_cache  # shows the API token or the signing secret
@login_required
@require_http_methods(["GET", "POST"])
def webhooks_edit(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    endpoints = selectors.endpoints_for_instance(instance)
    settings_row = services.webhook_settings_get(instance_id=instance.pk)
    form = EndpointsForm(
        request.POST or None, endpoints=endpoints, settings=settings_row
    )
    if request.method == "POST" and form.is_valid():
        services.webhook_endpoints_save(
            instance=instance, values=form.values(), **form.settings_values()
        )
        messages.success(request, _("Webhooks salvos."))
        return redirect("webhooks:edit", instance.pk)
    return render(
        request, "webhooks/edit.html", _tab_context(instance, form, settings_row)
    )


def _test_context(instance, kind: str, delivery) -> dict:
    attempt = selectors.test_attempt(delivery) if delivery else None
    return {
        "instance": instance,
        "kind": kind,
        "delivery": delivery,
        "attempt": attempt,
        # What was posted, in the instance's format: the example a customer
        # checks their receiver against.
        "sent_body": _json(delivery.event.payload) if attempt else "",
    }


@never_cache  # shows the API token or the signing secret
@login_required
@require_POST
def webhook_test(request: HttpRequest, instance_id, kind: str) -> HttpResponse:
    """With htmx: the test is recorded, a task posts it, and "Enviando…"
    polls for the answer. Without JavaScript nothing would poll: the post is
    made in this request, as it always was."""
    instance = _get_instance_for_user(request, instance_id)
    if kind not in EventKind.values:
        raise Http404
    endpoint = selectors.endpoint_for_instance(instance, kind=kind)
    delivery = None
    if endpoint:
        delivery = services.webhook_test_request(
            instance=instance, kind=kind, queue=bool(request.htmx)
        )
        if not request.htmx:
            services.webhook_test_send(delivery_id=delivery.pk)
    context = _test_context(instance, kind, delivery)
    if request.htmx:
        return render(request, "webhooks/_test_result.html", context)
    # Without JavaScript the whole form came along: show it again as typed,
    # with the result, rather than lose unsaved changes.
    settings_row = services.webhook_settings_get(instance_id=instance.pk)
    form = EndpointsForm(
        request.POST,
        endpoints=selectors.endpoints_for_instance(instance),
        settings=settings_row,
    )
    return render(
        request,
        "webhooks/edit.html",
        {**_tab_context(instance, form, settings_row), "test": context},
    )


@require_GET
def webhook_test_result(
    request: HttpRequest, instance_id, delivery_id: int
) -> HttpResponse:
    """The answer to "Enviar teste", polled every 2 s until it is there."""
    if not request.user.is_authenticated:
        login = f"{reverse(settings.LOGIN_URL)}?next={request.path}"
        # The poll would swap the login page into the tab.
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    instance = _get_instance_for_user(request, instance_id)
    delivery = selectors.test_delivery_for_instance(instance, delivery_id)
    if delivery is None:
        raise Http404
    if not request.htmx:
        return redirect("webhooks:edit", instance.pk)
    response = render(
        request,
        "webhooks/_test_result.html",
        _test_context(instance, delivery.event.kind, delivery),
    )
    if delivery.status != DeliveryStatus.PENDING:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhook_secret_rotate(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if request.method == "GET":
        return render(
            request,
            "instances/confirm.html",
            {
                "instance": instance,
                "title": _("Gerar novo segredo"),
                "question": _(
                    "Um novo segredo de assinatura será criado. Durante 24 horas cada "
                    "entrega levará as duas assinaturas, a do segredo atual e a do novo, "
                    "para você atualizar o seu sistema sem perder eventos."
                ),
                "action": _("Sim, gerar novo segredo"),
                "cancel_url": "webhooks:edit",
            },
        )
    services.webhook_secret_rotate(instance=instance)
    messages.success(
        request, _("Novo segredo gerado. O anterior continua válido por 24 horas.")
    )
    return redirect("webhooks:edit", instance.pk)


@login_required
@require_POST
def webhook_reactivate(
    request: HttpRequest, instance_id, endpoint_id: int
) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    endpoint = selectors.endpoint_for_instance(instance, pk=endpoint_id)
    if endpoint is None:
        raise Http404
    services.webhook_endpoint_reactivate(endpoint=endpoint)
    messages.success(
        request,
        _("Webhook “%(kind)s” reativado.") % {"kind": endpoint.get_kind_display()},
    )
    return redirect("webhooks:edit", instance.pk)


@login_required
@require_POST
def webhook_replay(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    form = ReplayForm(request.POST)
    if form.is_valid():
        count = services.webhook_failures_replay(
            instance=instance, since=form.cleaned_data["since"]
        )
        messages.success(
            request,
            ngettext(
                "%(count)d entrega com falha foi reenviada.",
                "%(count)d entregas com falha foram reenviadas.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.error(
            request, _("Informe a data e a hora a partir das quais reenviar.")
        )
    return redirect("webhooks:edit", instance.pk)


@login_required
@require_GET
def delivery_list(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    filters = DeliveryFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    deliveries = selectors.deliveries_for_instance(
        instance, kind=chosen.get("tipo", ""), status=chosen.get("resultado", "")
    )
    page = Paginator(deliveries, 25).get_page(request.GET.get("pagina"))
    query = request.GET.copy()
    query.pop("pagina", None)
    return render(
        request,
        "webhooks/deliveries.html",
        {
            "instance": instance,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "tab": "deliveries",
            "retention_days": selectors.deliveries_retention_days(),
        },
    )


@login_required
@require_GET
def delivery_detail(
    request: HttpRequest, instance_id, delivery_id: int
) -> HttpResponse:
    instance, delivery = _get_delivery_for_user(request, instance_id, delivery_id)
    body = json.dumps(delivery.event.payload, ensure_ascii=False, indent=2)
    attempts = list(delivery.attempts.all())
    # Where it was posted (the URL may have changed since), or will be.
    posted_url = attempts[-1].url if attempts else delivery.endpoint.url
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "instance": instance,
            "delivery": delivery,
            "body": body,
            "posted_url": posted_url,
            "tab": "deliveries",
        },
    )


@login_required
@require_POST
def delivery_resend(
    request: HttpRequest, instance_id, delivery_id: int
) -> HttpResponse:
    instance, delivery = _get_delivery_for_user(request, instance_id, delivery_id)
    again = services.webhook_delivery_resend(delivery=delivery)
    messages.success(request, _("Evento reenviado. Acompanhe a nova entrega abaixo."))
    return redirect("webhooks:delivery", instance.pk, again.pk)


@require_GET
def webhooks_docs(request: HttpRequest) -> HttpResponse:
    """The webhooks guide: public, like the rest of the API docs."""
    examples = [(kind, _json(services.example_payload(kind))) for kind in EventKind]
    zapi_examples = [
        (anchor, title, body["type"], _json(body))
        for anchor, title, body in services.zapi_examples()
    ]
    return render(
        request,
        "webhooks/docs.html",
        {"examples": examples, "zapi_examples": zapi_examples},
    )


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2)
