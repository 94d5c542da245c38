"""The instance's own actions: state, QR code, pairing code, disconnect,
restart, device, profile and whether a number has WhatsApp."""

import base64
import io
import logging
from datetime import datetime
from uuid import UUID

import qrcode
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema

from instances import services
from instances.api.core import (
    ApiError,
    PhonePath,
    Shape,
    action,
    invalid_phone,
    is_token_route,
)
from instances.engines.base import (
    Device,
    EngineError,
    EngineUnavailable,
    engine_error_detail,
    engine_error_text,
)
from instances.models import Instance, InstanceState
from instances.phones import phone_to_e164
from instances.qr import qr_svg

TAG = "Instância"
logger = logging.getLogger(__name__)


def engine_unavailable(error: Exception) -> ApiError:
    return ApiError(
        503, "engine_unavailable", _("Serviço do WhatsApp indisponível, tente de novo.")
    )


def engine_call(call, *args, **kwargs):
    """Call the engine for an action of the API, in the API's errors."""
    try:
        return call(*args, **kwargs)
    except EngineUnavailable as error:
        raise engine_unavailable(error) from error
    except EngineError as error:
        logger.info("engine refused %s: %s", call.__name__, engine_error_detail(error))
        raise ApiError(409, "engine_refused", engine_error_text(error)) from error


def must_be_connected(instance: Instance) -> None:
    if instance.state != InstanceState.CONNECTED:
        raise ApiError(
            409,
            "instance_not_connected",
            _("A instância não está conectada ao WhatsApp."),
        )


# Answers.


class StatusOut(Schema):
    id: UUID
    name: str
    state: str
    state_label: str
    phone: str | None
    connected: bool
    trial_ends_at: datetime


class ZapiStatusOut(Schema):
    connected: bool
    error: str
    smartphoneConnected: bool  # noqa: N815 - Z-API's field name


class QrOut(Schema):
    state: str
    qr_code: str | None
    qr_svg_base64: str | None
    qr_png_base64: str | None
    pairing_code: str | None
    expires_at: datetime | None


class ValueOut(Schema):
    value: str | None = None
    connected: bool | None = None


class PairingOut(Schema):
    pairing_code: str
    expires_at: datetime | None


class ZapiPairingOut(Schema):
    value: str
    code: str


class DoneOut(Schema):
    value: bool


class PhoneExistsOut(Schema):
    exists: bool
    phone: str
    lid: str | None


class DeviceInfo(Schema):
    sessionName: str  # noqa: N815
    device_model: str


class ZapiDeviceOut(Schema):
    phone: str
    imgUrl: str | None  # noqa: N815
    about: str
    name: str
    device: DeviceInfo
    originalDevice: str  # noqa: N815
    sessionId: int  # noqa: N815
    isBusiness: bool  # noqa: N815


class DeviceOut(Schema):
    phone: str
    name: str
    about: str
    picture_url: str | None
    device_model: str
    platform: str
    is_business: bool


def status_native(instance: Instance) -> dict:
    return {
        "id": instance.pk,
        "name": instance.name,
        "state": instance.state,
        "state_label": str(instance.get_state_display()),
        "phone": instance.phone_number or None,
        "connected": instance.is_connected,
        "trial_ends_at": instance.trial_ends_at,
    }


# The error strings Z-API's status documents.
ZAPI_CONNECTED = "You are already connected."
ZAPI_NOT_CONNECTED = "You are not connected."


def status_zapi(instance: Instance) -> dict:
    connected = instance.is_connected
    return {
        "connected": connected,
        "error": ZAPI_CONNECTED if connected else ZAPI_NOT_CONNECTED,
        "smartphoneConnected": connected,
    }


def qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(code).save(buffer)
    return buffer.getvalue()


def _code(instance: Instance) -> str:
    return instance.qr_code if instance.awaiting_scan else ""


def qr_native(instance: Instance) -> dict:
    code = _code(instance)
    return {
        "state": instance.state,
        "qr_code": code or None,
        "qr_svg_base64": base64.b64encode(str(qr_svg(code)).encode()).decode()
        if code
        else None,
        "qr_png_base64": base64.b64encode(qr_png(code)).decode() if code else None,
        "pairing_code": instance.pairing_code or None,
        "expires_at": instance.qr_expires_at,
    }


def qr_zapi(instance: Instance) -> dict:
    if instance.is_connected:
        return {"value": None, "connected": True}
    code = _code(instance)
    if not code:
        raise ApiError(
            404, "no_qr_code", _("Não há QR Code pendente para esta instância.")
        )
    png = base64.b64encode(qr_png(code)).decode()
    return {"value": f"data:image/png;base64,{png}"}


def qr_image_native(instance: Instance) -> HttpResponse:
    code = _code(instance)
    if not code:
        raise ApiError(
            404, "no_qr_code", _("Não há QR Code pendente para esta instância.")
        )
    return HttpResponse(qr_png(code), content_type="image/png")


def done(_result) -> dict:
    return {"value": True}


def device_zapi(device: Device) -> dict:
    return {
        "phone": device.phone.lstrip("+"),
        "imgUrl": device.picture_url or None,
        "about": device.about,
        "name": device.name,
        "device": {"sessionName": "PlugMessage", "device_model": device.device_model},
        "originalDevice": device.platform or "android",
        "sessionId": 0,
        "isBusiness": device.is_business,
    }


def device_native(device: Device) -> dict:
    return {
        "phone": device.phone,
        "name": device.name,
        "about": device.about,
        "picture_url": device.picture_url or None,
        "device_model": device.device_model,
        "platform": device.platform,
        "is_business": device.is_business,
    }


def same(result):
    return result


# Actions.


@action(
    "/status",
    summary="Estado da instância",
    tag=TAG,
    native=Shape(("GET",), {200: StatusOut}, status_native),
    zapi=Shape(("GET",), {200: ZapiStatusOut}, status_zapi),
)
def status(request: HttpRequest, instance: Instance):
    """Se a instância está conectada ao WhatsApp."""
    return instance


def _qr_ready(instance: Instance) -> Instance:
    """Z-API's clients ask for the QR code to connect: one that is not
    connected nor waiting starts a connection, as the panel's button does."""
    if instance.is_connected or instance.awaiting_scan:
        return instance
    try:
        services.instance_connect(instance=instance, actor_kind="customer")
    except services.InstanceError as error:
        raise ApiError(409, "cannot_connect", str(error)) from error
    except EngineError as error:
        raise engine_unavailable(error) from error
    instance.refresh_from_db()
    return instance


@action(
    "/qr-code",
    summary="QR Code atual",
    tag=TAG,
    native=Shape(("GET",), {200: QrOut}, qr_native),
    zapi=Shape(("GET",), {200: ValueOut}, qr_zapi),
)
def qr_code(request: HttpRequest, instance: Instance):
    """O QR Code a ler no WhatsApp. Na rota com token no caminho, uma
    instância desconectada começa a conexão, como o botão do painel."""
    return _qr_ready(instance) if is_token_route(request) else instance


@action(
    "/qr-code/image",
    summary="QR Code em imagem",
    tag=TAG,
    native=Shape(
        ("GET",),
        {},
        qr_image_native,
        openapi={
            "responses": {
                200: {
                    "description": "O QR Code em PNG",
                    "content": {
                        "image/png": {"schema": {"type": "string", "format": "binary"}}
                    },
                }
            }
        },
    ),
    zapi=Shape(("GET",), {200: ValueOut}, qr_zapi),
)
def qr_code_image(request: HttpRequest, instance: Instance):
    """O QR Code em PNG (Bearer: a imagem; token no caminho: {value} com a
    imagem em data URI base64)."""
    return _qr_ready(instance) if is_token_route(request) else instance


def pairing_native(instance: Instance) -> dict:
    return {"pairing_code": instance.pairing_code, "expires_at": instance.qr_expires_at}


def pairing_zapi(instance: Instance) -> dict:
    return {"value": instance.pairing_code, "code": instance.pairing_code}


@action(
    "/phone-code/{phone}",
    summary="Código de pareamento",
    tag=TAG,
    native=Shape(("GET",), {200: PairingOut}, pairing_native),
    zapi=Shape(("GET",), {200: ZapiPairingOut}, pairing_zapi),
)
def phone_code(request: HttpRequest, instance: Instance, phone: PhonePath):
    """Um código de 8 letras para conectar digitando-o no WhatsApp do número
    `phone`, em vez de ler o QR Code."""
    try:
        services.instance_connect(
            instance=instance, actor_kind="customer", phone_number=phone
        )
    except services.InstanceError as error:
        raise ApiError(409, "cannot_connect", str(error)) from error
    except EngineError as error:
        raise engine_unavailable(error) from error
    except ValidationError as error:
        raise invalid_phone() from error
    instance.refresh_from_db()
    if not instance.pairing_code:
        raise ApiError(
            503,
            "pairing_code_unavailable",
            _("O WhatsApp não gerou o código agora. Tente de novo em instantes."),
        )
    return instance


@action(
    "/disconnect",
    summary="Desconectar",
    tag=TAG,
    native=Shape(("POST",), {200: StatusOut}, status_native),
    zapi=Shape(("GET", "POST"), {200: DoneOut}, done),
)
def disconnect(request: HttpRequest, instance: Instance):
    """Encerra a sessão do WhatsApp do número (como "Desconectar" no painel)."""
    try:
        services.instance_disconnect(instance=instance, actor_kind="customer")
    except services.InstanceError as error:
        raise ApiError(409, "instance_not_connected", str(error)) from error
    except EngineError as error:
        raise engine_unavailable(error) from error
    instance.refresh_from_db()
    return instance


@action(
    "/restart",
    summary="Reiniciar a conexão",
    tag=TAG,
    native=Shape(("POST",), {200: StatusOut}, status_native),
    zapi=Shape(("GET", "POST"), {200: DoneOut}, done),
)
def restart(request: HttpRequest, instance: Instance):
    """Reinicia a conexão com o WhatsApp sem desconectar o número."""
    must_be_connected(instance)
    engine_call(services.instance_restart, instance=instance)
    return instance


@action(
    "/device",
    summary="Dados do aparelho",
    tag=TAG,
    native=Shape(("GET",), {200: DeviceOut}, device_native),
    zapi=Shape(("GET",), {200: ZapiDeviceOut}, device_zapi),
)
def device(request: HttpRequest, instance: Instance):
    """O número conectado, seu nome, recado e foto no WhatsApp."""
    must_be_connected(instance)
    return engine_call(services.instance_device, instance=instance)


def exists_out(result: tuple[str, bool, str]) -> dict:
    phone, exists, lid = result
    return {"exists": exists, "phone": phone, "lid": lid or None}


@action(
    "/phone-exists/{phone}",
    summary="O número tem WhatsApp?",
    tag=TAG,
    native=Shape(("GET",), {200: PhoneExistsOut}, exists_out),
    zapi=Shape(("GET",), {200: PhoneExistsOut}, exists_out),
)
def phone_exists(request: HttpRequest, instance: Instance, phone: PhonePath):
    """Se o número `phone` (DDI + DDD + número) tem conta no WhatsApp."""
    must_be_connected(instance)
    try:
        e164 = phone_to_e164(phone)
    except ValidationError as error:
        raise invalid_phone() from error
    exists, lid = engine_call(services.phone_exists, instance=instance, phone=e164)
    return e164.lstrip("+"), exists, lid


class ValueIn(Schema):
    value: str


def profile_done(_instance) -> dict:
    return {"value": True}


@action(
    "/profile-name",
    summary="Nome do perfil",
    tag="Perfil",
    native=Shape(("PUT",), {200: DoneOut}, profile_done),
    zapi=Shape(("PUT",), {200: DoneOut}, profile_done),
)
def profile_name(request: HttpRequest, instance: Instance, body: ValueIn):
    """Muda o nome do número no WhatsApp (até 25 caracteres)."""
    return _profile(instance, name=body.value)


@action(
    "/profile-description",
    summary="Recado do perfil",
    tag="Perfil",
    native=Shape(("PUT",), {200: DoneOut}, profile_done),
    zapi=Shape(("PUT",), {200: DoneOut}, profile_done),
)
def profile_description(request: HttpRequest, instance: Instance, body: ValueIn):
    """Muda o recado ("sobre") do número no WhatsApp (até 139 caracteres)."""
    return _profile(instance, about=body.value)


@action(
    "/profile-picture",
    summary="Foto do perfil",
    tag="Perfil",
    native=Shape(("PUT",), {200: DoneOut}, profile_done),
    zapi=Shape(("PUT",), {200: DoneOut}, profile_done),
)
def profile_picture(request: HttpRequest, instance: Instance, body: ValueIn):
    """Muda a foto do número: `value` é a URL pública da imagem ou um data
    URI em base64 (JPEG ou PNG, até 5 MB)."""
    return _profile(instance, picture=body.value)


def _profile(instance: Instance, **changes) -> Instance:
    must_be_connected(instance)
    try:
        return engine_call(
            services.instance_profile_update, instance=instance, **changes
        )
    except services.ProfileRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message) from refused
