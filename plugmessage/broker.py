"""Asking for background work from a request while Redis may be down.

A request that accepted something (a message, a webhook event) asks the
broker for the task that carries it on, after commit. When Redis is away
that ask fails; what was accepted is in the database, and beat's sweeps
queue it once Redis is back, so the request must neither fail nor wait. The
first failure of an outage is logged in one line; later asks skip the
broker for a few seconds (no pile of retries behind every request) and stay
silent until one succeeds again.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure, asks are skipped for this long.
PAUSE_SECONDS = 5.0
UNAVAILABLE = (RedisError, KombuOperationalError, OSError)

_lock = threading.Lock()
_paused_until = 0.0
_down = False


def broker_ask(what: str, call: Callable[[], object]) -> bool:
    """Run `call` (publish a task, mark a flag in the cache) unless Redis
    was found down moments ago. True when it ran; False when it was skipped
    or Redis is unavailable (logged once per outage)."""
    global _paused_until, _down
    if time.monotonic() < _paused_until:
        return False
    try:
        call()
    except UNAVAILABLE as error:
        with _lock:
            _paused_until = time.monotonic() + PAUSE_SECONDS
            first = not _down
            _down = True
        if first:
            logger.warning(
                "broker unavailable (%s), %s left to beat's sweeps: %s",
                error.__class__.__name__,
                what,
                str(error).splitlines()[0][:200] if str(error) else "",
            )
        return False
    if _down:
        with _lock:
            _down = False
        logger.warning("broker available again")
    return True


def task_after_commit(what: str, name: str, *args) -> None:
    """Queue the task `name` once the current transaction commits, through
    broker_ask: while Redis is down the request still succeeds (what it did
    is committed) and the outage is logged once; the task's own sweep, where
    it has one, queues it later."""
    from celery import current_app

    def ask() -> None:
        broker_ask(what, lambda: current_app.send_task(name, args=list(args)))

    transaction.on_commit(ask)
