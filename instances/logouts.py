"""Engine logouts that must happen even when the engine is down at that
moment: an instance that expired or was cancelled, a session refused or
given up on. A logout that fails is recorded (EngineLogout) and retried by
beat, with backoff, until the engine confirms it, so no number stays live at
the engine while the panel says it is not. A new connection of the instance
makes a pending logout moot (the engine's new session replaces the old)."""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from instances.engines import engine_get, session_of
from instances.engines.base import EngineError
from instances.models import EngineLogout, Instance
from plugmessage.locks import lease_free, lease_take

logger = logging.getLogger(__name__)

# Waits between tries; the last one repeats for as long as it takes.
RETRY_SCHEDULE = [
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
]
LEASE = timedelta(seconds=60)
BATCH = 100


def _wait(attempts: int) -> timedelta:
    return RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]


def logout_or_retry(instance: Instance) -> bool:
    """Close the instance's engine session now; when the engine cannot be
    reached, record the logout for beat to retry. True when it closed now."""
    try:
        engine_get().session_logout(session_of(instance))
    except EngineError as error:
        logger.warning("could not log out session %s; retrying", instance.engine_ref)
        _record(instance, error)
        return False
    return True


def _record(instance: Instance, error: Exception) -> None:
    now = timezone.now()
    try:
        with transaction.atomic():
            EngineLogout.objects.create(
                instance=instance,
                requested_at=now,
                next_attempt_at=now + _wait(1),
                error=str(error)[:2000],
            )
    except IntegrityError:
        pass  # already pending: its own schedule goes on


def logout_pending_finish(instance: Instance) -> bool:
    """Before the instance connects again: a logout still pending from
    before is done now (the engine will not open a new session over the
    old one). Raises the engine's error when it still cannot be reached;
    False when a retry is closing the old session at this very moment (the
    caller asks the customer to wait a moment)."""
    pending = EngineLogout.objects.filter(instance_id=instance.pk).first()
    if pending is None:
        return True
    now = timezone.now()
    lease = now + LEASE
    if not lease_take(EngineLogout.objects.filter(pk=pending.pk), now=now, until=lease):
        return False
    try:
        engine_get().session_logout(session_of(instance))
    except EngineError:
        EngineLogout.objects.filter(pk=pending.pk, locked_until=lease).update(
            locked_until=None
        )
        raise
    EngineLogout.objects.filter(pk=pending.pk, locked_until=lease).delete()
    return True


def logouts_retry(*, limit: int = BATCH) -> int:
    """Beat: retry the pending logouts that are due. Returns how many the
    engine confirmed."""
    now = timezone.now()
    due = list(
        EngineLogout.objects.filter(lease_free(now), next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(_retry(pk, now) for pk in due)


def _retry(pk: int, now) -> bool:
    lease = now + LEASE
    if not lease_take(EngineLogout.objects.filter(pk=pk), now=now, until=lease):
        return False  # another worker has it, or it was forgotten
    pending = EngineLogout.objects.select_related("instance").get(pk=pk)
    try:
        engine_get().session_logout(session_of(pending.instance))
    except EngineError as error:
        attempts = pending.attempts + 1
        EngineLogout.objects.filter(pk=pk, locked_until=lease).update(
            attempts=attempts,
            next_attempt_at=timezone.now() + _wait(attempts),
            locked_until=None,
            error=str(error)[:2000],
        )
        return False
    EngineLogout.objects.filter(pk=pk, locked_until=lease).delete()
    logger.info("session %s logged out on retry", pending.instance.engine_ref)
    return True
