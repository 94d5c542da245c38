"""Every change to instances. Views, tasks and the admin call these."""

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record_create
from instances import health, inbound, lifecycle, logouts, media, messaging
from instances.engines import engine_get, session_of
from instances.engines.base import (
    FIRST_CODE_LIFETIME,
    NEXT_CODE_LIFETIME,
    EngineEvent,
    EngineRefused,
)
from instances.models import (
    ActorKind,
    Instance,
    InstanceState,
    MessageKind,
    ReceivedMessage,
    SimulatedMessage,
    token_generate,
)
from instances.phones import phone_display, phone_from_engine, phone_to_e164
from instances.poll_cache import poll_state_forget
from plugmessage.broker import task_after_commit
from plugmessage.locks import lock_one, lock_rows
from webhooks.services import FetchFailed, event_emit, url_fetch

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
    if not messaging.instance_may_work(instance):
        raise _may_not_connect(instance.state)
    if instance.state != S.WAITING_SCAN and not lifecycle.can_transition(
        instance, S.WAITING_SCAN
    ):
        raise InstanceError(_("Esta instância não pode ser conectada agora."))
    e164 = phone_to_e164(phone_number) if phone_number else ""
    if (
        e164
        and Instance.objects.filter(phone_number=e164, state=S.CONNECTED)
        .exclude(pk=instance.pk)
        .exists()
    ):
        # Refused before a code is issued: the phone would only refuse later.
        raise InstanceError(_number_live_elsewhere(e164))
    if not logouts.logout_pending_finish(instance):
        raise InstanceError(
            _(
                "A sessão anterior ainda está sendo encerrada. Tente de novo em instantes."
            )
        )
    started = engine_get().session_start(
        session_of(instance), phone_number=e164.lstrip("+")
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
    try:
        return _waiting_with_code(
            instance, changes, actor_kind, actor, pairing=bool(e164)
        )
    except _NoLongerWorking as error:
        # The trial ended (or the subscription was cancelled) while the
        # engine answered: the session it just opened is closed again.
        logouts.logout_or_retry(instance)
        raise _may_not_connect(error.args[0]) from None
    except lifecycle.TransitionNotAllowed as error:
        # The phone connected (or the state moved) while the engine answered.
        raise InstanceError(
            _("A instância mudou de estado. Recarregue a página.")
        ) from error


def _may_not_connect(state: str) -> InstanceError:
    """Why an instance that may not work cannot connect, for the customer."""
    if state == S.CANCELLED:
        return InstanceError(
            _(
                "A assinatura desta instância foi cancelada. Assine de novo para conectá-la."
            )
        )
    return InstanceError(
        _("O teste grátis desta instância terminou. Assine para conectá-la.")
    )


class _NoLongerWorking(Exception):
    """The instance may no longer work; `args[0]` is the state it is in."""


def _waiting_with_code(
    instance, changes, actor_kind, actor, *, pairing: bool
) -> Instance:
    with transaction.atomic():
        current = lock_one(Instance, pk=instance.pk)
        # Checked again under the lock: the expiry task may have run while
        # the engine answered.
        if not messaging.instance_may_work(current):
            raise _NoLongerWorking(current.state)
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
            if pairing
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
    engine_get().session_logout(session_of(instance))
    try:
        return _disconnected(instance, actor_kind, actor)
    except lifecycle.TransitionNotAllowed as error:
        raise InstanceError(
            _("A instância mudou de estado. Recarregue a página.")
        ) from error


def _disconnected(instance: Instance, actor_kind: str, actor: User | None) -> Instance:
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


def instance_update(
    *,
    instance: Instance,
    name: str,
    opt_out_words: str | None = None,
    opt_out_reply: str | None = None,
    number_activated_at=None,
) -> Instance:
    """Change what the customer may edit in "Dados da Instância"."""
    instance.name = name.strip()
    fields = ["name", "updated_at"]
    if opt_out_words is not None:
        instance.opt_out_words = ", ".join(
            word.strip().upper() for word in opt_out_words.split(",") if word.strip()
        )
        instance.opt_out_reply = (opt_out_reply or "").strip()
        instance.number_activated_at = number_activated_at
        fields += ["opt_out_words", "opt_out_reply", "number_activated_at"]
    instance.save(update_fields=fields)
    return instance


def instance_token_regenerate(*, instance: Instance) -> Instance:
    """Give the instance a new API token; the old one stops working at once
    (every request looks the token up in the database)."""
    instance.token = token_generate()
    instance.save(update_fields=["token", "updated_at"])
    return instance


def instance_delete(*, instance: Instance) -> None:
    """Delete the instance and its session at the engine. The engine is asked
    first; if it is unavailable nothing is deleted (EngineUnavailable). A
    subscribed instance is cancelled first (InstanceError), so the end of its
    billing is the customer's explicit choice."""
    if instance.subscribed_since is not None:
        raise InstanceError(
            _("Cancele a assinatura desta instância antes de excluí-la.")
        )
    engine_get().session_delete(session_of(instance))
    with transaction.atomic():
        # Re-read under the lock: "Assinar" may have committed meanwhile. The
        # customer asked to delete, so the deletion goes on, and billing
        # closes the period that subscription opened (billing.signals).
        current = Instance.objects.filter(pk=instance.pk)
        if lock_rows(current):
            current.delete()
    poll_state_forget(instance.pk)


# What the engine reports.


def engine_events_apply(events: list[EngineEvent]) -> list[str]:
    """Apply what an engine reported (from its webhook or its tick), in
    order. Events for unknown sessions are ignored; each event is applied on
    its own, so one that fails does not stop the others, except receipts
    that follow each other: those of one instance are applied together, in
    one transaction (a tick reports hundreds at once). Returns what failed,
    one line each (empty when all applied or were rightly ignored), for the
    caller that keeps the events to try again (instances.inbox)."""
    failures: list[str] = []
    receipts: list[EngineEvent] = []
    for event in events:
        if event.kind == "message_status":
            receipts.append(event)
            continue
        failures += _receipts_apply(receipts)
        receipts = []
        instance = Instance.objects.filter(engine_ref=event.engine_ref).first()
        if instance is None:
            logger.info("engine event for unknown session %s", event.engine_ref)
            continue
        failures += _event_apply_logged(instance, event)
    failures += _receipts_apply(receipts)
    return failures


def _failure(what: str, error: Exception) -> str:
    return f"{what}: {error.__class__.__name__}: {error}"[:500]


def _event_apply_logged(instance: Instance, event: EngineEvent) -> list[str]:
    try:
        _event_apply(instance, event)
    except lifecycle.TransitionNotAllowed as error:
        logger.info(
            "engine event %s ignored for %s: %s", event.kind, instance.pk, error
        )
    except Exception as error:
        # Logged with its traceback; the next events still apply.
        logger.exception("engine event %s failed for %s", event.kind, instance.pk)
        return [_failure(event.kind, error)]
    return []


def _receipts_apply(events: list[EngineEvent]) -> list[str]:
    """Receipts, grouped by instance: those of messages sent through the API
    move them forward (messaging.message_receipts_apply); the others are
    passed on as they came."""
    if not events:
        return []
    failures: list[str] = []
    instances = {
        instance.engine_ref: instance
        for instance in Instance.objects.filter(
            engine_ref__in={event.engine_ref for event in events}
        )
    }
    by_instance: dict[str, list[EngineEvent]] = {}
    for event in events:
        if event.engine_ref not in instances:
            logger.info("engine event for unknown session %s", event.engine_ref)
            continue
        by_instance.setdefault(event.engine_ref, []).append(event)
    for engine_ref, group in by_instance.items():
        instance = instances[engine_ref]
        if not messaging.instance_may_work(instance):
            logger.info("%d receipts dropped: %s may not work", len(group), instance.pk)
            continue
        try:
            unknown = messaging.message_receipts_apply(
                instance=instance,
                receipts=[
                    (event.extra.get("message_id", ""), event.extra.get("status", ""))
                    for event in group
                ],
            )
        except Exception as error:
            logger.exception("%d receipts failed for %s", len(group), instance.pk)
            failures.append(_failure(f"{len(group)} message_status", error))
            continue
        for event in group:
            if event.extra.get("message_id", "") in unknown or not event.extra.get(
                "message_id"
            ):
                failures += _event_apply_logged(instance, event)
    return failures


# What an expired or cancelled instance still hears from the engine: the end
# of its session. Everything else is dropped (rule 6).
_EVENTS_WHEN_NOT_WORKING = {"disconnected", "qr_gave_up"}


def _event_apply(instance: Instance, event: EngineEvent) -> None:
    if (
        not messaging.instance_may_work(instance)
        and event.kind not in _EVENTS_WHEN_NOT_WORKING
    ):
        logger.info("engine event %s dropped: %s may not work", event.kind, instance.pk)
        if event.kind == "connected":
            logouts.logout_or_retry(instance)
        return
    # A receipt reaches here only when its message was not sent through the
    # API (_receipts_apply): it is passed on as it came.
    if event.kind in _MESSAGE_EVENTS:
        _message_event_announce(instance, event)
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


_MESSAGE_EVENTS = {
    "message_received": "message.received",
    "message_status": "message.status",
    "chat_presence": "chat.presence",
}


@transaction.atomic
def _message_event_announce(instance: Instance, event: EngineEvent) -> None:
    """Pass what happened in a chat on to the customer's webhooks; a received
    message is stored first, once (see inbound.received_message_record)."""
    try:
        contact = phone_from_engine(event.phone_number)
    except ValidationError:
        logger.info("%s with an unreadable number for %s", event.kind, instance.pk)
        return
    if event.kind == "message_received":
        received, created = inbound.received_message_record(
            instance=instance, phone=contact, **inbound.fields_from_event(event.extra)
        )
        if not created:
            return  # a repeat of a message already announced
        # Only a typed message opts out: not a caption, not a reaction.
        opted_out = received.kind == MessageKind.TEXT and bool(
            health.opt_out_apply(instance=instance, phone=contact, text=received.text)
        )
        if opted_out:
            messaging.opt_out_reply_send(instance=instance, to=contact)
        data = inbound.received_message_event_data(received, opted_out=opted_out)
    elif event.kind == "message_status":
        data = {
            "message_id": event.extra.get("message_id", ""),
            "to": contact,
            "status": event.extra.get("status", ""),
        }
    else:
        data = {"chat": contact, "presence": event.extra.get("presence", "")}
    event_emit(instance=instance, kind=_MESSAGE_EVENTS[event.kind], data=data)


def instance_connection_open(*, instance: Instance, phone_number: str) -> Instance:
    """The engine reports the session open on `phone_number`. The instance
    becomes "Conectado" with that number, unless the number is live on another
    instance (rule 2): then the partial unique index refuses it, the engine
    session is logged out, the page says why, and state and number stay as they
    were. Safe under concurrency: of two instances connecting the same number
    at once, exactly one wins."""
    e164 = phone_from_engine(phone_number)
    if instance.state == S.CONNECTED and instance.phone_number == e164:
        return instance
    if instance.state != S.WAITING_SCAN:
        return _unexpected_session_close(instance, e164)
    try:
        return lifecycle.transition(
            instance=instance,
            to_state=S.CONNECTED,
            cause=_("QR Code lido: conectado ao número %(number)s")
            % {"number": phone_display(e164)},
            actor_kind=ActorKind.ENGINE,
            phone_number=e164,
            connected_at=timezone.now(),
            warmup_started_at=instance.warmup_started_at
            if instance.phone_number == e164 and instance.warmup_started_at
            else timezone.now(),
            connect_error="",
            **_CLEARED_QR,
        )
    except IntegrityError:
        logger.info("number %s refused for %s: live elsewhere", e164, instance.pk)
    logouts.logout_or_retry(instance)
    # Refused: "Desconectado" everywhere (badge, list, card), the reason on
    # the card and the attempt in Histórico.
    try:
        return lifecycle.transition(
            instance=instance,
            to_state=S.DISCONNECTED,
            cause=_(
                "Conexão recusada: o número %(number)s já está conectado em outra "
                "instância"
            )
            % {"number": phone_display(e164)},
            actor_kind=ActorKind.ENGINE,
            connect_error=_number_live_elsewhere(e164),
            **_CLEARED_QR,
        )
    except lifecycle.TransitionNotAllowed:
        return instance  # the state moved meanwhile (given up, expired)


def _number_live_elsewhere(e164: str) -> str:
    return _(
        "O número %(number)s já está conectado em outra instância da PlugMessage. "
        "Desconecte-o de lá antes de conectá-lo aqui."
    ) % {"number": phone_display(e164)}


def _unexpected_session_close(instance: Instance, e164: str) -> Instance:
    """The engine opened a session PlugMessage was not waiting for (after a
    give-up, or on another number than the one connected): close it, so that
    no number is live without the panel knowing."""
    logouts.logout_or_retry(instance)
    if instance.state == S.CONNECTED:
        return lifecycle.transition(
            instance=instance,
            to_state=S.DISCONNECTED,
            cause=_(
                "O WhatsApp conectou outro número (%(number)s); a sessão foi encerrada"
            )
            % {"number": phone_display(e164)},
            actor_kind=ActorKind.SYSTEM,
            **_CLEARED_QR,
        )
    logger.info("closed an unexpected session of %s (%s)", instance.pk, instance.state)
    return instance


def instances_waiting_sweep() -> int:
    """Give up on instances left "Aguardando leitura" whose QR expired long ago
    without word from the engine (a lost event, an engine that never answered).
    Returns how many were moved. Idempotent."""
    now = timezone.now()
    # A refused scan stays waiting with its reason on screen: not stale.
    waiting = Instance.objects.filter(state=S.WAITING_SCAN, connect_error="")
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
        logouts.logout_or_retry(instance)
        moved += 1
    return moved


def instances_trial_expire() -> int:
    """Beat: close the engine session of every instance whose trial ended
    without a subscription, move it to "Expirado" and email its owner.
    Idempotent; an instance subscribed meanwhile is left alone (the
    transition re-reads the row under lock). Returns how many expired."""
    ended = Instance.objects.filter(
        subscribed_since__isnull=True, trial_ends_at__lte=timezone.now()
    ).exclude(state__in=[S.EXPIRED, S.CANCELLED])
    expired = 0
    for instance in ended:
        with transaction.atomic():
            current = lock_one(Instance, pk=instance.pk)
            if current.subscribed_since is not None or current.state in (
                S.EXPIRED,
                S.CANCELLED,
            ):
                continue
            had_session = current.state in (S.CONNECTED, S.WAITING_SCAN)
            lifecycle.transition(
                instance=current,
                to_state=S.EXPIRED,
                cause=_("O teste grátis terminou"),
                actor_kind=ActorKind.SYSTEM,
                **_CLEARED_QR,
            )
            task_after_commit(
                "trial-expired email",
                "instances.tasks.instance_trial_expired_email_task",
                str(instance.pk),
            )
        # Only once it is "Expirado": a subscription that came first keeps
        # its session, one that comes after finds the session closed.
        if had_session:
            logouts.logout_or_retry(current)
        expired += 1
    return expired


@transaction.atomic
def instance_subscription_begin(
    *, instance: Instance, actor_kind: str, actor: User | None = None
) -> Instance:
    """Mark the instance subscribed (billing keeps the period). An expired or
    cancelled instance becomes usable again as "Desconectado": it needs a new
    QR code. Atomic."""
    now = timezone.now()
    current = lock_one(Instance, pk=instance.pk)
    if current.state in (S.EXPIRED, S.CANCELLED):
        return lifecycle.transition(
            instance=current,
            to_state=S.DISCONNECTED,
            cause=_("Assinatura ativada"),
            actor_kind=actor_kind,
            actor=actor,
            subscribed_since=now,
        )
    Instance.objects.filter(pk=instance.pk).update(subscribed_since=now, updated_at=now)
    current.subscribed_since = now
    return current


def instance_subscription_end(
    *, instance: Instance, actor_kind: str, actor: User | None = None
) -> Instance:
    """The subscription was cancelled: move the instance to "Cancelada" and
    close its engine session once that is committed (never while the
    caller's transaction holds rows: the engine may take seconds); a logout
    that fails is retried until done (instances.logouts)."""
    if instance.state in (S.CONNECTED, S.WAITING_SCAN):
        transaction.on_commit(partial(logouts.logout_or_retry, instance))
    return lifecycle.transition(
        instance=instance,
        to_state=S.CANCELLED,
        cause=_("Assinatura cancelada pelo cliente")
        if actor_kind == ActorKind.CUSTOMER
        else _("Assinatura cancelada"),
        actor_kind=actor_kind,
        actor=actor,
        subscribed_since=None,
        **_CLEARED_QR,
    )


def engine_tick() -> None:
    """Beat's periodic step: let the engine report what changed (the simulator
    rotates its QR codes here), then sweep instances left waiting."""
    engine_events_apply(engine_get().tick())
    instances_waiting_sweep()


# What the API asks of a connected number.


def instance_restart(*, instance: Instance) -> Instance:
    """Restart the engine's connection of a connected number, keeping it
    logged in. Raises EngineError (EngineUnavailable when unreachable)."""
    engine_get().session_restart(session_of(instance))
    return instance


def instance_device(*, instance: Instance):
    """What the engine knows of the connected number's WhatsApp account,
    with the profile as last set through PlugMessage where it says less."""
    found = engine_get().device_get(session_of(instance))
    return replace(
        found,
        phone=found.phone or instance.phone_number,
        name=found.name or instance.profile_name,
        about=found.about or instance.profile_about,
    )


def phone_exists(*, instance: Instance, phone: str) -> tuple[bool, str]:
    """Whether the E.164 `phone` has WhatsApp, and its LID when known."""
    return engine_get().phone_exists(session_of(instance), phone=phone)


class ProfileRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


PROFILE_NAME_MAX = 25
PROFILE_ABOUT_MAX = 139


def instance_profile_update(
    *,
    instance: Instance,
    name: str | None = None,
    about: str | None = None,
    picture: str | bytes | None = None,
) -> Instance:
    """Set the connected number's WhatsApp name, about text or picture (a URL,
    fetched through the webhook guard, a data URI or the bytes of an upload;
    JPEG or PNG), then record it on the instance. Raises ProfileRefused for bad input and
    EngineError when the engine refuses or cannot be reached (nothing is
    recorded then)."""
    engine = engine_get()
    session = session_of(instance)
    if name is not None:
        name = name.strip()
        if not name or len(name) > PROFILE_NAME_MAX or "\x00" in name:
            raise ProfileRefused(
                422,
                "invalid_profile_name",
                _("O nome do perfil deve ter de 1 a 25 caracteres."),
            )
        engine.profile_name_set(session, name=name)
        Instance.objects.filter(pk=instance.pk).update(profile_name=name)
        instance.profile_name = name
    if about is not None:
        about = about.strip()
        if len(about) > PROFILE_ABOUT_MAX or "\x00" in about:
            raise ProfileRefused(
                422,
                "invalid_profile_about",
                _("O recado do perfil vai até 139 caracteres."),
            )
        engine.profile_about_set(session, about=about)
        Instance.objects.filter(pk=instance.pk).update(profile_about=about)
        instance.profile_about = about
    if picture is not None:
        stored = _profile_picture_store(instance, picture)
        engine.profile_picture_set(
            session, image=media.media_read(stored), mime_type=stored.mime_type
        )
        Instance.objects.filter(pk=instance.pk).update(profile_picture=stored)
        instance.profile_picture = stored
    return instance


def _profile_picture_store(instance: Instance, picture: str | bytes):
    kind = MessageKind.IMAGE
    try:
        if isinstance(picture, bytes):
            data = picture
        elif media.is_data_uri(picture):
            data = media.data_uri_decode(picture, kind=kind)
        else:
            try:
                data = url_fetch(picture, max_bytes=media.MAX_BYTES[kind]).data
            except FetchFailed as error:
                raise media.MediaRefused(
                    422,
                    "media_fetch_failed",
                    _("Não foi possível baixar a imagem: %(reason)s")
                    % {"reason": error},
                ) from error
        checked = media.media_check(data, kind=kind, file_name="perfil")
        if checked.mime_type not in ("image/jpeg", "image/png"):
            raise media.MediaRefused(
                422,
                "unsupported_media_type",
                _("A foto do perfil deve ser JPEG ou PNG."),
            )
    except media.MediaRefused as refused:
        raise ProfileRefused(refused.status, refused.code, refused.message) from None
    return media.media_store(instance=instance, media=checked)


# The simulated phone (simulator engine only).


def simulated_phone_scan(*, code: str, phone_number: str) -> dict:
    """A person scanned the simulator's QR `code` on the simulated phone.
    Returns what the phone page shows: connected, refused (and why) or
    expired."""
    try:
        event = engine_get().phone_scan(code, phone_number.lstrip("+"))
    except EngineRefused:
        return {"expired": True}
    return _simulated_outcome(event)


def simulated_phone_pairing(*, pairing_code: str, phone_number: str) -> dict:
    """A person typed `pairing_code` on the simulated phone. Raises
    EngineRefused with the phone's message for a wrong code or number."""
    event = engine_get().phone_enter_pairing_code(
        pairing_code, phone_number.lstrip("+")
    )
    return _simulated_outcome(event)


def simulated_phone_send(
    *,
    instance: Instance,
    contact: str,
    kind: str,
    sender_name: str = "",
    text: str = "",
    content: dict | None = None,
    file_data: bytes = b"",
    file_name: str = "",
    file_mime: str = "",
) -> ReceivedMessage | None:
    """The contact `contact` (E.164) sends the instance a message of `kind`
    from the simulated phone: the simulator keeps it in the conversation and
    reports it, and the report is applied like any engine's (stored, webhook
    announced). Returns what the instance received, or None when it dropped
    the message (an ended trial). Raises EngineRefused when the instance is
    not connected."""
    event = engine_get().phone_send_message(
        instance.engine_ref,
        contact.lstrip("+"),
        text,
        kind=kind,
        content=content,
        media={"data": file_data, "mime_type": file_mime, "file_name": file_name}
        if file_data
        else None,
        sender_name=sender_name,
    )
    engine_events_apply([event])
    message_id = event.extra["message_id"]
    received = ReceivedMessage.objects.filter(
        instance=instance, message_id=message_id
    ).first()
    error = received.content.get("download_error") if received else None
    if received is not None and (received.media_id or error):
        # The phone shows the file as the instance stored it, or why not.
        shown = SimulatedMessage.objects.get(message_id=message_id)
        shown.media_id = received.media_id
        if error:
            shown.content["download_error"] = error
        shown.save(update_fields=["media", "content"])
    return received


def _simulated_outcome(event: EngineEvent) -> dict:
    engine_events_apply([event])
    instance = Instance.objects.get(engine_ref=event.engine_ref)
    if instance.state == S.CONNECTED:
        return {"connected": True}
    return {"refused": instance.connect_error or _("A conexão não foi aceita.")}


# Audited staff actions (the admin).


def instance_warmup_plan_set(
    *, instance: Instance, plan: list[int], actor: User, reason: str
) -> Instance:
    """Staff change an instance's warm-up plan (daily send limits, one per
    day since it was activated). Atomic with its audit record (before and
    after); raises ValidationError for an empty reason."""
    if not reason.strip():
        raise ValidationError(_("Informe o motivo da alteração."))
    with transaction.atomic():
        current = lock_one(Instance, pk=instance.pk)
        before = list(current.warmup_plan or [])
        Instance.objects.filter(pk=current.pk).update(
            warmup_plan=plan, updated_at=timezone.now()
        )
        current.warmup_plan = plan
        audit_record_create(
            actor=actor,
            customer=current.owner,
            action="instance_warmup_plan_set",
            target=f"{_('Instância')} {current.name}",
            before={"warmup_plan": before},
            after={"warmup_plan": plan},
            reason=reason,
        )
    return current


def instance_trial_extend(
    *, instance: Instance, days: int, actor: User, reason: str
) -> Instance:
    """Give an unsubscribed instance `days` more of trial, counted from its
    current end or from now if it already ended. An expired instance becomes
    usable again ("Desconectado"). Atomic with its audit record; raises
    ValidationError for a subscribed instance, a bad number of days or an
    empty reason."""
    if not 1 <= days <= 30:
        raise ValidationError(_("Informe de 1 a 30 dias."))
    if instance.subscribed_since is not None:
        raise ValidationError(
            _("Esta instância já está assinada: não há teste a estender.")
        )
    if instance.state == S.CANCELLED:
        raise ValidationError(
            _(
                "Esta instância teve a assinatura cancelada: o cliente precisa assinar de novo."
            )
        )
    with transaction.atomic():
        current = lock_one(Instance, pk=instance.pk)
        before = current.trial_ends_at
        ends = max(before, timezone.now()) + timedelta(days=days)
        if current.state == S.EXPIRED:
            current = lifecycle.transition(
                instance=current,
                to_state=S.DISCONNECTED,
                cause=_("Teste grátis estendido pela equipe"),
                actor_kind=ActorKind.STAFF,
                actor=actor,
                trial_ends_at=ends,
            )
        else:
            Instance.objects.filter(pk=current.pk).update(
                trial_ends_at=ends, updated_at=timezone.now()
            )
            current.trial_ends_at = ends
        audit_record_create(
            actor=actor,
            customer=current.owner,
            action="trial_extend",
            target=f"{_('Instância')} {current.name} ({current.pk})",
            before={"trial_ends_at": before.isoformat()},
            after={"trial_ends_at": ends.isoformat(), "days": days},
            reason=reason,
        )
    return current


def instance_force_disconnect(
    *, instance: Instance, actor: User, reason: str
) -> Instance:
    """Staff log the number out (abuse, a customer's request by phone): the
    engine session is closed and the instance moved to "Desconectado", with
    an audit record. Raises InstanceError when it is not connected or
    waiting, ValidationError for an empty reason, EngineUnavailable when the
    engine cannot be reached (nothing changes then)."""
    if instance.state not in (S.CONNECTED, S.WAITING_SCAN):
        raise InstanceError(_("Esta instância não está conectada."))
    if not reason.strip():
        raise ValidationError(_("Informe o motivo da alteração."))
    engine_get().session_logout(session_of(instance))
    with transaction.atomic():
        before = instance.state
        instance = _disconnected(instance, ActorKind.STAFF, actor)
        audit_record_create(
            actor=actor,
            customer=instance.owner,
            action="instance_force_disconnect",
            target=f"{_('Instância')} {instance.name} ({instance.pk})",
            before={"state": before, "phone_number": instance.phone_number},
            after={"state": instance.state},
            reason=reason,
        )
    return instance
