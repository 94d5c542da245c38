"""The retention sweep beside the rest of the system, on PostgreSQL: it
never waits on rows others hold, never deletes a message being sent, and a
lock it must wait for is waited for only up to the lock timeout."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from instances import messaging, services
from instances.engines import engine_get
from instances.engines.simulator import SimulatorEngine
from instances.models import (
    MediaFile,
    Message,
    MessageStatus,
    SimulatedMessage,
    SimulatedSession,
)
from privacy.services import retention_sweep
from tests.helpers import at_the_same_moment, holding_the_row
from tests.privacy.conftest import delivered, media_file, sent
from webhooks.models import WebhookDelivery

POSTGRESQL_ONLY = "row locks are tested on PostgreSQL (make test with DATABASE_URL)"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRESQL_ONLY)


def _long_ago(days=100):
    return time_machine.travel(timezone.now() - timedelta(days=days))


def _sweeping_once_held(held, release, took):
    def sweep():
        assert held.wait(timeout=20)
        started = time.monotonic()
        try:
            return retention_sweep()
        finally:
            took.append(time.monotonic() - started)
            release.set()

    return sweep


def test_a_message_another_transaction_holds_is_left_for_the_next_run(instance):
    with _long_ago():
        messages = [sent(instance) for _ in range(3)]
    held, release, took = threading.Event(), threading.Event(), []

    results, errors = at_the_same_moment(
        [
            holding_the_row(Message, messages[0].pk, held=held, release=release),
            _sweeping_once_held(held, release, took),
        ]
    )

    assert errors == []
    assert took[0] < 2  # skipped, not waited for
    assert list(Message.objects.values_list("pk", flat=True)) == [messages[0].pk]
    assert retention_sweep()["instances.Message"] == 1
    assert not Message.objects.exists()


def test_waiting_on_a_held_message_stops_at_the_lock_timeout_and_resumes(
    instance, settings
):
    settings.LOCK_TIMEOUT_MS = 300
    settings.RETENTION_MEDIA_DAYS = 7
    with _long_ago(days=10):
        stored = media_file(instance)
        # A week-old image whose message (kept 90 days) a receipt holds:
        # deleting the file clears the message's reference, which waits.
        message = sent(instance, kind="image", media=stored)
    with _long_ago(days=40):
        delivery = delivered(instance)
    held, release, took = threading.Event(), threading.Event(), []

    results, errors = at_the_same_moment(
        [
            holding_the_row(Message, message.pk, held=held, release=release),
            _sweeping_once_held(held, release, took),
        ]
    )

    assert errors == []
    assert 0.3 <= took[0] < 5
    assert MediaFile.objects.filter(pk=stored.pk).exists()
    # The other kinds went on.
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert retention_sweep()["instances.MediaFile"] == 1
    message.refresh_from_db()
    assert message.media is None


def test_an_old_message_being_sent_is_not_deleted(owner, monkeypatch):
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name="Envios"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    with _long_ago():
        waiting = [
            sent(instance, status=MessageStatus.QUEUED, text=f"m{n}") for n in range(3)
        ]
        done = sent(instance, status=MessageStatus.READ)
    ids = [message.pk for message in waiting]
    in_engine, release, took = threading.Event(), threading.Event(), []
    engine_send = SimulatorEngine.messages_send

    def slow_engine(self, session, messages):
        in_engine.set()
        assert release.wait(timeout=20)
        return engine_send(self, session, messages)

    monkeypatch.setattr(SimulatorEngine, "messages_send", slow_engine)

    results, errors = at_the_same_moment(
        [
            lambda: messaging.messages_send(message_ids=ids),
            _sweeping_once_held(in_engine, release, took),
        ]
    )

    assert errors == []
    assert not Message.objects.filter(pk=done.pk).exists()
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == dict.fromkeys(ids, MessageStatus.SENT)
    assert SimulatedMessage.objects.filter(engine_ref=instance.engine_ref).count() == 3
