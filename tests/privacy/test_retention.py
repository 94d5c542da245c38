"""Retention: what people wrote, and what was posted about it, is deleted
once older than its period, by beat's sweep, a bounded amount a run."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from instances.models import (
    Instance,
    MediaFile,
    Message,
    MessageStatus,
    ReceivedMessage,
    SimulatedMessage,
)
from privacy import services, tasks
from tests.privacy.conftest import (
    CONTACT,
    delivered,
    file_exists,
    media_file,
    received,
    sent,
)
from webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db


def _sweep_after(days: float, **kwargs) -> dict:
    with time_machine.travel(timezone.now() + timedelta(days=days)):
        return services.retention_sweep(**kwargs)


def test_the_periods_have_documented_defaults_and_beat_runs_the_sweep():
    assert django_settings.RETENTION_MESSAGES_DAYS == 90
    assert django_settings.RETENTION_MEDIA_DAYS == 90
    assert django_settings.RETENTION_DELIVERIES_DAYS == 30
    assert django_settings.RETENTION_EVENTS_DAYS == 30
    schedule = django_settings.CELERY_BEAT_SCHEDULE["retention-sweep"]
    assert schedule["task"] == "privacy.tasks.retention_sweep_task"
    assert tasks.retention_sweep_task.name == schedule["task"]


def test_messages_are_kept_for_their_period_then_deleted(instance):
    sent(instance)
    received(instance)
    SimulatedMessage.objects.create(
        engine_ref=instance.engine_ref, message_id="SIM1", to=CONTACT, text="oi"
    )

    _sweep_after(89)
    assert Message.objects.count() == 1
    assert ReceivedMessage.objects.count() == 1
    assert SimulatedMessage.objects.count() == 1

    deleted = _sweep_after(91)
    assert Message.objects.count() == 0
    assert ReceivedMessage.objects.count() == 0
    assert SimulatedMessage.objects.count() == 0
    assert deleted["instances.Message"] == 1
    assert Instance.objects.filter(pk=instance.pk).exists()


def test_a_newer_message_stays_when_an_older_one_goes(instance):
    old = sent(instance)
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        young = sent(instance)
    _sweep_after(91)
    assert list(Message.objects.values_list("pk", flat=True)) == [young.pk]
    assert not Message.objects.filter(pk=old.pk).exists()


def test_a_queued_message_is_never_deleted_however_old(instance):
    queued = sent(instance, status=MessageStatus.QUEUED)
    _sweep_after(400)
    assert Message.objects.filter(pk=queued.pk).exists()


def test_media_rows_and_their_files_go_after_their_period(
    instance, django_capture_on_commit_callbacks
):
    stored = media_file(instance)
    message = sent(instance, kind="image", media=stored)
    assert file_exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        _sweep_after(89)
    assert MediaFile.objects.filter(pk=stored.pk).exists() and file_exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        _sweep_after(91)
    assert not MediaFile.objects.filter(pk=stored.pk).exists()
    assert not file_exists(stored)
    assert not Message.objects.filter(pk=message.pk).exists()


def test_media_kept_shorter_than_messages_leaves_the_message_without_it(
    instance, settings, django_capture_on_commit_callbacks
):
    settings.RETENTION_MEDIA_DAYS = 7
    stored = media_file(instance)
    message = sent(instance, kind="image", media=stored, text="legenda")
    with django_capture_on_commit_callbacks(execute=True):
        _sweep_after(8)
    message.refresh_from_db()
    assert message.media is None and message.text == "legenda"
    assert not file_exists(stored)


def test_media_still_needed_is_kept(instance, django_capture_on_commit_callbacks):
    waiting = media_file(instance)
    sent(instance, kind="image", media=waiting, status=MessageStatus.QUEUED)
    picture = media_file(instance)
    Instance.objects.filter(pk=instance.pk).update(profile_picture=picture)

    with django_capture_on_commit_callbacks(execute=True):
        _sweep_after(400)
    assert MediaFile.objects.filter(pk__in=[waiting.pk, picture.pk]).count() == 2
    assert file_exists(waiting) and file_exists(picture)


def test_deliveries_their_attempts_and_events_go_after_30_days(instance):
    delivery = delivered(instance)
    _sweep_after(29)
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()

    deleted = _sweep_after(31)
    assert not WebhookDelivery.objects.exists()
    assert not WebhookAttempt.objects.exists()
    assert not WebhookEvent.objects.exists()
    assert deleted["webhooks.WebhookDelivery"] == 1
    assert deleted["webhooks.WebhookEvent"] == 1


def test_a_pending_delivery_and_its_event_are_kept(instance):
    delivery = delivered(instance, status=DeliveryStatus.PENDING)
    _sweep_after(60)
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert WebhookEvent.objects.filter(pk=delivery.event_id).exists()


def test_an_event_stays_while_a_newer_delivery_of_it_is_in_the_log(instance):
    delivery = delivered(instance)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        resent = WebhookDelivery.objects.create(
            event=delivery.event,
            endpoint=delivery.endpoint,
            status=DeliveryStatus.SUCCEEDED,
        )
    _sweep_after(31)
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert WebhookEvent.objects.filter(pk=delivery.event_id).exists()
    assert WebhookDelivery.objects.filter(pk=resent.pk).exists()
    _sweep_after(51)
    assert not WebhookEvent.objects.exists()


def test_each_run_deletes_a_bounded_amount_and_the_next_resumes(instance, settings):
    settings.RETENTION_BATCH_SIZE = 2
    settings.RETENTION_MAX_BATCHES = 2
    for _ in range(7):
        sent(instance)
    assert _sweep_after(91)["instances.Message"] == 4
    assert Message.objects.count() == 3
    assert _sweep_after(91)["instances.Message"] == 3
    assert Message.objects.count() == 0


def test_a_period_of_zero_keeps_that_data_forever(instance, settings):
    settings.RETENTION_MESSAGES_DAYS = 0
    settings.RETENTION_DELIVERIES_DAYS = 0
    sent(instance)
    delivered(instance)
    _sweep_after(4000)
    assert Message.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    assert WebhookEvent.objects.count() == 1


def test_the_beat_task_runs_the_sweep(instance):
    sent(instance)
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        tasks.retention_sweep_task()
    assert not Message.objects.exists()


def test_engine_inbox_entries_go_after_30_days_unless_still_to_apply():
    from instances.models import EngineInboxEntry, InboxStatus

    now = timezone.now()
    for n, status in enumerate(
        (InboxStatus.APPLIED, InboxStatus.FAILED, InboxStatus.PENDING)
    ):
        EngineInboxEntry.objects.create(
            key=f"entry-{n}",
            payload={"event": "messages.upsert", "data": {"text": "oi"}},
            status=status,
            received_at=now,
            next_attempt_at=now,
        )

    _sweep_after(29)
    assert EngineInboxEntry.objects.count() == 3
    _sweep_after(31)
    assert list(EngineInboxEntry.objects.values_list("status", flat=True)) == [
        InboxStatus.PENDING
    ]


def test_on_postgresql_each_swept_table_has_an_age_index():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("BRIN indexes are PostgreSQL's (make test with DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%brin%'"
        )
        brin = {table: definition for table, definition in cursor.fetchall()}
    for table, column in [
        ("instances_message", "created_at"),
        ("instances_receivedmessage", "received_at"),
        ("instances_simulatedmessage", "sent_at"),
        ("instances_mediafile", "created_at"),
    ]:
        assert f"brin ({column})" in brin[table]
