"""Services for messages sent through an instance's API: accept (or refuse
with a reason), send through the engine from a task, follow the receipts."""

import logging
import uuid
from datetime import timedelta

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from instances import health
from instances.engines import engine_get
from instances.engines.base import EngineError, EngineSession, EngineUnavailable
from instances.models import Instance, InstanceState, Message, MessageStatus
from instances.phones import phone_to_e164
from plugmessage.locks import lock_rows
from webhooks.services import event_emit

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
SEND_TASK = "instances.tasks.message_send_task"
DISPATCH_TASK = "instances.tasks.messages_dispatch_task"
# Set while a dispatch is queued: accepted sends then need no publish of their own.
DISPATCH_PENDING = "messages:dispatch-pending"
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


def message_send_text(*, instance: Instance, phone: str, text: str) -> Message:
    """Accept a text message for sending: checks, then a queued Message and,
    after commit, the task that hands it to the engine. Nothing is queued when
    a check fails (SendRefused: 402, 409, 413 or 422)."""
    if not instance_may_work(instance):
        raise _not_working_refusal(instance)
    if instance.state != InstanceState.CONNECTED:
        raise SendRefused(
            409,
            "instance_not_connected",
            _("A instância não está conectada ao WhatsApp."),
        )
    if len(text) > MAX_TEXT:
        raise SendRefused(413, "text_too_long", _("O texto passa de 4096 caracteres."))
    if not text.strip():
        raise SendRefused(422, "empty_text", _("O texto da mensagem está vazio."))
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
        message = _queue(instance, to, text)
    return message


def _queue(
    instance: Instance, to: str, text: str, *, opt_out_reply: bool = False
) -> Message:
    message = Message.objects.create(
        instance=instance, to=to, text=text, is_opt_out_reply=opt_out_reply
    )
    transaction.on_commit(messages_dispatch_request, robust=True)
    return message


def messages_dispatch_request() -> None:
    """After a message is accepted: make sure a dispatch will see it. Under
    load one dispatch serves many requests, so a request costs one cache
    round trip instead of a broker publish of its own."""
    if cache.add(DISPATCH_PENDING, 1, timeout=10):
        current_app.send_task(DISPATCH_TASK)


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
                .values_list("pk", flat=True)[:DISPATCH_BATCH],
                skip_locked=True,
            )
            Message.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())
        for message_id in ids:
            current_app.send_task(SEND_TASK, args=[str(message_id)])
        queued += len(ids)
        if len(ids) < DISPATCH_BATCH:
            return queued


def opt_out_reply_send(*, instance: Instance, to: str) -> Message | None:
    """The configured confirmation to someone who just opted out: the one
    message an excluded number still gets, outside the daily limit."""
    if not instance.opt_out_reply.strip() or instance.state != InstanceState.CONNECTED:
        return None
    return _queue(instance, to, instance.opt_out_reply.strip(), opt_out_reply=True)


def message_send(*, message_id) -> Message | None:
    """Hand a queued message to the engine (the task's work). Idempotent: the
    message is claimed with one conditional UPDATE, so of two tasks for it
    (a late original and the sweeper's) only one sends. An engine outage
    releases the claim for the next try (EngineUnavailable is raised for the
    task); a refusal marks it failed."""
    claim = f"{CLAIMED}{uuid.uuid4().hex}"
    claimed = Message.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, engine_message_id=""
    ).update(engine_message_id=claim, updated_at=timezone.now())
    message = Message.objects.select_related("instance").filter(pk=message_id).first()
    if not claimed or message is None:
        return message
    instance = message.instance
    # What was true when the message was accepted may not be now: it may have
    # waited in the queue while its recipient opted out or the trial ended.
    refusal = _refusal_at_send_time(message)
    if refusal:
        _status_set(message, MessageStatus.FAILED, error=refusal)
        return message
    session = EngineSession(instance.engine_ref, instance.engine_token)
    try:
        engine_id = engine_get().message_send_text(
            session, to=message.to, text=message.text
        )
    except EngineUnavailable:
        Message.objects.filter(pk=message.pk, engine_message_id=claim).update(
            engine_message_id=""
        )
        raise
    except EngineError as error:
        _status_set(message, MessageStatus.FAILED, error=str(error)[:300])
        return message
    with transaction.atomic():
        # The engine's id and "sent" are written together: no crash can leave
        # a sent message looking queued (and so send it again).
        Message.objects.filter(pk=message.pk).update(engine_message_id=engine_id)
        message.engine_message_id = engine_id
        _status_set(message, MessageStatus.SENT)
        event_emit(
            instance=instance,
            kind="message.sent",
            data={
                "message_id": str(message.pk),
                "to": message.to,
                "text": message.text,
            },
        )
    return message


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


def message_receipt_apply(
    *, instance: Instance, engine_message_id: str, status: str
) -> bool | None:
    """Move a sent message forward on an engine receipt and announce it.
    Returns None for receipts of messages not sent through the API, True when
    the status moved, False when the receipt was late or repeated (ignored)."""
    message = Message.objects.filter(
        instance=instance, engine_message_id=engine_message_id
    ).first()
    if message is None:
        return None
    if status not in MessageStatus.values:
        return False
    return _status_set(message, status)


@transaction.atomic
def _status_set(message: Message, status: str, *, error: str = "") -> bool:
    """Write a new status if it moves the message forward (one conditional
    UPDATE, so late or repeated receipts change nothing) and fire the
    message.status webhook in the same transaction."""
    forward = Message.objects.filter(pk=message.pk).exclude(status=MessageStatus.FAILED)
    if status == MessageStatus.FAILED:
        # A message already delivered or read cannot fail afterwards.
        forward = forward.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENT])
    else:
        rank = Case(
            *[When(status=s, then=Value(r)) for s, r in _ORDER.items()],
            output_field=IntegerField(),
        )
        forward = forward.annotate(rank=rank).filter(rank__lt=_ORDER[status])
    if not forward.update(status=status, error=error, updated_at=timezone.now()):
        return False
    message.status = status
    data = {"message_id": str(message.pk), "to": message.to, "status": status}
    if error:
        data["error"] = error
    event_emit(instance=message.instance, kind="message.status", data=data)
    return True


STUCK_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(hours=1)


def messages_queued_sweep() -> int:
    """Beat: fail messages still queued an hour after they were accepted, and
    queue again the send of every other message still "queued" a while
    after it was accepted (its task was lost with a broker message or a
    killed worker). message_send is idempotent, so a late original task and
    this one do not both send. Returns how many were queued again."""
    now = timezone.now()
    for message in Message.objects.filter(
        status=MessageStatus.QUEUED, created_at__lt=now - GIVE_UP_AFTER
    ).select_related("instance")[:500]:
        _status_set(
            message, MessageStatus.FAILED, error=_("Não foi possível enviar em 1 hora.")
        )
    stuck = list(
        Message.objects.filter(
            status=MessageStatus.QUEUED, updated_at__lt=now - STUCK_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    if stuck:
        # A claim this old belongs to a worker that died mid-send: at least
        # once, so the message is sent again rather than never.
        Message.objects.filter(pk__in=stuck).update(
            engine_message_id="", updated_at=now, dispatched_at=now
        )
    for message_id in stuck:
        current_app.send_task(SEND_TASK, args=[str(message_id)])
    return len(stuck)
