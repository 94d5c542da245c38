"""While Redis is down the API still accepts sends: each is stored, the web
process logs one line for the outage (not a traceback per request) and
stops asking for a few seconds; beat's dispatch queues them once Redis is
back."""

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from instances import messaging
from instances.models import Message
from plugmessage import broker


class RedisDown:
    """The cache while Redis is down: every call refused, and counted."""

    def __init__(self):
        self.calls = 0

    def add(self, *args, **kwargs):
        self.calls += 1
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")


class RedisUp:
    def add(self, *args, **kwargs):
        return True

    def delete(self, *args, **kwargs):
        return True


@pytest.fixture
def redis_down(monkeypatch, queued_tasks):
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(broker, "_down", False)
    down = RedisDown()
    monkeypatch.setattr(messaging, "cache", down)
    return down


def _send(client, live, n):
    return client.post(
        f"/instances/{live.pk}/send-text",
        {"phone": "5521998765432", "text": f"Pedido {n}"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {live.token}",
    )


@pytest.mark.django_db
def test_sends_are_accepted_with_one_log_line_and_go_out_when_redis_returns(
    client,
    live,
    redis_down,
    queued_tasks,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    with caplog.at_level(logging.WARNING):
        answers = []
        for n in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                answers.append(_send(client, live, n).status_code)

    assert answers == [202] * 5
    assert Message.objects.filter(dispatched_at__isnull=True).count() == 5
    outage = [r for r in caplog.records if "broker unavailable" in r.message]
    assert len(outage) == 1
    assert not any(r.exc_info for r in caplog.records)  # no traceback at all
    assert redis_down.calls == 1  # later requests did not wait on Redis again

    # Redis is back: beat's dispatch queues every message accepted meanwhile.
    monkeypatch.setattr(messaging, "cache", RedisUp())
    assert messaging.messages_dispatch() == 5
    assert not Message.objects.filter(dispatched_at__isnull=True).exists()
    sent = [
        args for name, args, _c in queued_tasks if name == messaging.SEND_BATCH_TASK
    ]
    assert sum(len(batch[0]) for batch in sent) == 5


@pytest.mark.django_db
def test_the_first_ask_after_the_pause_finds_redis_back_and_says_so(
    live, redis_down, monkeypatch, caplog
):
    with caplog.at_level(logging.WARNING):
        messaging.messages_dispatch_request()
        monkeypatch.setattr(broker, "_paused_until", 0.0)  # the pause is over
        monkeypatch.setattr(messaging, "cache", RedisUp())
        monkeypatch.setattr(messaging, "_dispatch_covers_until", 0.0)
        messaging.messages_dispatch_request()

    lines = [r.message for r in caplog.records if r.name == "plugmessage.broker"]
    assert len(lines) == 2
    assert "broker unavailable" in lines[0]
    assert lines[1] == "broker available again"


def test_beat_dispatches_every_few_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["messages-dispatch"]
    assert entry["task"] == messaging.DISPATCH_TASK
    assert entry["schedule"] <= 5
