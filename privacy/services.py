"""What PlugMessage keeps, and for how long (DESIGN rule 11, LGPD).

Retention: every kind of row that carries what people wrote, or what was
posted about it, is deleted once older than its period (settings
RETENTION_*_DAYS) by beat's sweep, in bounded batches. Each kind is one
line of RETAINED; a new table of such data (an inbox of engine events, say)
is one more line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from instances.models import Instance, Message, MessageStatus
from plugmessage.locks import LockTimeout, lock_rows, lock_timeout_raised
from webhooks.models import DeliveryStatus

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
