import threading
from collections import OrderedDict
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.helpers import at_the_same_moment, wait_for
from webhooks import services
from webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSettings,
)
from webhooks.tasks import webhook_endpoint_disabled_email_task

pytestmark = pytest.mark.django_db


def _retry(delivery):
    """Run the next attempt once it is due."""
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_signed_delivery_is_retried_until_it_succeeds_with_the_same_id(
    emit, receiver
):
    receiver.script = [
        (500, b"erro", {}, 0),
        (500, b"erro", {}, 0),
        (200, b"ok", {}, 0),
    ]

    delivery = emit()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()
    delivery = _retry(delivery)
    delivery = _retry(delivery)

    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempts = list(delivery.attempts.order_by("id"))
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert len(receiver.received) == 3
    assert all(r.verified for r in receiver.received)
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.event_id}
    assert delivery.event_id.startswith("msg_")


def test_the_retry_waits_follow_the_standard_schedule(emit, receiver):
    receiver.script = [(500, b"", {}, 0)]
    delivery = emit()
    waits = []
    for _ in range(9):
        before = delivery.next_attempt_at
        with time_machine.travel(before + timedelta(seconds=1), tick=False):
            services.webhook_delivery_attempt(delivery_id=delivery.pk)
            delivery.refresh_from_db()
            if delivery.next_attempt_at:
                waits.append(
                    (delivery.next_attempt_at - timezone.now()).total_seconds()
                )
    expected = [s.total_seconds() for s in services.RETRY_SCHEDULE[2:]]
    for wait, planned in zip(waits, expected, strict=True):
        assert planned * 0.9 - 1 <= wait <= planned * 1.1
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempt_count == 10


def test_retry_after_is_honoured(emit, receiver):
    receiver.script = [(429, b"devagar", {"Retry-After": "3600"}, 0)]
    delivery = emit()
    assert delivery.next_attempt_at - timezone.now() >= timedelta(seconds=3590)


def test_410_disables_the_endpoint_at_once_and_tells_the_owner_once(
    hooked, receiver, sent_tasks, django_capture_on_commit_callbacks
):
    receiver.script = [(410, b"gone", {}, 0)]
    for n in range(3):
        services.event_emit(instance=hooked, kind="message.received", data={"n": n})
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_deliveries_drain()

    assert sent_tasks.count(services.DISABLED_EMAIL_TASK) == 1
    delivery = WebhookDelivery.objects.order_by("id").first()

    assert delivery.status == DeliveryStatus.FAILED
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    assert endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason


def test_a_redirect_is_a_logged_failure_and_not_followed(emit, receiver):
    receiver.script = [(302, b"", {"Location": "http://169.254.169.254/latest/"}, 0)]
    delivery = emit()

    attempt = delivery.attempts.get()
    assert attempt.status_code == 302
    assert "Redirecionamento não seguido" in attempt.error
    assert delivery.status == DeliveryStatus.PENDING
    assert len(receiver.received) == 1


def test_a_timeout_is_a_failure(emit, receiver, monkeypatch):
    monkeypatch.setattr("webhooks.sender.TIMEOUT", httpx.Timeout(0.5, connect=0.5))
    monkeypatch.setattr("webhooks.sender._clients", OrderedDict())
    receiver.script = [(200, b"tarde", {}, 2)]
    delivery = emit()

    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    assert attempt.error == "Tempo esgotado"
    assert delivery.status == DeliveryStatus.PENDING


def test_a_refused_connection_is_a_failure_said_in_portuguese(emit, receiver):
    receiver.close()
    delivery = emit()

    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    # The customer reads a sentence; httpx's "[Errno 111] Connection
    # refused" is kept for staff.
    assert attempt.error == "O servidor recusou a conexão."
    assert "Connection refused" in attempt.error_detail
    assert "ConnectError" in attempt.error_detail


def test_only_the_first_kilobyte_of_a_huge_answer_is_read(emit, receiver):
    receiver.script = [(200, b"x" * 5_000_000, {}, 0)]
    delivery = emit()

    attempt = delivery.attempts.get()
    assert attempt.status_code == 200
    assert len(attempt.response_body) == 1024
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_after_five_days_of_failures_the_endpoint_is_disabled_and_the_owner_told(
    emit, receiver, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, owner
):
    receiver.script = [(500, b"", {}, 0)]
    delivery = emit()
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    assert endpoint.failing_since is not None
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5)
    )
    sent = []
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task",
        lambda name, args: sent.append((name, args)),
    )
    with (
        time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.webhook_delivery_attempt(delivery_id=delivery.pk)

    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "5 dias" in endpoint.disabled_reason
    assert delivery.status == DeliveryStatus.FAILED
    assert sent == [(services.DISABLED_EMAIL_TASK, [endpoint.pk])]
    webhook_endpoint_disabled_email_task(endpoint.pk)
    assert mailoutbox[-1].to == [owner.email]
    assert "desativado" in mailoutbox[-1].subject.lower()
    assert "Reativar" in mailoutbox[-1].body


def test_a_success_clears_the_failing_streak(emit, receiver):
    receiver.script = [(500, b"", {}, 0), (200, b"", {}, 0)]
    delivery = _retry(emit())
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert WebhookEndpoint.objects.get(pk=delivery.endpoint_id).failing_since is None


def test_a_held_delivery_is_not_attempted_twice(emit, receiver, settings):
    receiver.script = [(500, b"", {}, 0)]
    delivery = emit()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert services.webhook_deliveries_sweep() == 1
        type(delivery).objects.filter(pk=delivery.pk).update(
            locked_until=timezone.now() + timedelta(seconds=60)
        )
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == []
        assert services.webhook_deliveries_sweep() == 0
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=62)):
        assert services.webhook_deliveries_sweep() == 1


def test_a_rotated_secret_signs_with_both_for_a_day(hooked, emit, receiver):
    old = receiver.secrets[0]
    new = services.webhook_secret_rotate(instance=hooked).secret
    receiver.secrets[:] = [new]
    emit()
    receiver.secrets[:] = [old]
    emit()
    assert [r.verified for r in receiver.received] == [True, True]
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        emit()
        assert receiver.received[-1].verified is False  # the old secret no longer signs
        assert (
            receiver._verify(receiver.received[-1].body, receiver.received[-1].headers)
            is False
        )
        receiver.secrets[:] = [new]
        assert receiver._verify(
            receiver.received[-1].body, receiver.received[-1].headers
        )
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1


def test_a_nul_byte_in_the_answer_is_logged_safely(emit, receiver):
    receiver.script = [(500, b"erro\x00bin\x00rio", {}, 0)]
    delivery = emit()

    attempt = delivery.attempts.get()
    assert "\x00" not in attempt.response_body
    assert attempt.response_body.startswith("erro")


def test_an_unexpected_error_on_one_post_does_not_lose_its_batch(
    hooked, receiver, sent_tasks, monkeypatch
):
    for n in range(3):
        services.event_emit(instance=hooked, kind="message.received", data={"n": n})
    real_post = services.sender.post_unbounded
    calls = []

    def flaky(url, body, headers):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real_post(url, body, headers)

    monkeypatch.setattr(services.sender, "post_unbounded", flaky)
    services.webhook_deliveries_drain()

    statuses = sorted(WebhookDelivery.objects.values_list("status", "attempt_count"))
    assert statuses.count((DeliveryStatus.SUCCEEDED, 1)) == 2
    assert (DeliveryStatus.PENDING, 1) in statuses
    failed = WebhookAttempt.objects.get(status_code__isnull=True)
    assert failed.error == "Erro interno da PlugMessage ao enviar."
    assert failed.error_detail == "RuntimeError: boom"


def test_a_runner_that_lost_its_lease_does_not_overwrite_the_new_holder(emit, receiver):
    receiver.script = [(500, b"", {}, 0)]
    delivery = emit()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        (claimed,) = services._claim(timezone.now())
        # Its lease expires and another runner takes the delivery over.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            locked_until=timezone.now() + timedelta(minutes=5)
        )
        receiver.script = [(200, b"", {}, 0)]
        services._attempt_batch([claimed], timezone.now())

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts.count() == 2  # the post happened and is logged


@pytest.mark.django_db(transaction=True)
def test_a_slow_batch_keeps_its_lease_so_nobody_posts_it_twice(
    owner, settings, monkeypatch
):
    from instances import services as instance_services
    from tests.receiver import Receiver

    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_LEASE_SECONDS = 0.3  # renewed every 0.1 s
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task", lambda name, args: None
    )
    receiver = Receiver(script=[(200, b"ok", {}, 1.0)])  # each post takes 1 s
    try:
        instance = instance_services.instance_create(owner=owner, name="Lenta")
        services.webhook_endpoints_save(
            instance=instance, values={"message.received": (receiver.url, True)}
        )
        services.event_emit(instance=instance, kind="message.received", data={})
        started = threading.Thread(target=services.webhook_deliveries_drain)
        started.start()
        wait_for(lambda: receiver.received, timeout=10, what="the slow post to start")
        # Half-way through the post the original lease is long gone, yet the
        # delivery is still held: a sweep finds nothing to hand out.
        assert services.webhook_deliveries_sweep() == 0
        started.join(timeout=10)
    finally:
        receiver.close()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 1


def test_a_post_is_given_up_on_at_the_total_deadline(emit, receiver, monkeypatch):
    monkeypatch.setattr("webhooks.sender.TOTAL_SECONDS", 0.5)
    receiver.script = [(200, b"tarde", {}, 3)]  # answers after 3 s

    started = timezone.now()
    delivery = emit()

    attempt = delivery.attempts.get()
    assert attempt.error == "Tempo esgotado"
    assert attempt.status_code is None
    assert (timezone.now() - started).total_seconds() < 2.5


@pytest.mark.django_db(transaction=True)
def test_two_rotations_at_once_lose_neither_new_secret_on_postgresql(instance):
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    first = services.webhook_settings_get(instance_id=instance.pk).secret

    rotated, errors = at_the_same_moment(
        [lambda: services.webhook_secret_rotate(instance=instance)] * 2
    )

    assert errors == []
    row = WebhookSettings.objects.get(instance_id=instance.pk)
    new = {r.secret for r in rotated}
    assert len(new) == 2 and first not in new
    # One rotation followed the other: the later one's previous secret is
    # the earlier one's new secret, not the secret both started from.
    assert row.secret in new
    assert row.previous_secret == (new - {row.secret}).pop()
    assert {r.previous_secret for r in rotated} == {first, row.previous_secret}
    assert row.signing_secrets() == [row.secret, row.previous_secret]
    day = services.SECRET_OVERLAP
    assert row.signing_secrets(now=timezone.now() + day + timedelta(minutes=1)) == [
        row.secret
    ]


@pytest.mark.django_db(transaction=True)
def test_two_attempts_at_once_for_one_due_delivery_post_once_on_postgresql(
    hooked, receiver, sent_tasks
):
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    services.event_emit(instance=hooked, kind="message.received", data={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    results, errors = at_the_same_moment(
        [lambda: services.webhook_delivery_attempt(delivery_id=delivery.pk)] * 2
    )

    assert errors == []
    assert sorted(len(made) for made in results) == [0, 1]
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
