import pytest

from instances import services
from instances.models import ActorKind, InstanceState
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
