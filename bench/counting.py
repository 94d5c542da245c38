"""SQL statements and new database connections per process, for the
pipeline benchmark (bench/pipeline.py), counted from Django's execute
wrappers and its connection_created signal.

Each process adds its counts to Redis (BENCH_COUNTER_URL) under
bench:<what>:<BENCH_ROLE> from a thread of its own, twice a second, so the
measured path pays one integer increment per statement and no round trip.
Loaded by bench.counting_settings; nothing in the project imports it."""

import os
import threading
import time

from django.db.backends.signals import connection_created

FLUSH_SECONDS = 0.5
_counts = {"statements": 0, "connections": 0}
_flusher_pid = None
_lock = threading.Lock()


def _count(execute, sql, params, many, context):
    _counts["statements"] += 1
    return execute(sql, params, many, context)


def _flush_forever(url: str, role: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    sent = {"statements": 0, "connections": 0}
    while True:
        time.sleep(FLUSH_SECONDS)
        pipe = client.pipeline()
        for what, total in list(_counts.items()):
            if total != sent[what]:
                pipe.incrby(f"bench:{what}:{role}", total - sent[what])
                sent[what] = total
        pipe.execute()


def _ensure_flusher() -> None:
    """A flushing thread in this process (started lazily: a forked worker
    child does not inherit its parent's threads)."""
    global _flusher_pid
    if _flusher_pid == os.getpid():
        return
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _counts["statements"] = _counts["connections"] = 0
        _flusher_pid = os.getpid()
        threading.Thread(
            target=_flush_forever,
            args=(os.environ["BENCH_COUNTER_URL"], os.environ.get("BENCH_ROLE", "")),
            daemon=True,
        ).start()


def _on_connection(sender, connection, **kwargs):
    _ensure_flusher()
    _counts["connections"] += 1
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def install() -> None:
    connection_created.connect(_on_connection, dispatch_uid="bench-counting")
