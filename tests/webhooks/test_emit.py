"""Events are written in the transaction of the change that caused them."""

import pytest
from django.db import transaction

from instances import services as instance_services
from instances.engines import engine_get
from instances.engines.base import EngineEvent
from instances.models import SimulatedSession
from webhooks import services
from webhooks.models import DeliveryStatus, EventKind, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(sent_tasks):
    return sent_tasks


def _connect(instance):
    waiting = instance_services.instance_connect(
        instance=instance, actor_kind="customer"
    )
    code = SimulatedSession.objects.get(engine_ref=waiting.engine_ref).code
    instance_services.engine_events_apply(
        [engine_get().phone_scan(code, "5511987654321")]
    )


def test_connecting_emits_instance_connected_and_queues_after_commit(
    hooked, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _connect(hooked)

    event = WebhookEvent.objects.get(kind=EventKind.CONNECTED)
    assert event.payload["data"] == {"phone": "+5511987654321", "state": "connected"}
    assert event.payload["instance_id"] == str(hooked.pk)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert queued == [services.DRAIN_TASK]


def test_disconnecting_emits_instance_disconnected_with_the_reason(
    hooked, queued, owner
):
    _connect(hooked)
    hooked.refresh_from_db()
    instance_services.instance_disconnect(
        instance=hooked, actor_kind="customer", actor=owner
    )

    event = WebhookEvent.objects.get(kind=EventKind.DISCONNECTED)
    assert event.payload["data"]["reason"] == "Desconectada pelo cliente"


def test_a_change_rolled_back_leaves_no_event_and_queues_nothing(
    hooked, queued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.event_emit(instance=hooked, kind=EventKind.CONNECTED, data={})
        raise RuntimeError("the change failed")

    assert not WebhookEvent.objects.exists()
    assert queued == []


def test_no_listening_endpoint_stores_nothing(instance, queued):
    assert (
        services.event_emit(instance=instance, kind=EventKind.CONNECTED, data={})
        is None
    )
    assert not WebhookEvent.objects.exists()


def test_inbound_messages_and_receipts_reach_their_webhooks(hooked, queued):
    _connect(hooked)
    instance_services.engine_events_apply(
        [
            EngineEvent(
                "message_received",
                hooked.engine_ref,
                phone_number="5521998765432@s.whatsapp.net",
                extra={"message_id": "ABC", "text": "Oi"},
            ),
            EngineEvent(
                "message_status",
                hooked.engine_ref,
                phone_number="+5521998765432",
                extra={"message_id": "XYZ", "status": "read"},
            ),
            EngineEvent(
                "chat_presence",
                hooked.engine_ref,
                phone_number="5521998765432@s.whatsapp.net",
                extra={"presence": "composing"},
            ),
        ]
    )

    data = {e.kind: e.payload["data"] for e in WebhookEvent.objects.all()}
    received = data[EventKind.MESSAGE_RECEIVED]
    assert {key: received[key] for key in ("message_id", "from", "text", "kind")} == {
        "message_id": "ABC",
        "from": "+5521998765432",
        "text": "Oi",
        "kind": "text",
    }
    assert data[EventKind.MESSAGE_STATUS] == {
        "message_id": "XYZ",
        "to": "+5521998765432",
        "status": "read",
    }
    assert data[EventKind.CHAT_PRESENCE] == {
        "chat": "+5521998765432",
        "presence": "composing",
    }
