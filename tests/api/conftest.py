import pytest
from django.core.cache import cache

from instances import messaging, services
from instances.engines import engine_get
from instances.engines.base import EngineEvent
from instances.models import SimulatedSession
from webhooks.models import EventKind, WebhookEvent


def receipt(instance, message, status: str) -> EngineEvent:
    """The engine's receipt `status` for a message the instance sent."""
    return EngineEvent(
        "message_status",
        instance.engine_ref,
        phone_number=message.to,
        extra={"message_id": message.engine_message_id, "status": status},
    )


def status_steps(message) -> list[str]:
    """The statuses the message.status webhooks announced for a message, in
    the order they were stored."""
    return [
        e.payload["data"]["status"]
        for e in WebhookEvent.objects.filter(
            kind=EventKind.MESSAGE_STATUS, payload__data__message_id=str(message.pk)
        ).order_by("created_at", "id")
    ]


@pytest.fixture
def queued_tasks(monkeypatch):
    """What the code publishes to Celery, recorded instead of sent: (name,
    args, countdown)."""
    sent = []
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task",
        lambda name, args=(), countdown=None: sent.append(
            (name, list(args), countdown)
        ),
    )
    cache.delete(messaging.DISPATCH_PENDING)
    monkeypatch.setattr(messaging, "_dispatch_covers_until", 0.0)
    return sent


@pytest.fixture
def live(owner):
    """The owner's instance, connected on the simulator to +55 11 98765-4321."""
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name="API"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    instance.refresh_from_db()
    return instance
