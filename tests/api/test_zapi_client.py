"""A client written from Z-API's contract alone works against PlugMessage
by changing only its base URL, over real HTTP."""

import pytest

from instances import services
from instances.engines import engine_get
from instances.models import Instance, Message, SimulatedSession
from tests.api import samples
from tests.api.zapi_client import ZapiClient


@pytest.mark.django_db(transaction=True)
def test_a_z_api_client_works_by_changing_only_its_base_url(
    live_server, owner, monkeypatch
):
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task", lambda *a, **k: None
    )
    instance = services.instance_create(owner=owner, name="Migrada")
    client = ZapiClient(
        f"{live_server.url}/instances/{instance.pk}/token/{instance.token}"
    )

    assert client.status()["connected"] is False
    assert client.qr_code_image().startswith("data:image/png;base64,")
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    assert client.status() == {
        "connected": True,
        "error": "You are already connected.",
        "smartphoneConnected": True,
    }

    sent = [
        client.send_text("5521998765432", "Olá do cliente Z-API"),
        client.send_image(
            "5521998765432", samples.data_uri(samples.PNG, "image/png"), "Foto"
        ),
        client.send_document(
            "5521998765432", samples.data_uri(samples.PDF), "pdf", "Proposta"
        ),
        client.send_location("5521998765432", "Loja", "Rua A, 1", "-23.5", "-46.6"),
    ]
    for answer in sent:
        assert answer["messageId"] == answer["id"] and answer["zaapId"]
    assert [item["MessageId"] for item in client.queue()] == [
        answer["messageId"] for answer in sent
    ]
    assert client.phone_exists("5521998765432") is True
    assert client.disconnect() is True
    assert Instance.objects.get(pk=instance.pk).state == "disconnected"
    assert Message.objects.filter(instance=instance).count() == 4
