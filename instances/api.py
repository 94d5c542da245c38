"""The instance API (django-ninja). Every action answers on two routes: the
shape PlugMessage customers' integrations already use, with the token in the
path (/instances/{id}/token/{token}/send-text), and the recommended one with
`Authorization: Bearer <token>` (/instances/{id}/send-text)."""

import base64
import hmac
import io
from datetime import datetime
from uuid import UUID

import qrcode
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger

from instances import health, messaging, selectors, services
from instances.engines.base import EngineError
from instances.models import ExclusionSource, Instance, Message, token_digest
from instances.phones import phone_to_e164
from instances.qr import qr_svg


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ):
        self.status, self.code, self.message, self.retry_after = (
            status,
            code,
            message,
            retry_after,
        )


class Error(Schema):
    code: str
    message: str


class StatusOut(Schema):
    id: UUID
    name: str
    state: str
    state_label: str
    phone: str | None
    connected: bool
    trial_ends_at: datetime


class QrOut(Schema):
    state: str
    qr_code: str | None
    qr_svg_base64: str | None
    qr_png_base64: str | None
    pairing_code: str | None
    expires_at: datetime | None


class PairingOut(Schema):
    pairing_code: str
    expires_at: datetime | None


class SendIn(Schema):
    phone: str
    text: str | None = None
    message: str | None = None  # the field name older integrations send


class MessageOut(Schema):
    id: UUID
    to: str
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime


api = NinjaAPI(
    title="PlugMessage API",
    version="1",
    description="API das instâncias da PlugMessage.",
    urls_namespace="api",
    docs=Swagger(),
    docs_url="/api/docs",
    openapi_url="/api/openapi.json",
    docs_decorator=login_required,
)
ERRORS = {
    400: Error,
    401: Error,
    402: Error,
    404: Error,
    409: Error,
    413: Error,
    422: Error,
    429: Error,
    503: Error,
}


@api.exception_handler(NinjaValidationError)
def _invalid_request(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    # The same {code, message} shape as every other error of this API.
    fields = ", ".join(
        str(e.get("loc", ["?"])[-1]) for e in error.errors if isinstance(e, dict)
    )
    return api.create_response(
        request,
        {
            "code": "invalid_request",
            "message": _("Pedido inválido: confira %(fields)s.")
            % {"fields": fields or _("o corpo")},
        },
        status=422,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # A body that is not JSON, and other errors django-ninja raises itself.
    code = "invalid_request" if error.status_code == 400 else "error"
    return api.create_response(
        request,
        {
            "code": code,
            "message": _("Pedido inválido: o corpo deve ser JSON.")
            if error.status_code == 400
            else str(error),
        },
        status=error.status_code,
    )


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(
        request, {"code": error.code, "message": error.message}, status=error.status
    )
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def _instance(request: HttpRequest, instance_id: UUID, token: str | None) -> Instance:
    """The instance the token opens. A token that opens none → 401; one that
    opens another instance → 404, with no hint that this ID exists."""
    if token is None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    found = (
        Instance.objects.filter(token_digest=token_digest(token)).first()
        if token
        else None
    )
    if found is None or not hmac.compare_digest(found.token.encode(), token.encode()):
        raise ApiError(401, "unauthorized", _("Token inválido."))
    if found.pk != instance_id:
        raise ApiError(404, "not_found", _("Instância não encontrada."))
    return found


def _status(instance: Instance) -> dict:
    return {
        "id": instance.pk,
        "name": instance.name,
        "state": instance.state,
        "state_label": str(instance.get_state_display()),
        "phone": instance.phone_number or None,
        "connected": instance.is_connected,
        "trial_ends_at": instance.trial_ends_at,
    }


def _qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(code).save(buffer)
    return buffer.getvalue()


def _qr(instance: Instance) -> dict:
    code = instance.qr_code if instance.awaiting_scan else ""
    png = base64.b64encode(_qr_png(code)).decode() if code else None
    return {
        "state": instance.state,
        "qr_code": code or None,
        "qr_svg_base64": base64.b64encode(str(qr_svg(code)).encode()).decode()
        if code
        else None,
        "qr_png_base64": png,
        "pairing_code": instance.pairing_code or None,
        "expires_at": instance.qr_expires_at,
    }


def _qr_image(instance: Instance) -> HttpResponse:
    code = instance.qr_code if instance.awaiting_scan else ""
    if not code:
        raise ApiError(
            404, "no_qr_code", _("Não há QR Code pendente para esta instância.")
        )
    return HttpResponse(_qr_png(code), content_type="image/png")


def _pair(instance: Instance, phone: str) -> dict:
    try:
        services.instance_connect(
            instance=instance, actor_kind="customer", phone_number=phone
        )
    except services.InstanceError as error:
        raise ApiError(409, "cannot_connect", str(error)) from error
    except EngineError as error:
        raise ApiError(
            503,
            "engine_unavailable",
            _("Serviço do WhatsApp indisponível, tente de novo."),
        ) from error
    except ValidationError as error:  # an invalid phone number
        raise ApiError(
            422, "invalid_phone", _("Número de telefone inválido.")
        ) from error
    instance.refresh_from_db()
    return {"pairing_code": instance.pairing_code, "expires_at": instance.qr_expires_at}


def _disconnect(instance: Instance) -> dict:
    try:
        services.instance_disconnect(instance=instance, actor_kind="customer")
    except services.InstanceError as error:
        raise ApiError(409, "instance_not_connected", str(error)) from error
    except EngineError as error:
        raise ApiError(
            503,
            "engine_unavailable",
            _("Serviço do WhatsApp indisponível, tente de novo."),
        ) from error
    return _status(instance)


def _send(instance: Instance, body: SendIn) -> Status:
    text = body.text if body.text is not None else (body.message or "")
    try:
        message = messaging.message_send_text(
            instance=instance, phone=body.phone, text=text
        )
    except messaging.SendRefused as refused:
        raise ApiError(
            refused.status, refused.code, refused.message, refused.retry_after
        ) from refused
    return Status(202, _message(message))


def _message(message: Message) -> dict:
    return {
        "id": message.pk,
        "to": message.to,
        "status": message.status,
        "error": message.error or None,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


def _message_get(instance: Instance, message_id: UUID) -> dict:
    message = Message.objects.filter(instance=instance, pk=message_id).first()
    if message is None:
        raise ApiError(404, "message_not_found", _("Mensagem não encontrada."))
    return _message(message)


# The recommended routes: token in the Authorization header.

IN_PATH = "/instances/{instance_id}/token/{token}"
BEARER = "/instances/{instance_id}"


@api.get(
    f"{BEARER}/status",
    response={200: StatusOut, **ERRORS},
    tags=["Instância"],
    summary="Estado da instância",
)
def status(request, instance_id: UUID):
    return _status(_instance(request, instance_id, None))


@api.get(
    f"{BEARER}/qr-code",
    response={200: QrOut, **ERRORS},
    tags=["Instância"],
    summary="QR Code atual",
)
def qr_code(request, instance_id: UUID):
    return _qr(_instance(request, instance_id, None))


@api.get(
    f"{BEARER}/qr-code/image",
    response={**ERRORS},
    tags=["Instância"],
    summary="QR Code em PNG",
)
def qr_code_image(request, instance_id: UUID):
    return _qr_image(_instance(request, instance_id, None))


@api.get(
    f"{BEARER}/phone-code/{{phone}}",
    response={200: PairingOut, **ERRORS},
    tags=["Instância"],
    summary="Código de pareamento",
)
def phone_code(request, instance_id: UUID, phone: str):
    return _pair(_instance(request, instance_id, None), phone)


@api.post(
    f"{BEARER}/disconnect",
    response={200: StatusOut, **ERRORS},
    tags=["Instância"],
    summary="Desconectar",
)
def disconnect(request, instance_id: UUID):
    return _disconnect(_instance(request, instance_id, None))


@api.post(
    f"{BEARER}/send-text",
    response={202: MessageOut, **ERRORS},
    tags=["Mensagens"],
    summary="Enviar texto",
)
def send_text(request, instance_id: UUID, body: SendIn):
    return _send(_instance(request, instance_id, None), body)


@api.get(
    f"{BEARER}/messages/{{message_id}}",
    response={200: MessageOut, **ERRORS},
    tags=["Mensagens"],
    summary="Status de uma mensagem",
)
def message_status(request, instance_id: UUID, message_id: UUID):
    return _message_get(_instance(request, instance_id, None), message_id)


# The same actions in the shape existing integrations use: token in the path.


@api.get(
    f"{IN_PATH}/status",
    response={200: StatusOut, **ERRORS},
    tags=["Token na URL"],
    summary="Estado da instância (token na URL)",
)
def status_token(request, instance_id: UUID, token: str):
    return _status(_instance(request, instance_id, token))


@api.get(
    f"{IN_PATH}/qr-code",
    response={200: QrOut, **ERRORS},
    tags=["Token na URL"],
    summary="QR Code atual (token na URL)",
)
def qr_code_token(request, instance_id: UUID, token: str):
    return _qr(_instance(request, instance_id, token))


@api.get(
    f"{IN_PATH}/qr-code/image",
    response={**ERRORS},
    tags=["Token na URL"],
    summary="QR Code em PNG (token na URL)",
)
def qr_code_image_token(request, instance_id: UUID, token: str):
    return _qr_image(_instance(request, instance_id, token))


@api.get(
    f"{IN_PATH}/phone-code/{{phone}}",
    response={200: PairingOut, **ERRORS},
    tags=["Token na URL"],
    summary="Código de pareamento (token na URL)",
)
def phone_code_token(request, instance_id: UUID, token: str, phone: str):
    return _pair(_instance(request, instance_id, token), phone)


@api.post(
    f"{IN_PATH}/disconnect",
    response={200: StatusOut, **ERRORS},
    tags=["Token na URL"],
    summary="Desconectar (token na URL)",
)
def disconnect_token(request, instance_id: UUID, token: str):
    return _disconnect(_instance(request, instance_id, token))


@api.post(
    f"{IN_PATH}/send-text",
    response={202: MessageOut, **ERRORS},
    tags=["Token na URL"],
    summary="Enviar texto (token na URL)",
)
def send_text_token(request, instance_id: UUID, token: str, body: SendIn):
    return _send(_instance(request, instance_id, token), body)


@api.get(
    f"{IN_PATH}/messages/{{message_id}}",
    response={200: MessageOut, **ERRORS},
    tags=["Token na URL"],
    summary="Status de uma mensagem (token na URL)",
)
def message_status_token(request, instance_id: UUID, token: str, message_id: UUID):
    return _message_get(_instance(request, instance_id, token), message_id)


# The exclusion list.


class ExclusionIn(Schema):
    phone: str
    reason: str = ""


class ExclusionOut(Schema):
    phone: str
    reason: str
    source: str
    created_at: datetime


def _exclusions(instance: Instance) -> list[dict]:
    return [
        {
            "phone": e.phone,
            "reason": e.reason,
            "source": e.source,
            "created_at": e.created_at,
        }
        for e in selectors.exclusions_for_instance(instance)[:5000]
    ]


def _exclusion_add(instance: Instance, body: ExclusionIn) -> Status:
    try:
        entry, created = health.exclusion_add(
            instance=instance,
            phone=body.phone,
            reason=body.reason,
            source=ExclusionSource.API,
        )
    except ValidationError as error:
        raise ApiError(
            422, "invalid_phone", _("Número de telefone inválido.")
        ) from error
    out = {
        "phone": entry.phone,
        "reason": entry.reason,
        "source": entry.source,
        "created_at": entry.created_at,
    }
    return Status(201 if created else 200, out)


def _exclusion_remove(instance: Instance, phone: str) -> Status:
    try:
        e164 = phone_to_e164(phone)
    except ValidationError as error:
        raise ApiError(
            422, "invalid_phone", _("Número de telefone inválido.")
        ) from error
    entry = selectors.exclusions_for_instance(instance).filter(phone=e164).first()
    if entry is None:
        raise ApiError(
            404, "not_excluded", _("Este número não está na lista de exclusão.")
        )
    health.exclusion_remove(instance=instance, entry_id=entry.pk)
    return Status(204, None)


@api.get(
    f"{BEARER}/exclusions",
    response={200: list[ExclusionOut], **ERRORS},
    tags=["Lista de exclusão"],
    summary="Ler a lista de exclusão",
)
def exclusions(request, instance_id: UUID):
    return _exclusions(_instance(request, instance_id, None))


@api.post(
    f"{BEARER}/exclusions",
    response={200: ExclusionOut, 201: ExclusionOut, **ERRORS},
    tags=["Lista de exclusão"],
    summary="Adicionar à lista de exclusão",
)
def exclusion_add(request, instance_id: UUID, body: ExclusionIn):
    return _exclusion_add(_instance(request, instance_id, None), body)


@api.delete(
    f"{BEARER}/exclusions/{{phone}}",
    response={204: None, **ERRORS},
    tags=["Lista de exclusão"],
    summary="Remover da lista de exclusão",
)
def exclusion_remove(request, instance_id: UUID, phone: str):
    return _exclusion_remove(_instance(request, instance_id, None), phone)


@api.get(
    f"{IN_PATH}/exclusions",
    response={200: list[ExclusionOut], **ERRORS},
    tags=["Token na URL"],
    summary="Ler a lista de exclusão (token na URL)",
)
def exclusions_token(request, instance_id: UUID, token: str):
    return _exclusions(_instance(request, instance_id, token))


@api.post(
    f"{IN_PATH}/exclusions",
    response={200: ExclusionOut, 201: ExclusionOut, **ERRORS},
    tags=["Token na URL"],
    summary="Adicionar à lista de exclusão (token na URL)",
)
def exclusion_add_token(request, instance_id: UUID, token: str, body: ExclusionIn):
    return _exclusion_add(_instance(request, instance_id, token), body)


@api.delete(
    f"{IN_PATH}/exclusions/{{phone}}",
    response={204: None, **ERRORS},
    tags=["Token na URL"],
    summary="Remover da lista de exclusão (token na URL)",
)
def exclusion_remove_token(request, instance_id: UUID, token: str, phone: str):
    return _exclusion_remove(_instance(request, instance_id, token), phone)
