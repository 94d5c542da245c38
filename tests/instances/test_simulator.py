from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from instances import messaging, services
from instances.engines.base import Engine, EngineError, EngineSession
from instances.engines.simulator import EngineRefused, SimulatorEngine
from instances.messaging import Draft
from instances.models import (
    Instance,
    InstanceState,
    Message,
    MessageStatus,
    SimulatedMessage,
    SimulatedSession,
)
from tests.helpers import at_the_same_moment
from webhooks import services as webhook_services
from webhooks.models import EventKind, WebhookEvent

pytestmark = pytest.mark.django_db
S = InstanceState


def _code(instance):
    return SimulatedSession.objects.get(engine_ref=instance.engine_ref).code


def test_the_qr_encodes_the_simulated_phone_page(instance, settings):
    code = _code(instance)
    assert instance.qr_code == settings.SITE_URL + reverse(
        "instances:simulator_scan", args=[code]
    )


def test_a_visitor_scans_with_the_simulated_phone_and_the_instance_connects(
    client, instance
):
    url = reverse("instances:simulator_scan", args=[_code(instance)])
    page = client.get(url).content.decode()
    assert "Número deste celular" in page
    assert "Conectar" in page

    done = client.post(url, {"phone_number": "(21) 99876-5432"}).content.decode()

    assert "Aparelho conectado" in done
    instance.refresh_from_db()
    assert (instance.state, instance.phone_number) == (S.CONNECTED, "+5521998765432")
    event = instance.events.first()
    assert event.actor_kind == "engine"
    assert "+55 21 99876-5432" in event.cause


def test_a_bad_number_on_the_phone_is_explained_and_kept(client, instance):
    url = reverse("instances:simulator_scan", args=[_code(instance)])
    page = client.post(url, {"phone_number": "999"}).content.decode()

    assert "Número de telefone inválido" in page
    assert 'value="999"' in page
    instance.refresh_from_db()
    assert instance.state == S.WAITING_SCAN


def test_an_unknown_code_is_expired(client, db):
    page = client.get(
        reverse("instances:simulator_scan", args=["nao-existe"])
    ).content.decode()
    assert "expirou" in page


def test_a_pairing_code_typed_on_the_phone_connects(client, owner_client, instance):
    owner_client.post(
        reverse("instances:pair", args=[instance.pk]), {"phone_number": "11987654321"}
    )
    instance.refresh_from_db()
    url = reverse("instances:simulator_pairing")

    wrong_number = client.post(
        url, {"phone_number": "11912345678", "pairing_code": instance.pairing_code}
    ).content.decode()
    assert "outro número" in wrong_number
    wrong_code = client.post(
        url, {"phone_number": "11987654321", "pairing_code": "AAAA-AAAA"}
    )
    assert "inválido" in wrong_code.content.decode()

    code = f"{instance.pairing_code[:4]}-{instance.pairing_code[4:].lower()}"
    done = client.post(
        url, {"phone_number": "11987654321", "pairing_code": code}
    ).content.decode()

    assert "Aparelho conectado" in done
    instance.refresh_from_db()
    assert (instance.state, instance.phone_number) == (S.CONNECTED, "+5511987654321")


def test_the_pairing_code_uses_whatsapps_alphabet(instance):
    engine = SimulatorEngine()
    start = engine.session_start(
        EngineSession(instance.engine_ref), phone_number="5511987654321"
    )
    assert len(start.pairing_code) == 8
    assert set(start.pairing_code) <= set("ABCDEFGHJKLMNPQRSTVWXYZ23456789")
    assert start.qr_code == ""


def test_the_simulator_pages_are_not_routed_for_another_engine(
    client, instance, settings
):
    settings.WHATSAPP_ENGINE = "tests.instances.test_simulator.OtherEngine"
    assert (
        client.get(
            reverse("instances:simulator_scan", args=[_code(instance)])
        ).status_code
        == 404
    )
    assert client.get(reverse("instances:simulator_pairing")).status_code == 404


class OtherEngine(Engine):
    """Any engine that is not the simulator."""

    name = "other"

    def _unused(self, *args, **kwargs):
        raise AssertionError("not called in these tests")

    session_start = session_state = session_logout = _unused
    session_delete = message_send_text = _unused


def test_sent_messages_are_reported_delivered_then_read(connected):
    engine = SimulatorEngine()
    session = EngineSession(connected.engine_ref)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        message_id = engine.message_send_text(session, to="+5511912345678", text="Olá")
        assert [e.kind for e in engine.tick()] == []
        clock.move_to(start + timedelta(seconds=1))
        assert [(e.kind, e.extra["status"]) for e in engine.tick()] == [
            ("message_status", "delivered")
        ]
        clock.move_to(start + timedelta(seconds=3))
        (read,) = engine.tick()
        assert engine.tick() == []

    assert read.extra == {"message_id": message_id, "status": "read"}
    assert read.phone_number == "+5511912345678"


def test_sending_needs_an_open_session(instance):
    with pytest.raises(EngineError):
        SimulatorEngine().message_send_text(
            EngineSession(instance.engine_ref), to="+5511912345678", text="x"
        )


def test_a_contact_can_send_the_instance_a_message(connected):
    event = SimulatorEngine().phone_send_message(
        connected.engine_ref, "5511912345678", "Oi!"
    )

    assert (event.kind, event.phone_number, event.extra["text"]) == (
        "message_received",
        "5511912345678",
        "Oi!",
    )
    assert event.extra["message_id"].startswith("SIMIN")


def test_a_disconnected_instance_receives_nothing(instance):
    with pytest.raises(EngineRefused):
        SimulatorEngine().phone_send_message(
            instance.engine_ref, "5511912345678", "Oi!"
        )


def test_a_contact_can_send_any_kind_and_the_phone_keeps_it(connected):
    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    event = SimulatorEngine().phone_send_message(
        connected.engine_ref,
        "5511912345678",
        "Olha",
        kind="image",
        media={"data": picture, "mime_type": "image/png", "file_name": "a.png"},
        sender_name="Bia",
    )

    assert (event.extra["kind"], event.extra["text"], event.extra["sender_name"]) == (
        "image",
        "Olha",
        "Bia",
    )
    assert event.extra["media"]["data"] == picture
    kept = SimulatedMessage.objects.get(message_id=event.extra["message_id"])
    assert (kept.inbound, kept.to, kept.kind, kept.content) == (
        True,
        "+5511912345678",
        "image",
        {"file_name": "a.png"},
    )


def test_a_reaction_from_the_phone_says_whether_it_answers_the_instance(connected):
    engine = SimulatorEngine()
    sent = engine.message_send_text(
        EngineSession(connected.engine_ref), to="+5511912345678", text="Oi"
    )

    event = engine.phone_send_message(
        connected.engine_ref,
        "5511912345678",
        kind="reaction",
        content={"emoji": "👍", "reaction_to": sent},
    )

    assert event.extra["content"] == {
        "emoji": "👍",
        "reaction_to": sent,
        "reaction_to_from_me": True,
    }
    assert event.extra["reply_to"] == sent


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_announce_each_receipt_once_on_postgresql(
    connected, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task",
        lambda name, args=(), countdown=None: None,
    )
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task", lambda name, args=(): None
    )
    webhook_services.webhook_endpoints_save(
        instance=connected,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    Instance.objects.filter(pk=connected.pk).update(warmup_plan=[1000])
    connected.refresh_from_db()
    messages = [
        messaging.message_accept(
            instance=connected, phone="5521998765432", draft=Draft(text=f"Oi {n}")
        )
        for n in range(60)
    ]
    messaging.messages_send(message_ids=[str(m.pk) for m in messages])
    # Past both of the simulated phone's delays (delivered, then read).
    SimulatedMessage.objects.filter(inbound=False).update(
        sent_at=timezone.now() - timedelta(minutes=5)
    )

    _results, errors = at_the_same_moment([services.engine_tick] * 2)

    assert errors == []
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.READ}
    counted = {}
    for event in WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS):
        key = (event.payload["data"]["message_id"], event.payload["data"]["status"])
        counted[key] = counted.get(key, 0) + 1
    assert counted == {
        (str(m.pk), status): 1
        for m in messages
        for status in ("sent", "delivered", "read")
    }
