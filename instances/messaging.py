"""Services for messages sent through an instance's API: accept (or refuse
with a reason), send through the engine from a task, follow the receipts."""

import base64
import binascii
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from instances import health, media
from instances.engines import engine_get
from instances.engines.base import (
    EngineError,
    EngineSession,
    EngineUnavailable,
    OutgoingMessage,
    engine_error_detail,
    engine_error_text,
)
from instances.models import (
    MEDIA_KINDS,
    Instance,
    InstanceState,
    MediaFile,
    Message,
    MessageKind,
    MessageStatus,
)
from instances.phones import phone_to_e164
from plugmessage.broker import broker_ask
from plugmessage.locks import lock_rows
from webhooks.services import FetchFailed, events_emit, url_fetch

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
SEND_TASK = "instances.tasks.message_send_task"
SEND_BATCH_TASK = "instances.tasks.messages_send_task"
# Messages one send task hands to the engine. A worker that dies mid-batch
# leaves those it sent but had not recorded yet claimed; the queued sweep
# sends them again (at least once), so the batch stays small.
SEND_BATCH = 25
DISPATCH_TASK = "instances.tasks.messages_dispatch_task"
# Set while a dispatch is queued: accepted sends then need no publish of their
# own. It lives DISPATCH_WINDOW seconds (whole seconds: the cache's unit), and
# an accept that sets it also queues a dispatch for when the window ends,
# which sees every message accepted meanwhile (messages_dispatch_request);
# the margin covers the web's and the worker's clocks being a little apart.
DISPATCH_PENDING = "messages:dispatch-pending"
DISPATCH_WINDOW = 1
DISPATCH_MARGIN = 0.1
DISPATCH_BATCH = 500
CLAIMED = "claimed:"
# Receipts only move a message forward.
_ORDER = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}


class SendRefused(Exception):
    """A send the API refuses; `status` and `code` become its answer and the
    message is a Portuguese sentence for the developer."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def instance_may_work(instance: Instance, now=None) -> bool:
    """Whether the instance may send, receive and connect: subscribed, or
    within its trial. Computed on every use from the stored trial end (rule 6),
    so expiry holds even before the beat task moves it to "Expirado"."""
    if instance.state in (InstanceState.EXPIRED, InstanceState.CANCELLED):
        return False
    return instance.subscribed_since is not None or instance.trial_ends_at > (
        now or timezone.now()
    )


def _not_working_refusal(instance: Instance) -> "SendRefused":
    if instance.state == InstanceState.CANCELLED:
        return SendRefused(
            402,
            "subscription_cancelled",
            _(
                "A assinatura desta instância foi cancelada. Assine de novo para enviar."
            ),
        )
    return SendRefused(
        402,
        "trial_expired",
        _("O teste grátis desta instância terminou. Assine para continuar enviando."),
    )


@dataclass
class Draft:
    """A send as the API understood it, before any check: the kind, its text
    (or caption), what the kind carries besides, and its media as given (a
    URL or a data URI)."""

    kind: str = MessageKind.TEXT
    text: str = ""
    content: dict = field(default_factory=dict)
    media: str = ""
    file_name: str = ""
    extension: str = ""
    reply_to: str = ""
    delay_message: int = 0
    delay_typing: int = 0


def message_send_text(*, instance: Instance, phone: str, text: str) -> Message:
    """Accept a text message (see message_accept)."""
    return message_accept(instance=instance, phone=phone, draft=Draft(text=text))


def message_accept(*, instance: Instance, phone: str, draft: Draft) -> Message:
    """Accept a message of any kind for sending: every check, then a queued
    Message and, after commit, the task that hands it to the engine. The
    checks are those of every kind, cheapest first: subscription or trial,
    connected, the kind's own content, a valid phone, the exclusion list,
    media given as a data URI (decoded, type read from its bytes, size), and
    the day's warm-up count. Nothing is queued, and no media is kept, when a
    check fails (SendRefused: 402, 409, 413, 422 or 429). A media URL is not
    fetched here: the worker fetches it before sending."""
    if not instance_may_work(instance):
        raise _not_working_refusal(instance)
    if instance.state != InstanceState.CONNECTED:
        raise SendRefused(
            409,
            "instance_not_connected",
            _("A instância não está conectada ao WhatsApp."),
        )
    _draft_check(draft)
    try:
        to = phone_to_e164(phone)
    except Exception as error:
        raise SendRefused(
            422,
            "invalid_phone",
            _("Número de telefone inválido. Use DDI e DDD, por exemplo 5511987654321."),
        ) from error
    if health.is_excluded(instance, to):
        raise SendRefused(
            422,
            "recipient_excluded",
            _(
                "Este número está na lista de exclusão da instância e não recebe mensagens."
            ),
        )
    checked = None
    if draft.media and media.is_data_uri(draft.media):
        try:
            data = media.data_uri_decode(draft.media, kind=draft.kind)
            checked = media.media_check(
                data,
                kind=draft.kind,
                file_name=draft.file_name,
                extension=draft.extension,
            )
        except media.MediaRefused as refused:
            raise SendRefused(refused.status, refused.code, refused.message) from None
    options = {
        "kind": draft.kind,
        "content": draft.content,
        "media_url": "" if checked else draft.media,
        "reply_to": draft.reply_to,
        "delay_message": draft.delay_message,
        "delay_typing": draft.delay_typing,
    }
    if checked is None and connection.vendor == "postgresql":
        # The common case in one statement: the warm-up count and the row.
        message = _message_new(instance, to, draft.text, **options)
        if health.warmup_take_inserting(instance, message):
            transaction.on_commit(messages_dispatch_request, robust=True)
            return message
    with transaction.atomic():
        if not health.warmup_take(instance):
            raise SendRefused(
                429,
                "warmup_limit",
                _(
                    "Limite diário de maturação atingido (%(limit)d envios hoje). "
                    "Um número novo ganha confiança aos poucos: tente amanhã."
                )
                % {"limit": health.warmup_limit(instance)},
                retry_after=health.seconds_until_tomorrow(),
            )
        stored = (
            media.media_store(instance=instance, media=checked) if checked else None
        )
        message = _queue(instance, to, draft.text, media_file=stored, **options)
    return message


def _draft_check(draft: Draft) -> None:
    """What each kind needs, in the words the developer reads."""
    if len(draft.text) > MAX_TEXT:
        raise SendRefused(413, "text_too_long", _("O texto passa de 4096 caracteres."))
    if "\x00" in draft.text or any(
        "\x00" in str(value) for value in draft.content.values()
    ):
        raise SendRefused(
            422, "invalid_text", _("O texto contém um caractere nulo (\\u0000).")
        )
    if draft.kind in (MessageKind.TEXT, MessageKind.LINK) and not draft.text.strip():
        raise SendRefused(422, "empty_text", _("O texto da mensagem está vazio."))
    if draft.kind in MEDIA_KINDS and not draft.media.strip():
        raise SendRefused(
            422,
            "missing_media",
            _("Informe a mídia: uma URL pública ou um data URI em base64."),
        )
    if draft.kind == MessageKind.REACTION and not draft.reply_to:
        raise SendRefused(
            422,
            "missing_message_id",
            _("Informe em messageId a mensagem que recebe a reação."),
        )
    for delay in (draft.delay_message, draft.delay_typing):
        if not 0 <= delay <= 15:
            raise SendRefused(
                422,
                "invalid_delay",
                _("delayMessage e delayTyping vão de 1 a 15 segundos."),
            )
    if draft.media and not media.is_data_uri(draft.media):
        parts = urlsplit(draft.media.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SendRefused(
                422,
                "invalid_media",
                _(
                    "Mídia inválida: envie uma URL pública (http ou https) ou um "
                    "data URI em base64."
                ),
            )


def _message_new(
    instance: Instance,
    to: str,
    text: str,
    *,
    opt_out_reply: bool = False,
    kind: str = MessageKind.TEXT,
    content: dict | None = None,
    media_file: MediaFile | None = None,
    media_url: str = "",
    reply_to: str = "",
    delay_message: int = 0,
    delay_typing: int = 0,
) -> Message:
    """A queued message, not saved yet."""
    now = timezone.now()
    return Message(
        instance=instance,
        to=to,
        text=text,
        is_opt_out_reply=opt_out_reply,
        kind=kind,
        content=content or {},
        media=media_file,
        media_url=media_url,
        reply_to=reply_to,
        send_after=now + timedelta(seconds=delay_message) if delay_message else None,
        typing_seconds=delay_typing,
        created_at=now,
    )


def _queue(instance: Instance, to: str, text: str, **options) -> Message:
    message = _message_new(instance, to, text, **options)
    message.save(force_insert=True)
    transaction.on_commit(messages_dispatch_request, robust=True)
    return message


# Until when (time.monotonic()) a dispatch this process queued is sure to
# come after any message it accepts.
_dispatch_covers_until = 0.0


def messages_dispatch_request() -> None:
    """After a message is accepted (committed): make sure a dispatch will
    see it, at most DISPATCH_WINDOW (and the margin) later. Under load one
    dispatch serves many requests, and most requests make no round trip:

    - The accept that sets the pending mark queues a dispatch now (a lone
      message goes at once) and one for when the mark's window ends, which
      sees every message committed during the window: the same process
      asks nothing more until then.
    - An accept that finds the mark set needs nothing either: a dispatch
      clears the mark as it starts (messages_dispatch), so the one queued
      by the accept that set it has not started yet, and will see this one.

    If the broker loses both tasks, the mark is gone a window later and the
    queued sweep sends their messages anyway. While Redis is down nothing is
    asked (plugmessage.broker): beat's dispatch, every few seconds, queues
    what was accepted meanwhile as soon as Redis is back."""
    global _dispatch_covers_until
    now = time.monotonic()
    if now < _dispatch_covers_until:
        return
    if broker_ask("messages accepted", _dispatch_ask):
        _dispatch_covers_until = now + DISPATCH_WINDOW


def _dispatch_ask() -> None:
    if cache.add(DISPATCH_PENDING, 1, timeout=DISPATCH_WINDOW):
        current_app.send_task(DISPATCH_TASK)
        current_app.send_task(
            DISPATCH_TASK, countdown=DISPATCH_WINDOW + DISPATCH_MARGIN
        )


def messages_dispatch() -> int:
    """Queue the send task of every accepted message not yet dispatched.
    The pending mark is cleared first, so a message committed after this
    dispatch's query asks for the next one. Rows are taken with SKIP LOCKED
    (two dispatches never queue one message twice) and marked before their
    tasks are published; a message lost between the two is queued again by
    the queued sweep. Returns how many were queued."""
    cache.delete(DISPATCH_PENDING)
    queued = 0
    while True:
        with transaction.atomic():
            ids = lock_rows(
                Message.objects.filter(
                    status=MessageStatus.QUEUED, dispatched_at__isnull=True
                )
                .order_by("created_at")
                .values_list("pk", "send_after")[:DISPATCH_BATCH],
                skip_locked=True,
            )
            now = timezone.now()
            Message.objects.filter(pk__in=[pk for pk, _at in ids]).update(
                dispatched_at=now
            )
        now_ids = [str(pk) for pk, at in ids if at is None or at <= now]
        for start in range(0, len(now_ids), SEND_BATCH):
            current_app.send_task(
                SEND_BATCH_TASK, args=[now_ids[start : start + SEND_BATCH]]
            )
        for message_id, send_after in ids:
            if send_after is not None and send_after > now:
                _send_task_publish(message_id, send_after, now)
        queued += len(ids)
        if len(ids) < DISPATCH_BATCH:
            return queued


def _send_task_publish(message_id, send_after, now=None) -> None:
    # delayMessage: a wait of seconds, handed to the broker; if the task is
    # lost meanwhile, the queued sweep sends the message anyway.
    now = now or timezone.now()
    wait = (send_after - now).total_seconds() if send_after else 0
    current_app.send_task(
        SEND_TASK, args=[str(message_id)], countdown=wait if wait > 0 else None
    )


def opt_out_reply_send(*, instance: Instance, to: str) -> Message | None:
    """The configured confirmation to someone who just opted out: the one
    message an excluded number still gets, outside the daily limit."""
    if not instance.opt_out_reply.strip() or instance.state != InstanceState.CONNECTED:
        return None
    return _queue(instance, to, instance.opt_out_reply.strip(), opt_out_reply=True)


def message_send(*, message_id) -> Message | None:
    """Hand one queued message to the engine (see messages_send); returns
    it as it stands afterwards."""
    handled = messages_send(message_ids=[message_id])
    if handled:
        return handled[0]
    return (
        Message.objects.select_related("instance", "media")
        .filter(pk=message_id)
        .first()
    )


def messages_send(*, message_ids: list) -> list[Message]:
    """Hand queued messages to the engine (the send task's work), oldest
    first. Idempotent: the messages are claimed with one conditional UPDATE,
    so of two tasks for one message (a late original and the sweeper's)
    only one sends it. For each message: the checks of the moment (opted
    out, trial over, disconnected: failed with the reason), a media URL
    fetched through the webhook guard (a fetch that fails fails the
    message), "typing" first with delayTyping (the send itself is queued for
    when it ends), then the engine; a refusal fails the message. Those the
    engine took are written "sent" with its ids and announced together, in
    one transaction. An engine outage releases the claim of every message
    not sent yet and raises EngineUnavailable for the task to retry. Returns
    the messages this call claimed."""
    claim = f"{CLAIMED}{uuid.uuid4().hex}"
    Message.objects.filter(
        pk__in=message_ids, status=MessageStatus.QUEUED, engine_message_id=""
    ).update(engine_message_id=claim, updated_at=timezone.now())
    messages = list(
        Message.objects.select_related("instance", "media")
        .filter(pk__in=message_ids, engine_message_id=claim)
        .order_by("created_at", "pk")
    )
    if not messages:
        return []
    health.exclusions_remember([(message.instance, message.to) for message in messages])
    engine = engine_get()
    ready: dict = {}  # instance id -> [(message, outgoing)], oldest first
    try:
        for message in messages:
            outgoing = _engine_prepare(engine, message, claim)
            if outgoing is not None:
                ready.setdefault(message.instance_id, []).append((message, outgoing))
    except EngineUnavailable:
        _claims_release(messages, claim)  # nothing was sent yet
        raise
    sent: list[tuple[Message, str]] = []
    try:
        for group in ready.values():
            instance = group[0][0].instance
            session = EngineSession(instance.engine_ref, instance.engine_token)
            # An engine that sends one message a request may take long over a
            # batch: each message's claim is renewed just before its turn.
            chunks = [group] if engine.sends_in_batches else [[m] for m in group]
            for chunk in chunks:
                handed, outage = _chunk_send(engine, session, chunk, claim)
                sent.extend(handed)
                if outage is not None:
                    _claims_release(messages, claim)
                    raise outage
    finally:
        if sent:
            _sent_record(sent)
    return messages


def _still_claimed(chunk: list, claim: str) -> list:
    """The messages of `chunk` this worker still holds, their claims renewed
    (the queued sweep hands out only claims older than STUCK_AFTER, so a
    renewed one is safe that long). One the sweep took back meanwhile is
    left to whoever holds it now: sending it here would send it twice."""
    ids = [message.pk for message, _outgoing in chunk]
    Message.objects.filter(pk__in=ids, engine_message_id=claim).update(
        updated_at=timezone.now()
    )
    held = set(
        Message.objects.filter(pk__in=ids, engine_message_id=claim).values_list(
            "pk", flat=True
        )
    )
    return [item for item in chunk if item[0].pk in held]


def _chunk_send(engine, session, chunk, claim) -> tuple[list, Exception | None]:
    """Hand one chunk of a batch to the engine: what it took (message, its
    id there), and the outage that stopped it, if one did."""
    chunk = _still_claimed(chunk, claim)
    if not chunk:
        return [], None
    results = engine.messages_send(session, [outgoing for _m, outgoing in chunk])
    handed = []
    for (message, _outgoing), result in zip(chunk, results, strict=False):
        if isinstance(result, EngineUnavailable):
            break
        if isinstance(result, EngineError):
            _status_set(
                message, MessageStatus.FAILED, error=_engine_reason(message, result)
            )
        else:
            message.engine_message_id = result
            handed.append((message, result))
    # The engine's ids replace the claims at once: a receipt that comes back
    # before the batch is recorded finds its message (and announces "sent"
    # itself, in order), and a worker that dies before then leaves messages
    # the sweep knows were sent.
    Message.objects.bulk_update(
        [message for message, _id in handed], ["engine_message_id"]
    )
    outage = (
        results[-1] if results and isinstance(results[-1], EngineUnavailable) else None
    )
    return handed, outage


def _claims_release(messages: list[Message], claim: str) -> None:
    """Give back, for the task's retry, the messages of a batch still held by
    its claim (those the engine took carry its id instead)."""
    Message.objects.filter(
        pk__in=[m.pk for m in messages], engine_message_id=claim
    ).update(engine_message_id="")


def _engine_prepare(engine, message: Message, claim: str) -> OutgoingMessage | None:
    """What the engine is to send for one claimed message, or None when the
    message failed (with its reason) or waits for its typing to end."""
    # What was true when the message was accepted may not be now: it may have
    # waited in the queue while its recipient opted out or the trial ended.
    refusal = _refusal_at_send_time(message)
    if refusal:
        _status_set(message, MessageStatus.FAILED, error=refusal)
        return None
    if message.media_url and message.media is None:
        try:
            message.media = _media_fetch(message)
        except media.MediaRefused as refused:
            _status_set(message, MessageStatus.FAILED, error=refused.message[:300])
            return None
    if message.typing_seconds and not message.content.get("typing_shown"):
        instance = message.instance
        session = EngineSession(instance.engine_ref, instance.engine_token)
        try:
            _typing_show(engine, session, message, claim)
        except EngineUnavailable:
            raise
        except EngineError as error:
            _status_set(
                message, MessageStatus.FAILED, error=_engine_reason(message, error)
            )
        return None
    return _outgoing(message)


@transaction.atomic
def _sent_record(sent: list[tuple[Message, str]]) -> None:
    """Mark "sent" the messages the engine took (a receipt may already have
    moved one further) and announce each: its status "sent", unless a
    receipt did, then message.sent with its content."""
    locked = dict(
        lock_rows(
            Message.objects.filter(pk__in=[m.pk for m, _id in sent])
            .order_by("pk")
            .values_list("pk", "status")
        )
    )
    now = timezone.now()
    moved = []
    for message, engine_id in sent:
        message.engine_message_id = engine_id
        steps = _steps(locked.get(message.pk), MessageStatus.SENT)
        if steps:
            message.status, message.error = MessageStatus.SENT, ""
        else:
            message.status = locked.get(message.pk, message.status)
        moved.append((message, steps))
    Message.objects.filter(pk__in=[m.pk for m, steps in moved if steps]).update(
        status=MessageStatus.SENT, error="", updated_at=now
    )
    by_instance: dict = {}
    for message, steps in moved:
        events = by_instance.setdefault(message.instance_id, (message.instance, []))[1]
        events.extend(_status_events(message, steps))
        events.append(("message.sent", message_event_data(message)))
    for instance, events in by_instance.values():
        events_emit(instance=instance, events=events)


def message_event_data(message: Message, *, with_content: bool = True) -> dict:
    """What a message.sent (with its content) or message.status (without)
    webhook says of an outgoing message, in both payload formats' terms."""
    data = {
        "message_id": str(message.pk),
        "whatsapp_message_id": message.message_id,
        "zaap_id": message.zaap_id,
        "to": message.to,
        "kind": message.kind,
    }
    if not with_content:
        return data
    data["text"] = message.text
    if message.content:
        data["content"] = {
            k: v for k, v in message.content.items() if k != "typing_shown"
        }
    if message.reply_to:
        data["reply_to"] = message.reply_to
    if message.media_id:
        data["media"] = {
            "url": media.media_link(message.media, kind=message.kind),
            "mime_type": message.media.mime_type,
            "file_name": media.media_file_name(message.media, kind=message.kind),
            "size": message.media.size,
        }
    return data


def _engine_reason(message: Message, error: EngineError) -> str:
    """The Portuguese sentence a message failed by the engine keeps in its
    `error` (the panel, the API and the webhooks show it); the engine's own
    text goes to the log for staff, numbers masked."""
    logger.warning(
        "message %s refused by the engine: %s", message.pk, engine_error_detail(error)
    )
    return engine_error_text(error, sending=True)


def _media_fetch(message: Message) -> MediaFile:
    """Fetch the media URL of a message into storage, checked like a data URI.
    Raises MediaRefused with the reason in Portuguese."""
    kind = message.kind
    try:
        fetched = url_fetch(message.media_url, max_bytes=media.MAX_BYTES[kind])
    except FetchFailed as error:
        if error.detail:
            logger.info("media of message %s not fetched: %s", message.pk, error.detail)
        raise media.MediaRefused(
            422,
            "media_fetch_failed",
            _("Não foi possível baixar a mídia: %(reason)s") % {"reason": error},
        ) from error
    checked = media.media_check(
        fetched.data,
        kind=kind,
        file_name=message.content.get("file_name") or fetched.file_name,
        extension=message.content.get("extension", ""),
    )
    stored = media.media_store(instance=message.instance, media=checked)
    Message.objects.filter(pk=message.pk).update(media=stored)
    return stored


def _typing_show(engine, session, message: Message, claim: str) -> Message:
    """delayTyping: show "typing" (or "recording" before audio) now, and
    queue the send itself for when it ends; no one sleeps meanwhile."""
    presence = "recording" if message.kind == MessageKind.AUDIO else "composing"
    # Counted from before the call: an engine may answer only once the
    # presence has been shown for the whole time.
    now = timezone.now()
    send_after = now + timedelta(seconds=message.typing_seconds)
    engine.chat_presence_send(
        session, to=message.to, presence=presence, seconds=message.typing_seconds
    )
    content = {**message.content, "typing_shown": True}
    Message.objects.filter(pk=message.pk, engine_message_id=claim).update(
        engine_message_id="", content=content, send_after=send_after, updated_at=now
    )
    message.content, message.send_after = content, send_after
    transaction.on_commit(
        partial(_send_task_publish, message.pk, send_after), robust=True
    )
    return message


def _outgoing(message: Message) -> OutgoingMessage:
    """The message as the engine takes it."""
    stored = message.media
    reply_to, reply_to_from_me = _engine_reply_of(message.instance, message.reply_to)
    return OutgoingMessage(
        to=message.to,
        kind=message.kind,
        text=message.text,
        content={k: v for k, v in message.content.items() if k != "typing_shown"},
        media=media.media_read(stored) if stored else b"",
        media_mime=stored.mime_type if stored else "",
        file_name=_file_name(message),
        media_id=str(stored.pk) if stored else "",
        reply_to=reply_to,
        reply_to_from_me=reply_to_from_me,
        message_id=message.message_id,
    )


def _file_name(message: Message) -> str:
    if message.kind != MessageKind.DOCUMENT:
        return ""
    name = message.content.get("file_name") or (
        message.media.file_name if message.media else ""
    )
    extension = message.content.get("extension", "")
    if not name:
        name = "documento"
    if extension and not name.lower().endswith(f".{extension.lower()}"):
        name = f"{name}.{extension}"
    return name


def _engine_id_of(instance: Instance, reply_to: str) -> str:
    """The engine's id of the message a reply or reaction points at: one of
    ours is known by the id PlugMessage gave it, a received one by WhatsApp's."""
    return _engine_reply_of(instance, reply_to)[0]


def _engine_reply_of(instance: Instance, reply_to: str) -> tuple[str, bool]:
    """The engine's id of the message `reply_to` names, and whether it is one
    PlugMessage sent (a message sent from this number)."""
    if not reply_to:
        return "", False
    ours = (
        Message.objects.filter(instance=instance, message_id=reply_to)
        .exclude(engine_message_id="")
        .values_list("engine_message_id", flat=True)
        .first()
    )
    if ours and not ours.startswith(CLAIMED):
        return ours, True
    return reply_to, False


def _refusal_at_send_time(message: Message) -> str:
    instance = message.instance
    if not message.is_opt_out_reply and health.is_excluded(instance, message.to):
        return _("O destinatário entrou na lista de exclusão antes do envio.")
    if not instance_may_work(instance):
        return _(
            "O teste grátis terminou ou a assinatura foi cancelada antes do envio."
        )
    if instance.state != InstanceState.CONNECTED:
        return _("A instância foi desconectada antes do envio.")
    return ""


def message_find(*, instance: Instance, message_id: str) -> Message | None:
    """A message sent through the API, by its id (a UUID) or its messageId."""
    try:
        return Message.objects.filter(
            instance=instance, pk=uuid.UUID(message_id)
        ).first()
    except ValueError:
        return Message.objects.filter(instance=instance, message_id=message_id).first()


def message_read(*, instance: Instance, phone: str, message_id: str) -> None:
    """Mark a received message as read at WhatsApp. Raises EngineError."""
    engine_get().message_read(
        _session_of(instance),
        phone=phone_to_e164(phone) if phone else "",
        message_id=message_id,
    )


def message_delete(
    *, instance: Instance, phone: str, message_id: str, from_me: bool
) -> None:
    """Delete a message for everyone: one of ours is known by its messageId,
    a received one by WhatsApp's id. Raises EngineError."""
    engine_id = _engine_id_of(instance, message_id) if from_me else message_id
    engine_get().message_delete(
        _session_of(instance),
        phone=phone_to_e164(phone) if phone else "",
        message_id=engine_id,
        from_me=from_me,
    )


def _session_of(instance: Instance) -> EngineSession:
    return EngineSession(instance.engine_ref, instance.engine_token)


def _in_queue(instance: Instance):
    # Accepted, not yet handed to the engine, and not being sent right now.
    return Message.objects.filter(
        instance=instance, status=MessageStatus.QUEUED, engine_message_id=""
    )


def queue_for_instance(*, instance: Instance, limit: int = 100) -> list[Message]:
    """The messages waiting to be sent, oldest first."""
    return list(
        _in_queue(instance).select_related("instance").order_by("created_at")[:limit]
    )


QUEUE_PAGE_MAX = 30


def queue_page(
    *, instance: Instance, size: int = QUEUE_PAGE_MAX, after: str = ""
) -> tuple[list[Message], str, bool]:
    """One page of the queue, oldest first, after the position `after` (the
    paging state the previous page gave): (messages, next paging state,
    whether there are more). Raises ValueError for a paging state this
    function did not give."""
    waiting = (
        _in_queue(instance).select_related("instance").order_by("created_at", "pk")
    )
    if after:
        try:
            stamp, pk = base64.urlsafe_b64decode(after.encode()).decode().split("|")
            created = datetime.fromisoformat(stamp)
            last = uuid.UUID(pk)
        except (ValueError, UnicodeDecodeError, binascii.Error) as error:
            raise ValueError("unknown paging state") from error
        waiting = waiting.filter(
            Q(created_at__gt=created) | Q(created_at=created, pk__gt=last)
        )
    size = max(1, min(size, QUEUE_PAGE_MAX))
    rows = list(waiting[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    state = ""
    if has_more:
        mark = f"{rows[-1].created_at.isoformat()}|{rows[-1].pk}"
        state = base64.urlsafe_b64encode(mark.encode()).decode()
    return rows, state, has_more


def queue_count(*, instance: Instance) -> int:
    return _in_queue(instance).count()


def queue_remove(*, instance: Instance, zaap_id: str | None = None) -> int:
    """Cancel waiting messages (all, or the one with `zaap_id`): each becomes
    "failed" with the reason and fires its status webhook. A message the
    worker already took is not touched. Returns how many were removed."""
    waiting = _in_queue(instance)
    if zaap_id is not None:
        try:
            waiting = waiting.filter(pk=uuid.UUID(hex=zaap_id))
        except ValueError:
            return 0
    removed = 0
    for message in waiting.select_related("instance"):
        if _status_set(
            message,
            MessageStatus.FAILED,
            error=_("Removida da fila pelo cliente."),
            only_if_unclaimed=True,
        ):
            removed += 1
    return removed


@transaction.atomic
def message_receipts_apply(
    *, instance: Instance, receipts: list[tuple[str, str]]
) -> set[str]:
    """Engine receipts, (engine message id, status) in the order they came,
    for messages the instance sent: each moves its message forward and fires
    a message.status webhook for every step on the way, as _status_set does,
    for the whole list in one transaction (the rows locked, oldest first, so
    a receipt applied elsewhere meanwhile is seen). Returns the engine ids
    of messages not sent through the API, for the caller to announce as
    they are."""
    engine_ids = {engine_id for engine_id, _status in receipts if engine_id}
    messages = {
        message.engine_message_id: message
        for message in lock_rows(
            Message.objects.filter(
                instance=instance, engine_message_id__in=engine_ids
            ).order_by("pk")
        )
    }
    now = timezone.now()
    events, moved = [], {}
    for engine_id, status in receipts:
        message = messages.get(engine_id)
        if message is None or status not in MessageStatus.values:
            continue
        steps = _steps(message.status, status)
        if not steps:
            continue
        message.status, message.error = status, ""
        moved[message.pk] = message
        events.extend(_status_events(message, steps))
    by_status: dict[str, list] = {}
    for message in moved.values():
        by_status.setdefault(message.status, []).append(message.pk)
    for status, pks in by_status.items():
        Message.objects.filter(pk__in=pks).update(
            status=status, error="", updated_at=now
        )
    if events:
        events_emit(instance=instance, events=events)
    return engine_ids - messages.keys()


def _steps(current: str | None, status: str) -> list[str]:
    """The statuses a message at `current` goes through to reach `status`,
    each announced: none when the receipt is late or repeated, or the
    message failed (or is gone); a failure only from queued or sent."""
    if current is None or current == MessageStatus.FAILED:
        return []
    if status == MessageStatus.FAILED:
        # A message already delivered or read cannot fail afterwards.
        if current in (MessageStatus.QUEUED, MessageStatus.SENT):
            return [MessageStatus.FAILED]
        return []
    return [
        step
        for step, rank in _ORDER.items()
        if _ORDER[current] < rank <= _ORDER[status]
    ]


@transaction.atomic
def _status_set(
    message: Message, status: str, *, error: str = "", only_if_unclaimed: bool = False
) -> bool:
    """Move the message forward to `status` and fire a message.status webhook
    for every step on the way, in order, in the same transaction: a "read"
    that arrives before its "delivered" announces "delivered", then "read";
    a late or repeated receipt changes nothing. The row is locked while it
    is decided, so two receipts racing each other each see the other's
    outcome and no step is announced twice or skipped. Returns whether the
    status moved."""
    rows = lock_rows(
        Message.objects.filter(pk=message.pk).values_list("status", "engine_message_id")
    )
    current, engine_id = rows[0] if rows else (None, "")
    if only_if_unclaimed and engine_id:
        return False
    steps = _steps(current, status)
    if not steps:
        return False
    Message.objects.filter(pk=message.pk).update(
        status=status, error=error, updated_at=timezone.now()
    )
    message.status = status
    message.error = error
    events_emit(instance=message.instance, events=_status_events(message, steps))
    return True


def _status_events(message: Message, steps: list[str]) -> list[tuple[str, dict]]:
    """The message.status webhook of each step, in order; a failure says why
    (the message's error)."""
    events = []
    for step in steps:
        data = {**message_event_data(message, with_content=False), "status": step}
        if step == MessageStatus.FAILED and message.error:
            data["error"] = message.error
        events.append(("message.status", data))
    return events


STUCK_AFTER = timedelta(seconds=settings.MESSAGES_STUCK_SECONDS)
# Queued and not yet handed to the engine: unclaimed, or claimed by a send.
_not_handed = Q(engine_message_id="") | Q(engine_message_id__startswith=CLAIMED)
GIVE_UP_AFTER = timedelta(hours=1)


def messages_queued_sweep() -> int:
    """Beat: fail messages still queued an hour after they were accepted, and
    queue again the send of every other message still "queued" a while
    after it was accepted (its task was lost with a broker message or a
    killed worker). message_send is idempotent, so a late original task and
    this one do not both send. Returns how many were queued again."""
    now = timezone.now()
    # Handed to the engine (its id is written) by a worker that died before
    # it recorded them: sent, not to be sent again.
    handed = list(
        Message.objects.filter(
            status=MessageStatus.QUEUED, updated_at__lt=now - STUCK_AFTER
        )
        .exclude(_not_handed)
        .select_related("instance", "media")[:500]
    )
    if handed:
        _sent_record([(message, message.engine_message_id) for message in handed])
    for message in Message.objects.filter(
        _not_handed, status=MessageStatus.QUEUED, created_at__lt=now - GIVE_UP_AFTER
    ).select_related("instance")[:500]:
        _status_set(
            message, MessageStatus.FAILED, error=_("Não foi possível enviar em 1 hora.")
        )
    # A claim this old belongs to a worker that died mid-send: at least once,
    # so the message is sent again rather than never. Only rows still stuck
    # under the lock: one a worker is claiming at this moment is skipped
    # (its claim would otherwise be wiped, and the message sent twice).
    with transaction.atomic():
        stuck = lock_rows(
            Message.objects.filter(
                _not_handed,
                status=MessageStatus.QUEUED,
                updated_at__lt=now - STUCK_AFTER,
            ).values_list("pk", flat=True)[:500],
            skip_locked=True,
        )
        Message.objects.filter(pk__in=stuck).update(
            engine_message_id="", updated_at=now, dispatched_at=now
        )
    for message_id in stuck:
        current_app.send_task(SEND_TASK, args=[str(message_id)])
    return len(stuck)
