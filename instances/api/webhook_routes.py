"""Where the instance's webhooks go, set through the API: the contract's
update-webhook-* routes, on both shapes. They set the same URLs as the
Webhooks tab, refuse what its guard refuses, and never change the payload
format: that is chosen in the tab ("Z-API" for integrations written for
Z-API)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import StrictBool

from instances.api.core import ApiError, Shape, action
from instances.api.instance_routes import DoneOut, done
from instances.models import Instance
from webhooks import services as webhook_services
from webhooks.models import EventKind

TAG = "Webhooks"
DONE = Shape(("PUT",), {200: DoneOut}, done)


class WebhookUrlIn(Schema):
    value: str


class EveryWebhooksIn(Schema):
    value: str
    notifySentByMe: StrictBool | None = None  # noqa: N815 - Z-API's field name


class NotifySentByMeIn(Schema):
    # The contract names `value`; Z-API's own page sends `notifySentByMe`.
    value: StrictBool | None = None
    notifySentByMe: StrictBool | None = None  # noqa: N815 - Z-API's field name


def _urls_set(
    instance: Instance, kinds, url: str, notify_sent_by_me: bool | None = None
) -> Instance:
    try:
        webhook_services.webhook_urls_set(
            instance=instance,
            kinds=kinds,
            url=url,
            notify_sent_by_me=notify_sent_by_me,
        )
    except webhook_services.WebhookURLRefused as refused:
        raise ApiError(422, "invalid_webhook_url", str(refused)) from refused
    return instance


def _url_route(path: str, kind: str, events: str, name: str):
    """Register one update-webhook-* route: `value` becomes the URL of
    `kind`'s events (`events` names them in the docs)."""

    def handler(request: HttpRequest, instance: Instance, body: WebhookUrlIn):
        return _urls_set(instance, [kind], body.value)

    handler.__name__ = name
    handler.__doc__ = (
        f"Define a URL que recebe {events} (value vazio apaga). Não muda o "
        "formato dos eventos, escolhido na aba Webhooks."
    )
    summary = f"URL de webhook: {events}"
    return action(path, summary=summary, tag=TAG, native=DONE, zapi=DONE)(handler)


update_webhook_received = _url_route(
    "/update-webhook-received",
    EventKind.MESSAGE_RECEIVED,
    "mensagens recebidas",
    "update_webhook_received",
)
update_webhook_delivery = _url_route(
    "/update-webhook-delivery",
    EventKind.MESSAGE_SENT,
    "mensagens enviadas",
    "update_webhook_delivery",
)
update_webhook_message_status = _url_route(
    "/update-webhook-message-status",
    EventKind.MESSAGE_STATUS,
    "status das mensagens",
    "update_webhook_message_status",
)
update_webhook_connected = _url_route(
    "/update-webhook-connected",
    EventKind.CONNECTED,
    "conexões",
    "update_webhook_connected",
)
update_webhook_disconnected = _url_route(
    "/update-webhook-disconnected",
    EventKind.DISCONNECTED,
    "desconexões",
    "update_webhook_disconnected",
)
update_webhook_chat_presence = _url_route(
    "/update-webhook-chat-presence",
    EventKind.CHAT_PRESENCE,
    "presença nos chats",
    "update_webhook_chat_presence",
)


@action(
    "/update-webhook-received-delivery",
    summary="URL de webhook: mensagens recebidas e enviadas por mim",
    tag=TAG,
    native=DONE,
    zapi=DONE,
)
def update_webhook_received_delivery(
    request: HttpRequest, instance: Instance, body: WebhookUrlIn
):
    """Define a URL de mensagem recebida e liga o aviso das mensagens
    enviadas pela instância (chegam a ela com fromMe / from_me verdadeiro)."""
    return _urls_set(
        instance, [EventKind.MESSAGE_RECEIVED], body.value, notify_sent_by_me=True
    )


@action(
    "/update-every-webhooks",
    summary="URL de webhook: todos os eventos",
    tag=TAG,
    native=DONE,
    zapi=DONE,
)
def update_every_webhooks(
    request: HttpRequest, instance: Instance, body: EveryWebhooksIn
):
    """Define a mesma URL para todos os eventos (value vazio apaga todas);
    `notifySentByMe`, se vier, liga ou desliga o aviso das mensagens
    enviadas pela instância. Não muda o formato dos eventos."""
    return _urls_set(instance, list(EventKind.values), body.value, body.notifySentByMe)


@action(
    "/update-notify-sent-by-me",
    summary="Avisar as mensagens enviadas por mim",
    tag=TAG,
    native=DONE,
    zapi=DONE,
)
def update_notify_sent_by_me(
    request: HttpRequest, instance: Instance, body: NotifySentByMeIn
):
    """Liga ou desliga o aviso, na URL de mensagem recebida, das mensagens
    enviadas pela instância. Aceita `value` ou `notifySentByMe` (booleano)."""
    chosen = body.value if body.value is not None else body.notifySentByMe
    if chosen is None:
        raise ApiError(
            422,
            "invalid_request",
            _("Pedido inválido: informe value (true ou false)."),
        )
    webhook_services.webhook_endpoints_save(
        instance=instance, values={}, notify_sent_by_me=chosen
    )
    return instance
