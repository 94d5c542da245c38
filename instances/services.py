"""Every change to instances. Views, tasks and the admin call these."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from instances import lifecycle
from instances.engines import engine_get
from instances.engines.base import (
    FIRST_CODE_LIFETIME,
    NEXT_CODE_LIFETIME,
    EngineError,
    EngineEvent,
    EngineSession,
)
from instances.models import ActorKind, Instance, InstanceState, token_generate
from instances.phones import phone_display, phone_to_e164
from instances.poll_cache import poll_state_forget

logger = logging.getLogger(__name__)

S = InstanceState
# A pending QR this long past its expiry, with no word from the engine, is given up.
QR_GRACE = timedelta(seconds=60)
NO_QR_TIMEOUT = timedelta(seconds=90)
_CLEARED_QR = {
    "qr_code": "",
    "qr_expires_at": None,
    "pairing_code": "",
    "pairing_phone": "",
}


def _gave_up() -> dict:
    return {
        **_CLEARED_QR,
        "connect_error": _(
            "O QR Code expirou sem ser lido. Gere um novo para tentar de novo."
        ),
    }


class InstanceError(Exception):
    """A request about an instance that cannot be done; the message is for the
    customer, in Portuguese."""


def _code_expiry(*, first: bool, code) -> datetime | None:
    """When an engine does not say how long a code lives, assume WhatsApp's
    rhythm: a minute for the first code, 20 s for each next one."""
    if not (code.qr_code or code.pairing_code):
        return None
    return timezone.now() + (FIRST_CODE_LIFETIME if first else NEXT_CODE_LIFETIME)


def _session(instance: Instance) -> EngineSession:
    return EngineSession(
        engine_ref=instance.engine_ref, engine_token=instance.engine_token
    )


@transaction.atomic
def instance_create(*, owner: User, name: str) -> Instance:
    """Create an instance in "Criada" with its 2-day trial and its first
    event. Atomic. Connecting is a separate step (instance_connect)."""
    instance = Instance.objects.create(owner=owner, name=name.strip())
    lifecycle.instance_record_creation(
        instance=instance, actor_kind=ActorKind.CUSTOMER, actor=owner
    )
    return instance


def instance_connect(
    *,
    instance: Instance,
    actor_kind: str,
    actor: User | None = None,
    phone_number: str = "",
) -> Instance:
    """Ask the engine for a new QR code (or, given `phone_number`, a pairing
    code) and move the instance to "Aguardando leitura".

    The engine is called before anything is written, so when it is unavailable
    (EngineUnavailable) the instance is left as it was. Raises InstanceError for
    a connected instance or one whose state does not allow connecting, and
    ValidationError for an invalid phone number.
    """
    if instance.state == S.CONNECTED:
        raise InstanceError(_("Esta instância já está conectada."))
    if instance.state != S.WAITING_SCAN and not lifecycle.can_transition(
        instance, S.WAITING_SCAN
    ):
        raise InstanceError(_("Esta instância não pode ser conectada agora."))
    e164 = phone_to_e164(phone_number) if phone_number else ""
    started = engine_get().session_start(
        _session(instance), phone_number=e164.lstrip("+")
    )
    changes = {
        "qr_code": started.qr_code,
        "qr_expires_at": started.expires_at or _code_expiry(first=True, code=started),
        "pairing_code": started.pairing_code,
        "pairing_phone": e164,
        "connect_error": "",
    }
    if started.engine_token:
        changes["engine_token"] = started.engine_token
    with transaction.atomic():
        current = Instance.objects.select_for_update().get(pk=instance.pk)
        if current.state == S.WAITING_SCAN:
            Instance.objects.filter(pk=instance.pk).update(
                **changes, updated_at=timezone.now()
            )
            instance.__dict__.update(changes)
            return instance
        return lifecycle.transition(
            instance=instance,
            to_state=S.WAITING_SCAN,
            cause=_("Conexão solicitada (código de pareamento)")
            if e164
            else _("Conexão solicitada (QR Code)"),
            actor_kind=actor_kind,
            actor=actor,
            **changes,
        )


def instance_disconnect(
    *, instance: Instance, actor_kind: str, actor: User | None = None
) -> Instance:
    """Log the engine session out and move the instance to "Desconectado".
    The engine is called first: if it is unavailable the instance is unchanged.
    Raises InstanceError when the instance is not connected or waiting."""
    if instance.state not in (S.CONNECTED, S.WAITING_SCAN):
        raise InstanceError(_("Esta instância não está conectada."))
    engine_get().session_logout(_session(instance))
    return lifecycle.transition(
        instance=instance,
        to_state=S.DISCONNECTED,
        cause=_("Desconectada pelo cliente")
        if actor_kind == ActorKind.CUSTOMER
        else _("Desconectada pela equipe")
        if actor_kind == ActorKind.STAFF
        else _("Desconectada"),
        actor_kind=actor_kind,
        actor=actor,
        **_CLEARED_QR,
    )


def instance_update(*, instance: Instance, name: str) -> Instance:
    """Change what the customer may edit in "Dados da Instância"."""
    instance.name = name.strip()
    instance.save(update_fields=["name", "updated_at"])
    return instance


def instance_token_regenerate(*, instance: Instance) -> Instance:
    """Give the instance a new API token; the old one stops working at once
    (every request looks the token up in the database)."""
    instance.token = token_generate()
    instance.save(update_fields=["token", "updated_at"])
    return instance


def instance_delete(*, instance: Instance) -> None:
    """Delete the instance and its session at the engine. The engine is asked
    first; if it is unavailable nothing is deleted (EngineUnavailable)."""
    engine_get().session_delete(_session(instance))
    poll_state_forget(instance.pk)
    instance.delete()


# What the engine reports.


def engine_events_apply(events: list[EngineEvent]) -> None:
    """Apply what an engine reported (from its webhook or its tick). Events
    for unknown sessions are ignored; each event is applied on its own, so one
    that fails does not stop the others."""
    for event in events:
        instance = Instance.objects.filter(engine_ref=event.engine_ref).first()
        if instance is None:
            logger.info("engine event for unknown session %s", event.engine_ref)
            continue
        try:
            _event_apply(instance, event)
        except lifecycle.TransitionNotAllowed as error:
            logger.info(
                "engine event %s ignored for %s: %s", event.kind, instance.pk, error
            )


def _event_apply(instance: Instance, event: EngineEvent) -> None:
    if event.kind in ("message_received", "message_status"):
        # Recorded by the messages API, which builds on instances; until it
        # exists the engines report these and nothing keeps them.
        logger.debug("message event %s for %s", event.kind, instance.pk)
    elif event.kind == "qr_updated":
        if instance.state == S.WAITING_SCAN:
            Instance.objects.filter(pk=instance.pk, state=S.WAITING_SCAN).update(
                qr_code=event.qr_code,
                qr_expires_at=event.expires_at
                or _code_expiry(first=not instance.qr_code, code=event),
                pairing_code=event.pairing_code or instance.pairing_code,
                updated_at=timezone.now(),
            )
            poll_state_forget(instance.pk)
    elif event.kind == "qr_gave_up":
        if instance.state == S.WAITING_SCAN:
            lifecycle.transition(
                instance=instance,
                to_state=S.DISCONNECTED,
                cause=_("O QR Code expirou sem ser lido"),
                actor_kind=ActorKind.ENGINE,
                **_gave_up(),
            )
    elif event.kind == "connected":
        instance_connection_open(instance=instance, phone_number=event.phone_number)
    elif event.kind == "disconnected" and instance.state in (
        S.CONNECTED,
        S.WAITING_SCAN,
    ):
        lifecycle.transition(
            instance=instance,
            to_state=S.DISCONNECTED,
            cause=event.reason or _("O WhatsApp encerrou a sessão"),
            actor_kind=ActorKind.ENGINE,
            **_CLEARED_QR,
        )


def instance_connection_open(*, instance: Instance, phone_number: str) -> Instance:
    """The engine reports the session open on `phone_number`. The instance
    becomes "Conectado" with that number, unless the number is live on another
    instance (rule 2): then the partial unique index refuses it, the engine
    session is logged out, the page says why, and state and number stay as they
    were. Safe under concurrency: of two instances connecting the same number
    at once, exactly one wins."""
    e164 = phone_to_e164(phone_number)
    if instance.state == S.CONNECTED and instance.phone_number == e164:
        return instance
    try:
        return lifecycle.transition(
            instance=instance,
            to_state=S.CONNECTED,
            cause=_("QR Code lido: conectado ao número %(number)s")
            % {"number": phone_display(e164)},
            actor_kind=ActorKind.ENGINE,
            phone_number=e164,
            connected_at=timezone.now(),
            connect_error="",
            **_CLEARED_QR,
        )
    except IntegrityError:
        logger.info("number %s refused for %s: live elsewhere", e164, instance.pk)
    try:
        engine_get().session_logout(_session(instance))
    except EngineError:
        logger.warning("could not log out refused session %s", instance.engine_ref)
    message = _(
        "O número %(number)s já está conectado em outra instância da PlugMessage. "
        "Desconecte-o de lá antes de conectá-lo aqui."
    ) % {"number": phone_display(e164)}
    Instance.objects.filter(pk=instance.pk).update(
        connect_error=message, updated_at=timezone.now(), **_CLEARED_QR
    )
    poll_state_forget(instance.pk)
    instance.connect_error = message
    instance.__dict__.update(_CLEARED_QR)
    return instance


def instances_waiting_sweep() -> int:
    """Give up on instances left "Aguardando leitura" whose QR expired long ago
    without word from the engine (a lost event, an engine that never answered).
    Returns how many were moved. Idempotent."""
    now = timezone.now()
    waiting = Instance.objects.filter(state=S.WAITING_SCAN)
    stale = waiting.filter(
        Q(qr_expires_at__lt=now - QR_GRACE)
        | Q(qr_expires_at__isnull=True, updated_at__lt=now - NO_QR_TIMEOUT)
    )
    moved = 0
    for instance in stale:
        try:
            lifecycle.transition(
                instance=instance,
                to_state=S.DISCONNECTED,
                cause=_("O QR Code expirou sem ser lido"),
                actor_kind=ActorKind.SYSTEM,
                **_gave_up(),
            )
        except lifecycle.TransitionNotAllowed:
            continue
        moved += 1
    return moved


def engine_tick() -> None:
    """Beat's periodic step: let the engine report what changed (the simulator
    rotates its QR codes here), then sweep instances left waiting."""
    engine_events_apply(engine_get().tick())
    instances_waiting_sweep()
