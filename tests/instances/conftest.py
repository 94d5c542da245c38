import pytest

from instances import services, tasks
from instances.models import ActorKind, InstanceState
from plugmessage import broker
from tests.factories import InstanceFactory


@pytest.fixture
def instance(owner):
    """The owner's instance, waiting for its QR code to be read."""
    created = services.instance_create(owner=owner, name="Vendas")
    return services.instance_connect(
        instance=created, actor_kind=ActorKind.CUSTOMER, actor=owner
    )


@pytest.fixture
def connect(db):
    """Simulate a phone reading the instance's current QR code."""
    from instances.engines import engine_get
    from instances.models import SimulatedSession

    def scan(instance, number="5511987654321"):
        engine = engine_get()
        session = SimulatedSession.objects.get(engine_ref=instance.engine_ref)
        event = engine.phone_scan(session.code, number)
        services.engine_events_apply([event])
        instance.refresh_from_db()
        return instance

    return scan


@pytest.fixture
def connected(instance, connect):
    instance = connect(instance)
    assert instance.state == InstanceState.CONNECTED
    return instance


@pytest.fixture
def other_instance(other):
    return InstanceFactory(owner=other, name="Do outro")


class TaskQueue(list):
    """What the code published to Celery, as (name, args), and a worker to
    run it in place."""

    def __init__(self, capture):
        super().__init__()
        self._capture = capture

    def run(self) -> int:
        """Run what was queued, and what that queues, as a worker would (each
        task's after-commit work included). Returns how many tasks ran."""
        ran = 0
        while self:
            name, args = self.pop(0)
            with self._capture(execute=True):
                getattr(tasks, name.rsplit(".", 1)[1])(*args)
            ran += 1
        return ran


@pytest.fixture
def task_queue(monkeypatch, django_capture_on_commit_callbacks):
    queue = TaskQueue(django_capture_on_commit_callbacks)
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(broker, "_down", False)
    monkeypatch.setattr(
        "instances.health.current_app.send_task",
        lambda name, args=(), **options: queue.append((name, list(args))),
    )
    return queue
