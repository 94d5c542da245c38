import pytest
from django.urls import reverse

from instances.engines.base import Engine, EngineSession
from instances.engines.simulator import SimulatorEngine
from instances.models import InstanceState, SimulatedSession

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
