"""Webhooks: what the customer configures, and delivering every event at
least once. The one door other apps use is `event_emit`."""

import json
import logging
import random
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from webhooks import sender
from webhooks.models import (
    DeliveryStatus,
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSettings,
    secret_generate,
)

logger = logging.getLogger(__name__)

# The Standard Webhooks schedule: the wait before attempt 1, 2, ... 10.
RETRY_SCHEDULE = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
]
JITTER = 0.1
DISABLE_AFTER = timedelta(days=5)
SECRET_OVERLAP = timedelta(hours=24)
SWEEP_BATCH = 500
ATTEMPT_TASK = "webhooks.tasks.webhook_delivery_attempt_task"
DISABLED_EMAIL_TASK = "webhooks.tasks.webhook_endpoint_disabled_email_task"


def _enqueue(delivery_id: int) -> None:
    # By name: tasks import services, so services must not import tasks.
    transaction.on_commit(
        partial(current_app.send_task, ATTEMPT_TASK, args=[delivery_id])
    )


def webhook_settings_get(*, instance_id) -> WebhookSettings:
    """The instance's signing secret, created on first use."""
    settings_row, _created = WebhookSettings.objects.get_or_create(
        instance_id=instance_id
    )
    return settings_row


@transaction.atomic
def event_emit(*, instance, kind: str, data: dict) -> WebhookEvent | None:
    """Record that `kind` happened on `instance` and queue a delivery to its
    endpoint for that kind, if one is active.

    Call it inside the transaction of the change it announces: the event and
    its delivery commit or roll back with it, and the delivery task is only
    enqueued after commit. Returns None when no endpoint listens (nothing is
    stored then)."""
    endpoint = (
        WebhookEndpoint.objects.filter(instance=instance, kind=kind, enabled=True)
        .exclude(url="")
        .filter(disabled_at__isnull=True)
        .first()
    )
    if endpoint is None:
        return None
    event = WebhookEvent.objects.create(
        instance=instance, kind=kind, payload=_payload(instance, kind, data)
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=event.created_at
    )
    _enqueue(delivery.pk)
    return event


def _payload(instance, kind: str, data: dict) -> dict:
    return {
        "type": kind,
        "timestamp": timezone.now().isoformat(),
        "instance_id": str(instance.pk),
        "data": data,
    }


def _signed_headers(
    event: WebhookEvent, body: str, settings_row: WebhookSettings
) -> dict:
    now = timezone.now()
    signatures = [
        Webhook(secret).sign(event.id, now, body)
        for secret in settings_row.signing_secrets(now)
    ]
    return {
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _body(event: WebhookEvent) -> str:
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))


def _next_attempt(
    attempts: int, now: datetime, retry_after: int | None
) -> datetime | None:
    if attempts >= len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[attempts] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, 86400)))
    return now + wait


def _attempt(delivery: WebhookDelivery) -> tuple[WebhookAttempt, sender.PostResult]:
    """Sign and post once; the attempt row is returned unsaved."""
    endpoint = delivery.endpoint
    body = _body(delivery.event)
    headers = _signed_headers(
        delivery.event, body, webhook_settings_get(instance_id=endpoint.instance_id)
    )
    started = timezone.now()
    result = sender.post(endpoint.url, body.encode(), headers)
    attempt = WebhookAttempt(
        delivery=delivery,
        url=endpoint.url,
        request_headers={**headers, "content-type": "application/json"},
        started_at=started,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error[:300],
        response_body=result.body,
    )
    return attempt, result


def _endpoint_disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason[:300]
    )
    transaction.on_commit(
        partial(current_app.send_task, DISABLED_EMAIL_TASK, args=[endpoint.pk])
    )


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make the next attempt of a due delivery, if no other worker holds it.

    Idempotent and safe to run twice at once: the delivery is claimed with a
    lease (`locked_until`) by one UPDATE, so only one runner posts. A runner
    killed mid-way leaves the lease to expire, and the sweeper hands the
    delivery out again: receivers may see it twice, never zero times.
    Returns the delivery, or None when there was nothing to do."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(
        pk=delivery_id
    )
    endpoint = delivery.endpoint
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            finished_at=now,
            next_attempt_at=None,
            locked_until=None,
        )
        return delivery
    attempt, result = _attempt(delivery)
    _attempt_record(delivery, attempt, result)
    return delivery


@transaction.atomic
def _attempt_record(
    delivery: WebhookDelivery, attempt: WebhookAttempt, result: sender.PostResult
) -> None:
    now = timezone.now()
    endpoint = delivery.endpoint
    attempt.save()
    delivery.attempt_count += 1
    delivery.locked_until = None
    if result.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.finished_at = now
        delivery.next_attempt_at = None
        if endpoint.failing_since:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
    else:
        WebhookEndpoint.objects.filter(
            pk=endpoint.pk, failing_since__isnull=True
        ).update(failing_since=now)
        failing_since = endpoint.failing_since or now
        if result.status_code == 410:
            _endpoint_disable(
                endpoint,
                _("O endereço respondeu 410 (Gone): o recebedor pediu para parar."),
                now,
            )
            delivery.next_attempt_at = None
        elif now - failing_since >= DISABLE_AFTER:
            _endpoint_disable(
                endpoint, _("Todas as entregas falharam durante 5 dias seguidos."), now
            )
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = _next_attempt(
                delivery.attempt_count, now, result.retry_after
            )
        if delivery.next_attempt_at is None:
            delivery.status = DeliveryStatus.FAILED
            delivery.finished_at = now
    delivery.save(
        update_fields=[
            "attempt_count",
            "locked_until",
            "status",
            "finished_at",
            "next_attempt_at",
        ]
    )


def webhook_deliveries_sweep(*, limit: int = SWEEP_BATCH) -> int:
    """Beat, every few seconds: enqueue every due delivery no worker holds
    (first attempts whose task was lost, retries whose time has come, and
    deliveries of a killed worker once its lease expired). Returns how many."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        current_app.send_task(ATTEMPT_TASK, args=[delivery_id])
    return len(due)


# What the customer does in the "Webhooks" tab.


@transaction.atomic
def webhook_endpoints_save(*, instance, values: dict[str, tuple[str, bool]]) -> None:
    """Save the URL and switch of each event kind. A changed URL clears a
    disabled state: the customer has fixed what was failing."""
    for kind, (url, enabled) in values.items():
        endpoint, _created = WebhookEndpoint.objects.get_or_create(
            instance=instance, kind=kind
        )
        url = url.strip()
        if url != endpoint.url:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        endpoint.url = url
        endpoint.enabled = enabled
        endpoint.save()


def webhook_secret_rotate(*, instance) -> WebhookSettings:
    """Issue a new signing secret. For 24 h both secrets sign every delivery
    (the header holds both signatures), so receivers keep working while they
    switch."""
    with transaction.atomic():
        row = WebhookSettings.objects.select_for_update().get(
            pk=webhook_settings_get(instance_id=instance.pk).pk
        )
        row.previous_secret = row.secret
        row.previous_expires_at = timezone.now() + SECRET_OVERLAP
        row.secret = secret_generate()
        row.save()
    return row


def webhook_test_send(*, instance, kind: str) -> WebhookAttempt:
    """Send a sample event of `kind` now, once, and return the attempt (for
    "Enviar teste"). Logged in "Entregas" as a test; never retried."""
    endpoint = WebhookEndpoint.objects.get(instance=instance, kind=kind)
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            instance=instance,
            kind=kind,
            payload=_payload(instance, kind, sample_data(kind)),
        )
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, is_test=True
        )
    delivery.endpoint = endpoint
    attempt, result = _attempt(delivery)
    with transaction.atomic():
        attempt.save()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempt_count=1,
            status=DeliveryStatus.SUCCEEDED
            if result.succeeded
            else DeliveryStatus.FAILED,
            finished_at=timezone.now(),
        )
    return attempt


def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again as a new delivery, with the same webhook-id."""
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            endpoint_id=delivery.endpoint_id,
            next_attempt_at=timezone.now(),
        )
        _enqueue(again.pk)
    return again


def webhook_endpoint_reactivate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=None, disabled_reason="", failing_since=None
    )
    endpoint.refresh_from_db()
    return endpoint


def webhook_failures_replay(*, instance, since: datetime) -> int:
    """Resend every failed delivery of `instance` created since `since`
    (tests excluded). Returns how many were queued."""
    failed = WebhookDelivery.objects.filter(
        endpoint__instance=instance,
        status=DeliveryStatus.FAILED,
        is_test=False,
        created_at__gte=since,
    )
    count = 0
    with transaction.atomic():
        for delivery in failed:
            webhook_delivery_resend(delivery=delivery)
            count += 1
    return count


def example_payload(kind: str) -> dict:
    """A whole example body of `kind`, as the docs show it."""
    return {
        "type": kind,
        "timestamp": "2026-11-26T14:05:09.123456+00:00",
        "instance_id": "0b7c5e2a-4d1f-4c3e-9a8b-7f6e5d4c3b2a",
        "data": sample_data(kind),
    }


def sample_data(kind: str) -> dict:
    """An example `data` of each kind: for "Enviar teste" and the docs."""
    return {
        EventKind.MESSAGE_RECEIVED: {
            "message_id": "3EB0C431D5A1B2C3D4E5",
            "from": "+5511987654321",
            "text": "Olá! Quero saber o horário de atendimento.",
        },
        EventKind.MESSAGE_SENT: {
            "message_id": "3EB0A1B2C3D4E5F6A7B8",
            "to": "+5511987654321",
            "text": "Nosso horário é das 8h às 18h.",
        },
        EventKind.MESSAGE_STATUS: {
            "message_id": "3EB0A1B2C3D4E5F6A7B8",
            "to": "+5511987654321",
            "status": "read",
        },
        EventKind.CONNECTED: {"phone": "+5511912345678", "state": "connected"},
        EventKind.DISCONNECTED: {
            "phone": "+5511912345678",
            "state": "disconnected",
            "reason": "Desconectada pelo cliente",
        },
        EventKind.CHAT_PRESENCE: {"chat": "+5511987654321", "presence": "composing"},
    }[kind]
