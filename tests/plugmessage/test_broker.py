"""Tasks asked for after commit never fail the request while Redis is down:
what the request did is committed, and the outage is logged once."""

import logging

import pytest
from kombu.exceptions import OperationalError

from plugmessage import broker


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(broker, "_down", False)
    asked = []

    def refused(name, args=()):
        asked.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr("celery.current_app.send_task", refused)
    return asked


@pytest.mark.django_db
def test_a_task_after_commit_while_redis_is_down_is_logged_once_not_raised(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.WARNING, logger="plugmessage.broker"):
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                broker.task_after_commit("ticket email", "support.tasks.x", n)

    assert broker_down == ["support.tasks.x"]  # the next asks waited out the pause
    assert [r.message[:18] for r in caplog.records] == ["broker unavailable"]
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.django_db
def test_a_task_after_commit_goes_out_when_redis_answers(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    sent = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args=(): sent.append((name, list(args))),
    )
    with django_capture_on_commit_callbacks(execute=True):
        broker.task_after_commit("ticket email", "support.tasks.x", "reply", 7)
        assert sent == []  # not before the commit
    assert sent == [("support.tasks.x", ["reply", 7])]
