"""The inbox of what the engine posts to /motor/eventos/.

Each body is stored before it is applied, in its own committed row, and only
then applied: a failure while applying it, or a process that dies halfway,
leaves the row to be applied again by beat (inbox_drain), with backoff, and
staff see in the admin what failed and why. The engine is told 200 only for
a body that is stored; when the database cannot store it, the engine hears
an error and posts it again. The same body posted twice is stored once.

Applying is idempotent: statuses only move forward, a received message is
kept once per WhatsApp id, and a state change that no longer applies is
ignored, so a body applied again after a partial failure changes nothing
that was already applied.
"""

import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from instances import services
from instances.engines import engine_get
from instances.models import EngineInboxEntry, InboxStatus
from plugmessage.locks import lease_free, lease_take

logger = logging.getLogger(__name__)

# How long an applier holds an entry: one that dies lets it go after this.
LEASE = timedelta(seconds=60)
# The request that stored an entry applies it at once; beat looks at it only
# after this, so the two seldom meet (the lease keeps them apart if they do).
FIRST_RETRY = timedelta(seconds=30)
# After a failed apply: wait this long before the next try; after the last,
# the entry is given up ("Desistimos") and waits for staff.
RETRY_SCHEDULE = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
]
BATCH = 100


class ApplyFailed(Exception):
    """Some events of an entry could not be applied."""


def payload_key(payload: dict) -> str:
    """The entry's identity: the body itself. The engine's events carry no
    id of their own, and a body posted again is the same bytes of JSON
    (each carries its moment and its WhatsApp ids)."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def inbox_receive(payload: dict) -> dict:
    """Store what the engine posted, then apply it. Raises the database's
    error when it cannot be stored (the caller must not say it was
    received); once stored, a failure to apply is the inbox's to retry.
    Returns what the engine is answered."""
    entry, created = _store(payload)
    if not created and entry.status != InboxStatus.PENDING:
        return {"received": 0, "duplicate": True}
    try:
        inbox_entry_apply(entry.pk)
    except Exception:  # noqa: BLE001 - stored: beat applies it again
        logger.exception("engine inbox entry %s not applied now", entry.pk)
    return {"received": len(engine_get().events_from_webhook(payload))}


def _store(payload: dict) -> tuple[EngineInboxEntry, bool]:
    # Evolution repeats the instance's own API key in every body: not kept.
    payload = _without_nul({k: v for k, v in payload.items() if k != "apikey"})
    key = payload_key(payload)
    now = timezone.now()
    try:
        with transaction.atomic():
            return (
                EngineInboxEntry.objects.create(
                    key=key,
                    engine_ref=str(payload.get("instance") or "")[:200],
                    kind=str(payload.get("event") or "")[:60],
                    payload=payload,
                    received_at=now,
                    next_attempt_at=now + FIRST_RETRY,
                ),
                True,
            )
    except IntegrityError:
        # The same body again (the engine retried), perhaps at this moment.
        return EngineInboxEntry.objects.get(key=key), False


def _without_nul(value):
    """PostgreSQL's jsonb refuses NUL characters: they are kept as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _claim(entry_id: int, now) -> EngineInboxEntry | None:
    """Hold a pending entry nobody holds, with a lease; None when another
    applier has it or it is no longer pending."""
    held = lease_take(
        EngineInboxEntry.objects.filter(pk=entry_id, status=InboxStatus.PENDING),
        now=now,
        until=now + LEASE,
    )
    return EngineInboxEntry.objects.get(pk=entry_id) if held else None


def inbox_entry_apply(entry_id: int) -> bool:
    """Apply one pending entry if nobody else holds it; True when it was
    applied. A failure is recorded on the entry with its next try."""
    now = timezone.now()
    entry = _claim(entry_id, now)
    if entry is None:
        return False
    try:
        events = engine_get().events_from_webhook(entry.payload)
        failures = services.engine_events_apply(events)
        if failures:
            raise ApplyFailed("; ".join(failures))
    except Exception as error:  # noqa: BLE001 - recorded for staff, retried
        _failed(entry, error)
        return False
    EngineInboxEntry.objects.filter(
        pk=entry.pk, locked_until=entry.locked_until
    ).update(
        status=InboxStatus.APPLIED,
        applied_at=timezone.now(),
        locked_until=None,
        error="",
    )
    return True


def _failed(entry: EngineInboxEntry, error: Exception) -> None:
    now = timezone.now()
    attempts = entry.attempts + 1
    gave_up = attempts > len(RETRY_SCHEDULE)
    text = str(error) or error.__class__.__name__
    if not isinstance(error, ApplyFailed):
        text = f"{error.__class__.__name__}: {text}"
    EngineInboxEntry.objects.filter(
        pk=entry.pk, locked_until=entry.locked_until
    ).update(
        attempts=attempts,
        status=InboxStatus.FAILED if gave_up else InboxStatus.PENDING,
        next_attempt_at=None if gave_up else now + RETRY_SCHEDULE[attempts - 1],
        locked_until=None,
        error=text[:2000],
    )
    log = logger.error if gave_up else logger.warning
    log("engine inbox entry %s failed (attempt %d): %s", entry.pk, attempts, text[:300])


def inbox_drain(*, limit: int = BATCH) -> int:
    """Beat: apply the pending entries whose next try is due, oldest first,
    at most `limit` of them. Returns how many were applied."""
    now = timezone.now()
    due = list(
        EngineInboxEntry.objects.filter(
            lease_free(now), status=InboxStatus.PENDING, next_attempt_at__lte=now
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(inbox_entry_apply(entry_id) for entry_id in due)


def inbox_entries_retry(entry_ids: list[int]) -> int:
    """Staff: try these entries again now, given up ones included. Returns
    how many were applied."""
    EngineInboxEntry.objects.filter(pk__in=entry_ids).exclude(
        status=InboxStatus.APPLIED
    ).update(status=InboxStatus.PENDING, next_attempt_at=timezone.now())
    return sum(inbox_entry_apply(entry_id) for entry_id in entry_ids)
