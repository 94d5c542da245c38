"""plugmessage.cache: one Redis client per process, and while Redis is down
reads miss, writes are dropped and the outage is logged once."""

import logging

import pytest
import redis

from plugmessage.cache import RedisCache

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _cache(location=UNREACHABLE):
    return RedisCache(location, {"KEY_PREFIX": "t"})


def test_while_redis_is_down_reads_miss_and_writes_are_dropped(caplog):
    cache = _cache()
    with caplog.at_level(logging.WARNING, logger="plugmessage.cache"):
        assert cache.get("a", "padrão") == "padrão"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set("a", 1) is None
        assert cache.set_many({"a": 1}) == []
        assert cache.delete("a") is False
        assert cache.delete_many(["a"]) is None
        assert cache.touch("a") is False
        assert cache.has_key("a") is False
        assert "a" not in cache
        # As if this caller were the first: a rate limit lets it through.
        assert cache.add("a", 1) is True

    assert [r.getMessage()[:35] for r in caplog.records] == [
        "cache unavailable (ConnectionError)"
    ]


def test_counters_and_clearing_still_say_that_redis_is_down():
    cache = _cache()
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.clear()
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.incr("a")


def test_after_a_failure_redis_is_left_alone_for_a_moment(monkeypatch):
    cache = _cache()
    cache.get("a")
    attempts = []
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda *a, **k: attempts.append(a)
    )

    assert cache.get("a") is None
    assert attempts == []


def test_the_end_of_an_outage_is_logged(monkeypatch, caplog):
    cache = _cache()
    cache.get("a")
    monkeypatch.setattr("plugmessage.cache.PAUSE_SECONDS", 0)
    cache._outage._paused_until = 0.0
    monkeypatch.setattr(redis.Redis, "execute_command", lambda *a, **k: None)
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="plugmessage.cache"):
        assert cache.get("a", "x") == "x"

    assert [r.getMessage() for r in caplog.records] == ["cache available again"]


def test_one_redis_client_serves_every_call():
    cache = _cache()
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
