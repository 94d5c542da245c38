"""The instance's exclusion list, on both route shapes."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema, Status

from instances import health, selectors
from instances.api.core import ApiError, PhoneField, Shape, action, invalid_phone
from instances.models import ExclusionEntry, ExclusionSource, Instance
from instances.phones import phone_to_e164

TAG = "Lista de exclusão"


class ExclusionIn(Schema):
    phone: PhoneField
    reason: str = ""


class ExclusionOut(Schema):
    phone: str
    reason: str
    source: str
    created_at: datetime


def _entry(entry: ExclusionEntry) -> dict:
    return {
        "phone": entry.phone,
        "reason": entry.reason,
        "source": entry.source,
        "created_at": entry.created_at,
    }


def entries_out(entries) -> list[dict]:
    return [_entry(e) for e in entries]


def added_out(result: tuple[ExclusionEntry, bool]) -> Status:
    entry, created = result
    return Status(201 if created else 200, _entry(entry))


def removed_out(_result) -> Status:
    return Status(204, None)


LIST = Shape(("GET",), {200: list[ExclusionOut]}, entries_out)
ADD = Shape(("POST",), {200: ExclusionOut, 201: ExclusionOut}, added_out)
REMOVE = Shape(("DELETE",), {204: None}, removed_out)


@action(
    "/exclusions", summary="Ler a lista de exclusão", tag=TAG, native=LIST, zapi=LIST
)
def exclusions(request: HttpRequest, instance: Instance):
    """Os números que não recebem mensagens desta instância (até 5000)."""
    return selectors.exclusions_for_instance(instance)[:5000]


@action(
    "/exclusions",
    summary="Adicionar à lista de exclusão",
    tag=TAG,
    native=ADD,
    zapi=ADD,
)
def exclusion_add(request: HttpRequest, instance: Instance, body: ExclusionIn):
    """Põe um número na lista de exclusão: a API deixa de enviar para ele."""
    try:
        return health.exclusion_add(
            instance=instance,
            phone=str(body.phone),
            reason=body.reason,
            source=ExclusionSource.API,
        )
    except ValidationError as error:
        raise invalid_phone() from error


@action(
    "/exclusions/{phone}",
    summary="Remover da lista de exclusão",
    tag=TAG,
    native=REMOVE,
    zapi=REMOVE,
)
def exclusion_remove(request: HttpRequest, instance: Instance, phone: str):
    """Tira um número da lista de exclusão."""
    try:
        e164 = phone_to_e164(phone)
    except ValidationError as error:
        raise invalid_phone() from error
    entry = selectors.exclusions_for_instance(instance).filter(phone=e164).first()
    if entry is None:
        raise ApiError(
            404, "not_excluded", _("Este número não está na lista de exclusão.")
        )
    return health.exclusion_remove(instance=instance, entry_id=entry.pk)
