"""The Celery application: Redis in CI and production, kombu's filesystem
transport under ``var/`` for ``make run`` (no Redis needed)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plugmessage.settings")

app = Celery("plugmessage", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_tidy(**kwargs) -> None:
    """Around every task, what Django does around every request: close the
    connections that are unusable (PostgreSQL restarted) or older than
    CONN_MAX_AGE, and keep the rest (CELERY_DB_REUSE_MAX keeps Celery's own
    fixup from closing them all)."""
    from django.db import close_old_connections

    close_old_connections()


def _redis_channel_close_survives_a_lost_broker() -> None:
    """Keep the worker alive when Redis goes away while it holds unacked
    messages (a task with an ETA, a late-acked task).

    kombu 5.7.0's Redis transport, on the lost connection, closes its channel,
    and closing restores the unacked messages through a new client built
    from the transport's connection details, which the connection has already
    dropped: `'NoneType' object has no attribute 'hostname'`, an
    AttributeError the worker does not expect, so it stops with
    "Unrecoverable error" (a known family of kombu reconnect bugs; no
    release fixes it yet). Here that case raises the Redis connection error
    it really is: the close goes on, the worker reconnects when Redis is
    back, and the unacked messages stay in Redis's unacked set, from where
    kombu restores them after the visibility timeout (and PlugMessage's own
    sweeps do not wait for that). Proved by
    tests/plugmessage/test_redis_outage.py against a real Redis."""
    from kombu.transport import redis as kombu_redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    original = kombu_redis.Channel._connparams
    if getattr(original, "plugmessage_patched", False):
        return

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return original(self, asynchronous=asynchronous)

    _connparams.plugmessage_patched = True
    kombu_redis.Channel._connparams = _connparams


_redis_channel_close_survives_a_lost_broker()
