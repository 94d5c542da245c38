"""Django's Redis cache, kept cheap while Redis answers and harmless while
it does not.

Cheap: Django's client builds a new redis.Redis for every operation; with
redis-py 8 that costs more than the round trip itself (its command table is
copied each time). Here each connection pool has one client, made once per
process, which redis-py allows (a client is thread-safe; the pool hands out
connections).

Harmless: the cache holds nothing the database does not (sessions are
written through to it, the QR poll's entry and the rendered QR codes are
rebuilt from rows, allauth's rate limits start again), so while Redis is
down a read is a miss, a write is dropped and `add` answers True, as if this
caller were the first: a rate limit lets the request through and a "queue
it once" flag leaves the decision to the broker call that follows, which
fails and is handled where it is made (plugmessage.broker). The first
failure of an outage is logged in one line; for PAUSE_SECONDS after a
failure Redis is not tried at all, so requests do not each wait for a
connection attempt. `incr` and `clear` still raise: their callers need the
answer.
"""

import functools
import logging
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 2.0
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _Client(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class _Outage:
    """Whether Redis failed moments ago; logs the start and end of an
    outage once each."""

    def __init__(self):
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._down = False

    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def failed(self, error: Exception) -> None:
        with self._lock:
            self._paused_until = time.monotonic() + PAUSE_SECONDS
            first, self._down = not self._down, True
        if first:
            logger.warning(
                "cache unavailable (%s), reads miss and writes are dropped: %s",
                error.__class__.__name__,
                str(error).splitlines()[0][:200] if str(error) else "",
            )

    def answered(self) -> None:
        if self._down:
            with self._lock:
                self._down = False
            logger.warning("cache available again")


def _degrades(on_outage):
    """Run the operation unless Redis is paused; on a connection failure
    answer `on_outage(*args, **kwargs)` instead of raising."""

    def decorate(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            if self._outage.paused():
                return on_outage(*args, **kwargs)
            try:
                result = method(self, *args, **kwargs)
            except UNAVAILABLE as error:
                self._outage.failed(error)
                return on_outage(*args, **kwargs)
            self._outage.answered()
            return result

        return run

    return decorate


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
        self._outage = _Outage()

    @_degrades(lambda key, default=None, version=None: default)
    def get(self, key, default=None, version=None):
        return super().get(key, default, version)

    @_degrades(lambda keys, version=None: {})
    def get_many(self, keys, version=None):
        return super().get_many(keys, version)

    @_degrades(lambda *args, **kwargs: True)
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().add(key, value, timeout, version)

    @_degrades(_nothing)
    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set(key, value, timeout, version)

    @_degrades(lambda *args, **kwargs: [])
    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set_many(data, timeout, version)

    @_degrades(_false)
    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return super().touch(key, timeout, version)

    @_degrades(_false)
    def delete(self, key, version=None):
        return super().delete(key, version)

    @_degrades(_nothing)
    def delete_many(self, keys, version=None):
        return super().delete_many(keys, version)

    @_degrades(_false)
    def has_key(self, key, version=None):
        return super().has_key(key, version)
