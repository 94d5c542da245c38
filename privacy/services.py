"""What PlugMessage keeps, and for how long (DESIGN rule 11, LGPD).

Retention: every kind of row that carries what people wrote, or what was
posted about it, is deleted once older than its period (settings
RETENTION_*_DAYS) by beat's sweep, in bounded batches. Each kind is one
line of RETAINED; a new table of such data is one more line.

Erasure: a customer (or staff, for them, audited) erases what one instance
holds about one phone number: the messages sent to it and received from it,
the simulator's copies, their media (files too) and the webhook events about
it with their deliveries. Its exclusion-list entry stays: it is the opt-out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record_create
from instances.engines import engine_get
from instances.models import (
    EngineInboxEntry,
    ImportStatus,
    InboxStatus,
    Instance,
    MediaFile,
    Message,
    MessageStatus,
    ReceivedMessage,
    SimulatedMessage,
)
from instances.phones import phone_from_engine
from plugmessage.broker import task_after_commit
from plugmessage.locks import (
    LockTimeout,
    lease_free,
    lock_one,
    lock_rows,
    lock_timeout_raised,
)
from privacy import selectors
from privacy.models import ContactErasure, ErasureStatus
from webhooks.models import DeliveryStatus, WebhookDelivery

logger = logging.getLogger(__name__)


def _media_in_use() -> Q:
    # A queued message still has to send its file; a profile picture is the
    # number's current one, whatever its age.
    return Q(
        Exists(
            Message.objects.filter(media=OuterRef("pk"), status=MessageStatus.QUEUED)
        )
    ) | Q(Exists(Instance.objects.filter(profile_picture=OuterRef("pk"))))


@dataclass(frozen=True)
class Retained:
    """One kind of row deleted `days_setting` days after its `age_field`,
    except the rows `keep` selects (however old: someone still needs them).
    `files` names a FileField whose files in storage go with the rows."""

    model: str
    days_setting: str
    age_field: str
    keep: object = None  # a callable returning a Q, evaluated at each batch
    files: str = ""

    @property
    def model_class(self):
        return apps.get_model(self.model)


# In this order: what references a row goes before it, so that a message's
# deletion frees its media, and a delivery's its event, in the same run.
RETAINED = [
    # Message text. A queued message is still to be sent (or being sent).
    Retained(
        "instances.Message",
        "RETENTION_MESSAGES_DAYS",
        "created_at",
        keep=lambda: Q(status=MessageStatus.QUEUED),
    ),
    Retained("instances.ReceivedMessage", "RETENTION_MESSAGES_DAYS", "received_at"),
    # The simulator's own copy of its conversations.
    Retained("instances.SimulatedMessage", "RETENTION_MESSAGES_DAYS", "sent_at"),
    Retained(
        "instances.MediaFile",
        "RETENTION_MEDIA_DAYS",
        "created_at",
        keep=_media_in_use,
        files="file",
    ),
    # Deliveries take their attempts (request headers, response bodies) with
    # them. A pending one is still being retried.
    Retained(
        "webhooks.WebhookDelivery",
        "RETENTION_DELIVERIES_DAYS",
        "created_at",
        keep=lambda: Q(status=DeliveryStatus.PENDING),
    ),
    # An event (its payload is the body every delivery posts) goes once no
    # delivery of it is left: the log shows the body of each delivery.
    Retained(
        "webhooks.WebhookEvent",
        "RETENTION_EVENTS_DAYS",
        "created_at",
        keep=lambda: Q(deliveries__isnull=False),
    ),
    # What the engine posted (messages received, with their text), kept in
    # the inbox of engine events; one still to be applied stays.
    Retained(
        "instances.EngineInboxEntry",
        "RETENTION_EVENTS_DAYS",
        "received_at",
        keep=lambda: Q(status=InboxStatus.PENDING),
    ),
    # An exclusion-list import: its uploaded text is deleted when it is
    # done; its report (the rejected lines as written) goes after this.
    Retained(
        "instances.ExclusionImport",
        "RETENTION_EVENTS_DAYS",
        "created_at",
        keep=lambda: Q(status=ImportStatus.PENDING),
    ),
]


def retention_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than its retention period (RETAINED), at most
    RETENTION_BATCH_SIZE rows a transaction and RETENTION_MAX_BATCHES
    transactions a kind per call, so a call never holds locks for long nor
    runs unbounded; what is left goes on the next call. A period of 0 keeps
    that kind forever.

    Safe beside senders and workers: each batch locks its rows with SKIP
    LOCKED, so a row another transaction holds (a receipt being applied, a
    delivery being posted) is left for the next call instead of waited for,
    and the keep rule is checked again under the lock. A wait for another
    lock (the media of a message a receipt holds) is bounded by the lock
    timeout; then this kind stops until the next call. Files in storage are
    deleted after their rows' transaction commits. Idempotent; returns the
    rows deleted, by model label."""
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    for retained in RETAINED:
        days = getattr(settings, retained.days_setting)
        if not days:
            continue
        cutoff = now - timedelta(days=days)
        total = 0
        for _batch in range(settings.RETENTION_MAX_BATCHES):
            try:
                count = _batch_delete(retained, cutoff)
            except LockTimeout:
                logger.warning("retention of %s waited too long", retained.model)
                break
            total += count
            if count < settings.RETENTION_BATCH_SIZE:
                break
        deleted[retained.model] = total
        if total:
            logger.info("retention deleted %d %s rows", total, retained.model)
    return deleted


def _batch_delete(retained: Retained, cutoff: datetime) -> int:
    model = retained.model_class
    old = model._default_manager.filter(**{f"{retained.age_field}__lt": cutoff})
    if retained.keep is not None:
        old = old.exclude(retained.keep())
    with transaction.atomic():
        # No ORDER BY: the oldest rows are found first without an index on
        # the age column, and which batch goes first does not matter.
        ids = lock_rows(
            old.values_list("pk", flat=True)[: settings.RETENTION_BATCH_SIZE],
            skip_locked=True,
        )
        if not ids:
            return 0
        names = []
        if retained.files:
            names = [
                name
                for name in model._default_manager.filter(pk__in=ids).values_list(
                    retained.files, flat=True
                )
                if name
            ]
        with lock_timeout_raised():
            # Clearing the references to a file may wait on a message row a
            # receipt holds: no longer than the timeout lock_rows set.
            model._default_manager.filter(pk__in=ids).delete()
        if names:
            storage = model._meta.get_field(retained.files).storage
            transaction.on_commit(partial(files_delete, storage, names))
    return len(ids)


def files_delete(storage, names: list[str]) -> None:
    """Delete files whose rows are gone. A file that cannot be deleted now is
    logged (by name: a random id, nothing personal) and left."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 - the rest still go
            logger.warning("could not delete the file %s", name, exc_info=True)


# Erasure of one contact's data.

ERASE_TASK = "privacy.tasks.contact_erasure_run_task"
# Rows deleted a statement: bounds each statement, not the transaction.
ERASE_BATCH = 500
# A request whose task has not finished after this long is run by beat.
ERASURE_RESUME_AFTER = timedelta(minutes=5)


def contact_erasure_request(
    *,
    instance: Instance,
    phone: str,
    actor: User,
    by_staff: bool = False,
    reason: str = "",
) -> ContactErasure:
    """Ask for the erasure of what `instance` holds about `phone` (E.164,
    as instances.phones.phone_to_e164 gives it); a task does it after commit
    (contact_erasure_run) and the request records the result. A pending
    request for the same number and instance is returned instead of a second
    one (a form sent twice by the same person). Staff must give a reason (ValidationError),
    written to the audit record with the deletion."""
    if by_staff and not reason.strip():
        raise ValidationError(
            _("Informe o motivo: toda ação da equipe fica registrada.")
        )
    pending = ContactErasure.objects.filter(
        instance=instance,
        phone=phone,
        status=ErasureStatus.PENDING,
        by_staff=by_staff,
        requested_by=actor,
    ).first()
    if pending is not None:
        return pending
    erasure = ContactErasure.objects.create(
        instance=instance,
        phone=phone,
        phone_masked=selectors.phone_masked(phone),
        requested_by=actor,
        by_staff=by_staff,
        reason=reason.strip(),
    )
    # While Redis is down the request is kept; beat resumes it later.
    task_after_commit("contact erasure", ERASE_TASK, erasure.pk)
    return erasure


def contact_erasure_run(*, erasure_id: int) -> ContactErasure:
    """Erase what a request asks for, in one transaction: every row of the
    contact is locked (SKIP LOCKED: one a receipt or a sender holds right now
    is left) and deleted a batch of ERASE_BATCH at a time, media files after
    commit. Left too: a message the engine is being handed this moment and
    a delivery a worker is posting (counted as "left"; the next erasure or
    the retention sweep takes them). The request becomes done with its
    counts and forgets the number (its masked form stays); a staff request
    writes its audit record in the same transaction. Idempotent: a request
    already done is returned as it is."""
    with transaction.atomic():
        # The request's row only: a join would lock the instance too.
        erasure = lock_one(ContactErasure, pk=erasure_id)
        if erasure.status == ErasureStatus.DONE:
            return erasure
        instance = Instance.objects.select_related("owner").get(pk=erasure.instance_id)
        phone = erasure.phone
        rows = selectors.contact_rows(instance, phone)
        counts = dict.fromkeys(selectors.ERASED_KINDS, 0)
        media_ids: set = set()
        being_sent = Q(status=MessageStatus.QUEUED) & ~Q(engine_message_id="")
        for kind, model, queryset in [
            ("sent", Message, rows.sent.exclude(being_sent)),
            ("received", ReceivedMessage, rows.received),
            ("simulated", SimulatedMessage, rows.simulated),
        ]:
            counts[kind] = _erase_batches(model, queryset, media_ids)
        counts["media"], names = _media_erase(instance, media_ids)
        counts["deliveries"] = _erase_batches(
            WebhookDelivery,
            WebhookDelivery.objects.filter(event__in=rows.events).filter(
                lease_free(timezone.now())
            ),
        )
        delivered = WebhookDelivery.objects.filter(event=OuterRef("pk"))
        counts["events"] = _erase_batches(
            rows.events.model, rows.events.filter(~Exists(delivered))
        )
        counts["engine_events"] = _inbox_erase(instance, phone)
        counts["left"] = (
            rows.sent.count()
            + rows.received.count()
            + rows.simulated.count()
            + rows.events.count()
        )
        erasure.status, erasure.counts = ErasureStatus.DONE, counts
        erasure.finished_at = timezone.now()
        erasure.phone = ""
        erasure.save(update_fields=["status", "counts", "finished_at", "phone"])
        if erasure.by_staff:
            audit_record_create(
                actor=erasure.requested_by,
                customer=instance.owner,
                action="contact_data_erase",
                target=f"{_('Instância')} {instance.name}",
                before={"phone": erasure.phone_masked, "instance_id": str(instance.pk)},
                after={"erased": counts},
                reason=erasure.reason,
            )
        if names:
            storage = MediaFile._meta.get_field("file").storage
            transaction.on_commit(partial(files_delete, storage, names))
    return erasure


def _erase_batches(model, queryset, media_ids: set | None = None) -> int:
    """Lock and delete what `queryset` selects, a batch at a time, skipping
    rows held elsewhere; collect the media the rows point at."""
    total = 0
    while True:
        if media_ids is not None:
            batch = lock_rows(
                queryset.values_list("pk", "media_id")[:ERASE_BATCH], skip_locked=True
            )
            media_ids.update(media for _pk, media in batch if media)
            ids = [pk for pk, _media in batch]
        else:
            ids = lock_rows(
                queryset.values_list("pk", flat=True)[:ERASE_BATCH], skip_locked=True
            )
        if not ids:
            return total
        with lock_timeout_raised():
            model._default_manager.filter(pk__in=ids).delete()
        total += len(ids)


def _inbox_erase(instance: Instance, phone: str) -> int:
    """Delete what the engine posted about the number and is kept in its
    inbox (instances.inbox): the raw body carries the number and the text,
    and one still pending would bring an erased message back when applied.
    Bodies are narrowed by the number's last digits (present in every form
    WhatsApp writes it), then kept only if an event they hold is the
    contact's."""
    digits = phone.lstrip("+")[-8:]
    candidates = EngineInboxEntry.objects.filter(
        engine_ref=instance.engine_ref, payload__icontains=digits
    ).values_list("pk", "payload")
    engine = engine_get()
    ids = []
    for pk, payload in candidates.iterator(chunk_size=ERASE_BATCH):
        for event in engine.events_from_webhook(payload):
            try:
                number = phone_from_engine(event.phone_number)
            except ValidationError:
                continue
            if number == phone:
                ids.append(pk)
                break
    total = 0
    for start in range(0, len(ids), ERASE_BATCH):
        total += _erase_batches(
            EngineInboxEntry,
            EngineInboxEntry.objects.filter(pk__in=ids[start : start + ERASE_BATCH]),
        )
    return total


def _media_erase(instance: Instance, media_ids: set) -> tuple[int, list[str]]:
    """Delete the media rows (not the instance's profile picture, nor a file
    a message left behind still needs) and return their file names."""
    media_ids.discard(instance.profile_picture_id)
    still_used = set(
        Message.objects.filter(media__in=media_ids).values_list("media_id", flat=True)
    )
    ids = list(media_ids - still_used)
    names = []
    for start in range(0, len(ids), ERASE_BATCH):
        chunk = ids[start : start + ERASE_BATCH]
        names += [
            name
            for name in MediaFile.objects.filter(pk__in=chunk).values_list(
                "file", flat=True
            )
            if name
        ]
        with lock_timeout_raised():
            MediaFile.objects.filter(pk__in=chunk).delete()
    return len(ids), names


def contact_erasures_resume(*, now: datetime | None = None) -> int:
    """Run the requests whose task was lost (a broker outage, a killed
    worker): pending for longer than ERASURE_RESUME_AFTER. Returns how many
    were run."""
    now = now or timezone.now()
    stale = list(
        ContactErasure.objects.filter(
            status=ErasureStatus.PENDING, created_at__lt=now - ERASURE_RESUME_AFTER
        ).values_list("pk", flat=True)[:20]
    )
    for erasure_id in stale:
        contact_erasure_run(erasure_id=erasure_id)
    return len(stale)
