"""What /saude/ reports: each part the system needs, checked for real, with
a short deadline so that a part that hangs is reported down, not waited for.

- database: one query;
- cache: a write and a read back (sessions and the QR poll live there);
- broker: a connection to Celery's broker (accepted sends wait there);
- worker: beat asks a worker to record a heartbeat every minute
  (plugmessage.tasks); older than WORKER_STALE_AFTER means no worker is
  taking tasks. Before the first heartbeat (a fresh install) it is
  "waiting", which is not down.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from plugmessage.models import Heartbeat

logger = logging.getLogger(__name__)

WORKER_STALE_AFTER = timedelta(minutes=3)
BROKER_TIMEOUT = 2.0
OK, DOWN, WAITING = "ok", "down", "waiting"


def system_health() -> dict:
    """{"status": "ok" | "down", "checks": {part: state}, "heartbeats":
    {name: moment}}; status is "down" when any part is."""
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "broker": _check(_broker),
    }
    beats = {}
    if checks["database"] == OK:
        beats = dict(Heartbeat.objects.values_list("name", "beat_at"))
        checks["worker"] = _worker_state(beats.get("beat"))
    else:
        checks["worker"] = DOWN  # its heartbeat cannot be read
    return {
        "status": DOWN if DOWN in checks.values() else OK,
        "checks": checks,
        "heartbeats": {name: at.isoformat() for name, at in beats.items()},
    }


def _check(probe) -> str:
    try:
        probe()
    except Exception as error:  # noqa: BLE001 - any failure is "down"
        logger.warning("health: %s is down: %s", probe.__name__.strip("_"), error)
        return DOWN
    return OK


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    stamp = timezone.now().isoformat()
    cache.set("health:probe", stamp, timeout=30)
    if cache.get("health:probe") != stamp:
        raise RuntimeError("the cache did not keep what was written")


def _broker() -> None:
    with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as broker:
        broker.ensure_connection(
            max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT
        )


def _worker_state(beat_at) -> str:
    if beat_at is None:
        return WAITING
    return OK if timezone.now() - beat_at <= WORKER_STALE_AFTER else DOWN
