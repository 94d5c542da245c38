import pytest
from django.core.cache import cache

from instances import messaging, services
from instances.engines import engine_get
from instances.models import SimulatedSession


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
