"""Erasing a contact beside receipts and webhook workers, on PostgreSQL:
rows others hold are left (and counted), never waited for, and a worker
posting a delivery never finds it gone under its feet."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditRecord
from instances.models import Message
from privacy import services
from privacy.models import ContactErasure, ErasureStatus
from tests.helpers import at_the_same_moment, holding_the_row
from tests.privacy.conftest import CONTACT, delivered, sent
from tests.receiver import Receiver
from webhooks import services as webhook_services
from webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (make test with DATABASE_URL)")


@pytest.fixture
def queued_tasks(monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda name, args: None)
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task", lambda name, args: None
    )


def test_a_message_a_receipt_holds_is_left_and_counted(instance, owner, queued_tasks):
    held_message = sent(instance)
    sent(instance)
    erasure = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=owner
    )
    held, release, took = threading.Event(), threading.Event(), []

    def erasing():
        assert held.wait(timeout=20)
        started = time.monotonic()
        try:
            return services.contact_erasure_run(erasure_id=erasure.pk)
        finally:
            took.append(time.monotonic() - started)
            release.set()

    results, errors = at_the_same_moment(
        [
            holding_the_row(Message, held_message.pk, held=held, release=release),
            erasing,
        ]
    )

    assert errors == []
    assert took[0] < 2
    done = [r for r in results if r != "held"][0]
    assert done.status == ErasureStatus.DONE
    assert done.counts["sent"] == 1 and done.counts["left"] == 1
    assert list(Message.objects.values_list("pk", flat=True)) == [held_message.pk]


def test_erasing_while_workers_post_the_contacts_deliveries(
    instance, owner, settings, queued_tasks
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    receiver = Receiver()
    try:
        WebhookEndpoint.objects.create(
            instance=instance, kind="message.received", url=receiver.url
        )
        deliveries = [
            delivered(instance, status=DeliveryStatus.PENDING) for _ in range(30)
        ]
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        erasure = services.contact_erasure_request(
            instance=instance, phone=CONTACT, actor=owner
        )

        results, errors = at_the_same_moment(
            [
                webhook_services.webhook_deliveries_drain,
                webhook_services.webhook_deliveries_drain,
                lambda: services.contact_erasure_run(erasure_id=erasure.pk),
            ]
        )
    finally:
        receiver.close()

    assert errors == []
    done = [r for r in results if not isinstance(r, int)][0]
    left = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert done.counts["deliveries"] + left.count() == 30
    # What was left is what a worker held, and it was posted and recorded.
    for delivery in left:
        assert delivery.status == DeliveryStatus.SUCCEEDED
    assert WebhookAttempt.objects.filter(delivery__in=left).count() >= left.count()


def test_two_resumes_at_the_same_moment_run_a_stale_staff_request_once(
    instance, staff, queued_tasks
):
    sent(instance)
    sent(instance, text="Outra")
    erasure = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=staff, by_staff=True, reason="LGPD"
    )
    ContactErasure.objects.filter(pk=erasure.pk).update(
        created_at=timezone.now() - services.ERASURE_RESUME_AFTER - timedelta(minutes=1)
    )

    _results, errors = at_the_same_moment([services.contact_erasures_resume] * 2)

    assert errors == []
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.DONE
    assert erasure.counts["sent"] == 2
    assert not Message.objects.filter(instance=instance).exists()
    assert (
        AuditRecord.objects.filter(action="contact_data_erase", actor=staff).count()
        == 1
    )
