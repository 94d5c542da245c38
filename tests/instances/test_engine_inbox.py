"""What the engine posts to /motor/eventos/ is stored before it is applied:
a failure to apply is kept and retried by beat, staff see it and may apply
it again, and the engine is never told 200 for a body that was not stored."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone

from instances import inbox, services
from instances.models import EngineInboxEntry, InboxStatus, Instance, InstanceState
from tests.helpers import at_the_same_moment
from tests.instances.test_evolution import (  # noqa: F401 - fixtures
    SECRET,
    _post_event,
    evolution,
    evolution_instance,
    fixture,
)

S = InstanceState


@pytest.fixture
def waiting(evolution_instance):  # noqa: F811 - the imported fixture
    """The Evolution instance, waiting for its QR code to be read."""
    evolution_instance.state = S.WAITING_SCAN
    evolution_instance.save(update_fields=["state"])
    return evolution_instance


@pytest.fixture
def failing_apply(monkeypatch):
    """Applying an event fails while `failing` is true."""
    real = services._event_apply
    state = {"failing": True}

    def apply(instance, event):
        if state["failing"]:
            raise RuntimeError("o banco caiu no meio")
        return real(instance, event)

    monkeypatch.setattr(services, "_event_apply", apply)
    return state


@pytest.mark.django_db
def test_an_event_is_stored_then_applied(client, waiting):
    response = _post_event(client, "event_connection_open")

    assert response.status_code == 200
    assert response.json() == {"received": 1}
    entry = EngineInboxEntry.objects.get()
    assert entry.status == InboxStatus.APPLIED
    assert entry.applied_at is not None
    assert (entry.kind, entry.engine_ref) == ("connection.update", waiting.engine_ref)
    # The instance's own API key, repeated by Evolution in every body, is not kept.
    assert "apikey" not in entry.payload
    waiting.refresh_from_db()
    assert waiting.state == S.CONNECTED


@pytest.mark.django_db
def test_the_same_body_posted_twice_is_stored_and_applied_once(
    client, waiting, monkeypatch
):
    applied = []
    real = services.engine_events_apply
    monkeypatch.setattr(
        services,
        "engine_events_apply",
        lambda events: applied.append(events) or real(events),
    )

    first = _post_event(client, "event_connection_open")
    again = _post_event(client, "event_connection_open")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"received": 0, "duplicate": True}
    assert EngineInboxEntry.objects.count() == 1
    assert len(applied) == 1


@pytest.mark.django_db
def test_a_failed_apply_is_kept_and_beat_applies_it_later(
    client, waiting, failing_apply
):
    response = _post_event(client, "event_connection_open")

    # Stored: the engine is told it arrived, and the inbox owns the retry.
    assert response.status_code == 200
    entry = EngineInboxEntry.objects.get()
    assert (entry.status, entry.attempts) == (InboxStatus.PENDING, 1)
    assert "RuntimeError: o banco caiu no meio" in entry.error
    assert entry.next_attempt_at > timezone.now() + timedelta(seconds=50)
    waiting.refresh_from_db()
    assert waiting.state == S.WAITING_SCAN

    assert inbox.inbox_drain() == 0  # not due yet
    failing_apply["failing"] = False
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert inbox.inbox_drain() == 1

    entry.refresh_from_db()
    assert (entry.status, entry.error) == (InboxStatus.APPLIED, "")
    waiting.refresh_from_db()
    assert waiting.state == S.CONNECTED


@pytest.mark.django_db
def test_an_entry_left_by_a_process_that_died_is_applied_after_its_lease(waiting):
    now = timezone.now()
    payload = fixture("event_connection_open")
    held = EngineInboxEntry.objects.create(
        key=inbox.payload_key(payload),
        payload=payload,
        received_at=now,
        next_attempt_at=now,
        locked_until=now + inbox.LEASE,  # its applier is still at work...
    )
    assert inbox.inbox_drain() == 0

    with time_machine.travel(now + inbox.LEASE + timedelta(seconds=1)):
        assert inbox.inbox_drain() == 1  # ...until its lease runs out

    held.refresh_from_db()
    assert held.status == InboxStatus.APPLIED
    waiting.refresh_from_db()
    assert waiting.state == S.CONNECTED


@pytest.mark.django_db
def test_after_the_last_retry_it_waits_for_staff_who_apply_it_again(
    client, waiting, failing_apply, staff_client
):
    _post_event(client, "event_connection_open")
    moment = timezone.now()
    for wait in inbox.RETRY_SCHEDULE:
        moment += wait + timedelta(seconds=1)
        with time_machine.travel(moment):
            inbox.inbox_drain()
    entry = EngineInboxEntry.objects.get()
    assert (entry.status, entry.attempts) == (
        InboxStatus.FAILED,
        len(inbox.RETRY_SCHEDULE) + 1,
    )
    assert entry.next_attempt_at is None
    with time_machine.travel(moment + timedelta(days=1)):
        assert inbox.inbox_drain() == 0  # given up: beat leaves it alone

    changelist = reverse("admin:instances_engineinboxentry_changelist")
    listed = staff_client.get(changelist, {"status__exact": "failed"})
    assert "connection.update" in listed.content.decode()

    failing_apply["failing"] = False
    response = staff_client.post(
        changelist,
        {"action": "retry_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    assert "1 de 1 eventos aplicados" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == InboxStatus.APPLIED
    waiting.refresh_from_db()
    assert waiting.state == S.CONNECTED
    assert LogEntry.objects.filter(object_id=str(entry.pk)).exists()


@pytest.mark.django_db
def test_customers_cannot_see_the_inbox(owner_client, client):
    changelist = reverse("admin:instances_engineinboxentry_changelist")
    assert owner_client.get(changelist).status_code == 302  # to the admin login
    client.logout()
    assert client.get(changelist).status_code == 302


@pytest.mark.django_db
def test_the_engine_hears_503_when_the_body_cannot_be_stored(
    client, waiting, monkeypatch
):
    def down(*args, **kwargs):
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(EngineInboxEntry.objects, "create", down)

    response = _post_event(client, "event_connection_open")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    waiting.refresh_from_db()
    assert waiting.state == S.WAITING_SCAN  # not applied either


@pytest.mark.django_db(transaction=True)
def test_during_a_postgresql_restart_the_engine_hears_503_not_200(client, waiting):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL restart (make test with DATABASE_URL)")
    from tests.api.test_database_outage import _end_this_connection

    connection.ensure_connection()
    _end_this_connection()

    response = _post_event(client, "event_connection_open")

    assert response.status_code == 503
    connection.close()
    assert not EngineInboxEntry.objects.exists()
    assert _post_event(client, "event_connection_open").status_code == 200
    assert EngineInboxEntry.objects.get().status == InboxStatus.APPLIED


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_apply_each_entry_once(waiting, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent drains (make test with DATABASE_URL)")
    applied = []
    monkeypatch.setattr(
        services, "engine_events_apply", lambda events: applied.append(1) or []
    )
    now = timezone.now()
    for n in range(30):
        payload = {**fixture("event_presence_update"), "n": n}
        EngineInboxEntry.objects.create(
            key=inbox.payload_key(payload),
            payload=payload,
            received_at=now,
            next_attempt_at=now,
        )

    results, errors = at_the_same_moment([inbox.inbox_drain, inbox.inbox_drain])

    assert errors == []
    assert sum(results) == 30
    assert len(applied) == 30
    assert set(EngineInboxEntry.objects.values_list("status", flat=True)) == {
        InboxStatus.APPLIED
    }


@pytest.mark.django_db(transaction=True)
def test_staff_apply_a_failed_entry_again_and_it_is_committed_on_postgresql(
    client, waiting, failing_apply, staff, staff_client
):
    if connection.vendor != "postgresql":
        pytest.skip("locks outside a test's transaction (make test with DATABASE_URL)")
    _post_event(client, "event_connection_open")
    entry = EngineInboxEntry.objects.get()
    EngineInboxEntry.objects.filter(pk=entry.pk).update(
        status=InboxStatus.FAILED, next_attempt_at=None
    )
    failing_apply["failing"] = False
    assert staff.has_perm("instances.retry_engine_event")

    response = staff_client.post(
        reverse("admin:instances_engineinboxentry_changelist"),
        {"action": "retry_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    assert "1 de 1 eventos aplicados" in response.content.decode()
    # Read back by another connection: only what was committed is seen.
    seen, errors = at_the_same_moment(
        [
            lambda: (
                EngineInboxEntry.objects.get(pk=entry.pk).status,
                Instance.objects.get(pk=waiting.pk).state,
            )
        ]
    )
    assert errors == []
    assert seen == [(InboxStatus.APPLIED, S.CONNECTED)]


def test_the_key_is_the_body_whatever_the_order_of_its_fields():
    body = json.loads('{"event": "x", "data": {"a": 1, "b": 2}}')
    same = json.loads('{"data": {"b": 2, "a": 1}, "event": "x"}')
    assert inbox.payload_key(body) == inbox.payload_key(same)
    assert inbox.payload_key(body) != inbox.payload_key({**body, "event": "y"})
