"""The Evolution API v2 adapter against answers shaped like its documented
API (tests/instances/fixtures/evolution/), served by respx on loopback."""

import base64
import json
import logging
from pathlib import Path

import httpx
import pytest
import respx
from django.urls import reverse

from instances import messaging, services
from instances.engines import evolution as evolution_module
from instances.engines.base import (
    EngineError,
    EngineNotOnWhatsApp,
    EngineSession,
    EngineUnavailable,
    EngineUnsupported,
    OutgoingMessage,
)
from instances.engines.evolution import CLOSE_REASONS, EvolutionEngine
from instances.models import InstanceEvent, InstanceState

S = InstanceState
BASE = "http://127.0.0.1:8080"
FIXTURES = Path(__file__).parent / "fixtures" / "evolution"
REF = "pm-0b7c5e2a"
TOKEN = "C0FFEE00-1234-4ABC-9DEF-0123456789AB"
SECRET = "segredo-de-teste-para-eventos"


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def evolution(settings):
    settings.WHATSAPP_ENGINE = "instances.engines.evolution.EvolutionEngine"
    settings.EVOLUTION_API_URL = BASE
    settings.EVOLUTION_API_KEY = "chave-global"
    settings.ENGINE_EVENTS_SECRET = SECRET
    settings.SITE_URL = "https://painel.plugmessage.test"
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def pauses():
    """The adapter's waits, recorded instead of slept."""
    return []


@pytest.fixture
def engine(evolution, pauses):
    return EvolutionEngine(sleep=pauses.append)


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


SESSION = EngineSession(REF, TOKEN)


def test_starting_creates_the_instance_with_our_webhook_then_connects(
    evolution, engine
):
    create = evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_qr")
    )

    started = engine.session_start(EngineSession(REF))

    assert create.calls.last.request.headers["apikey"] == "chave-global"
    body = json.loads(create.calls.last.request.content)
    assert body["instanceName"] == REF
    assert body["integration"] == "WHATSAPP-BAILEYS"
    assert body["webhook"]["url"] == "https://painel.plugmessage.test/motor/eventos/"
    assert body["webhook"]["headers"] == {"X-PlugMessage-Secret": SECRET}
    assert "CONNECTION_UPDATE" in body["webhook"]["events"]
    assert connect.calls.last.request.headers["apikey"] == TOKEN
    assert started.qr_code == "2@PLUGMESSAGE-TEST-QR,abc,def,ghi"
    assert started.engine_token == TOKEN


def test_a_known_instance_connects_with_its_own_token(evolution, engine):
    create = evolution.post("/instance/create")
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_qr")
    )

    engine.session_start(EngineSession(REF, "token-da-instancia"))

    assert not create.called
    assert connect.calls.last.request.headers["apikey"] == "token-da-instancia"


def test_a_pairing_code_is_asked_with_the_number(evolution, engine):
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_pairing")
    )

    started = engine.session_start(
        EngineSession(REF, TOKEN), phone_number="5511987654321"
    )

    assert connect.calls.last.request.url.params["number"] == "5511987654321"
    assert started.pairing_code == "K7PX2QMD"


def test_an_open_session_we_did_not_know_is_closed_for_a_fresh_code(evolution, engine):
    evolution.get(f"/instance/connect/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("connect_open")),
            httpx.Response(200, json=fixture("connect_qr")),
        ]
    )
    logout = evolution.delete(f"/instance/logout/{REF}").respond(
        200, json=fixture("logout_ok")
    )
    evolution.get(f"/instance/connectionState/{REF}").respond(
        200, json=fixture("state_close")
    )

    started = engine.session_start(EngineSession(REF, TOKEN))

    assert logout.called
    assert started.qr_code


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json=fixture("error_200_flag")), EngineError),
        (httpx.Response(401, json=fixture("error_401")), EngineError),
        (
            httpx.Response(500, json=fixture("error_500_connection_closed")),
            EngineUnavailable,
        ),
        (httpx.Response(502, text="Bad Gateway"), EngineUnavailable),
        (httpx.ConnectTimeout("timed out"), EngineUnavailable),
        (httpx.ReadTimeout("timed out"), EngineUnavailable),
        (httpx.ConnectError("refused"), EngineUnavailable),
    ],
)
def test_errors_and_timeouts_are_reported(evolution, engine, response, error):
    route = evolution.get(f"/instance/connect/{REF}")
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)

    with pytest.raises(error):
        engine.session_start(EngineSession(REF, TOKEN))


def test_redirects_are_not_followed(evolution, engine):
    evolution.get(f"/instance/connect/{REF}").respond(
        302, headers={"Location": "http://10.0.0.1/"}
    )

    with pytest.raises(EngineError):
        engine.session_start(EngineSession(REF, TOKEN))


@pytest.mark.parametrize(
    ("name", "status", "state"),
    [
        ("state_open", 200, "open"),
        ("state_connecting", 200, "connecting"),
        ("state_close", 200, "close"),
        ("error_404", 404, "close"),
    ],
)
def test_the_connection_state_is_read(evolution, engine, name, status, state):
    evolution.get(f"/instance/connectionState/{REF}").respond(
        status, json=fixture(name)
    )

    assert engine.session_state(EngineSession(REF, TOKEN)) == state


@pytest.mark.parametrize(
    ("status", "name"),
    [(200, "logout_ok"), (404, "error_404"), (400, "error_400_not_connected")],
)
def test_logout_is_idempotent(evolution, engine, status, name):
    route = evolution.delete(f"/instance/logout/{REF}").respond(
        status, json=fixture(name)
    )
    evolution.get(f"/instance/connectionState/{REF}").respond(
        200, json=fixture("state_close")
    )

    engine.session_logout(EngineSession(REF, TOKEN))

    assert route.calls.last.request.headers["apikey"] == TOKEN


@pytest.mark.parametrize(("status", "name"), [(200, "delete_ok"), (404, "error_404")])
def test_delete_is_idempotent(evolution, engine, status, name):
    route = evolution.delete(f"/instance/delete/{REF}").respond(
        status, json=fixture(name)
    )

    engine.session_delete(EngineSession(REF, TOKEN))

    assert route.called


def test_sending_text_returns_the_message_id(evolution, engine):
    route = evolution.post(f"/message/sendText/{REF}").respond(
        201, json=fixture("send_text_ok")
    )

    message_id = engine.message_send_text(
        EngineSession(REF, TOKEN), to="+5511987654321", text="Olá"
    )

    assert message_id == "3EB0A1B2C3D4E5F6A7B8C9"
    assert json.loads(route.calls.last.request.content) == {
        "number": "5511987654321",
        "text": "Olá",
    }


@pytest.mark.parametrize(
    "name", ["error_400_not_on_whatsapp", "error_400_not_connected"]
)
def test_a_refused_send_is_an_error_even_when_the_state_said_open(
    evolution, engine, name
):
    evolution.post(f"/message/sendText/{REF}").respond(400, json=fixture(name))

    with pytest.raises(EngineError):
        engine.message_send_text(
            EngineSession(REF, TOKEN), to="+5511900000000", text="Olá"
        )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("event_qrcode_updated", [("qr_updated", "2@PLUGMESSAGE-TEST-QR,abc,def,ghi")]),
        ("event_qrcode_limit", []),
        ("event_connection_open", [("connected", "")]),
        ("event_connection_connecting", []),
        ("event_connection_close", [("disconnected", "")]),
        ("event_connection_refused", [("qr_gave_up", "")]),
        ("event_logout_instance", []),
        ("event_messages_upsert", [("message_received", "")]),
        ("event_messages_upsert_from_me", [("message_status", "")]),
        ("event_send_message", []),
        ("event_messages_update", [("message_status", "")]),
        ("event_presence_update", [("chat_presence", "")]),
    ],
)
def test_webhook_bodies_become_engine_events(engine, name, expected):
    events = engine.events_from_webhook(fixture(name))

    assert [(e.kind, e.qr_code) for e in events] == expected
    assert all(e.engine_ref == REF for e in events)


def test_an_inbound_message_carries_sender_text_and_id(engine):
    (event,) = engine.events_from_webhook(fixture("event_messages_upsert"))
    assert event.phone_number == "5511987654321@s.whatsapp.net"
    assert event.extra == {
        "message_id": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
        "kind": "text",
        "text": "Oi, quero saber o horário de atendimento.",
        "sender_name": "Cliente Teste",
        "reply_to": "",
        "content": {},
    }


def test_a_hidden_number_is_read_from_the_alternative_jid(engine):
    (event,) = engine.events_from_webhook(fixture("event_messages_upsert_lid"))
    assert event.phone_number == "5511987654321@s.whatsapp.net"


def test_messages_from_this_number_are_not_inbound(engine):
    payload = fixture("event_messages_upsert")
    payload["data"]["key"]["fromMe"] = True
    assert [e.kind for e in engine.events_from_webhook(payload)] == ["message_status"]


@pytest.mark.parametrize(
    ("evolution_status", "status"),
    [
        ("SERVER_ACK", "sent"),
        ("DELIVERY_ACK", "delivered"),
        ("READ", "read"),
        ("PLAYED", "read"),
        ("ERROR", "failed"),
    ],
)
def test_receipts_are_translated(engine, evolution_status, status):
    payload = fixture("event_messages_update")
    payload["data"]["status"] = evolution_status
    (event,) = engine.events_from_webhook(payload)
    assert event.extra == {"message_id": "3EB0A1B2C3D4E5F6A7B8C9", "status": status}


def test_the_open_event_carries_the_number(engine):
    (event,) = engine.events_from_webhook(fixture("event_connection_open"))
    assert event.phone_number == "5511912345678@s.whatsapp.net"


# The whole path, from the panel to Evolution and back through /motor/eventos/.


@pytest.fixture
def evolution_instance(db, owner, evolution):
    from instances.models import Instance

    instance = services.instance_create(owner=owner, name="Evolution")
    Instance.objects.filter(pk=instance.pk).update(engine_ref=REF)
    instance.refresh_from_db()
    return instance


def _post_event(client, name, secret=SECRET):
    headers = {"HTTP_X_PLUGMESSAGE_SECRET": secret} if secret is not None else {}
    return client.post(
        reverse("engine_events"),
        json.dumps(fixture(name)),
        content_type="application/json",
        **headers,
    )


@pytest.mark.django_db
def test_a_qr_that_is_not_ready_arrives_later_by_event(
    client, owner_client, evolution, evolution_instance
):
    evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_count_zero")
    )

    owner_client.post(reverse("instances:connect", args=[evolution_instance.pk]))
    evolution_instance.refresh_from_db()
    assert evolution_instance.state == S.WAITING_SCAN
    assert evolution_instance.engine_token == TOKEN
    page = owner_client.get(reverse("instances:detail", args=[evolution_instance.pk]))
    assert "Gerando QR Code" in page.content.decode()

    assert _post_event(client, "event_qrcode_updated").status_code == 200
    evolution_instance.refresh_from_db()
    assert evolution_instance.qr_code == "2@PLUGMESSAGE-TEST-QR,abc,def,ghi"
    assert evolution_instance.qr_expires_at is not None

    assert _post_event(client, "event_connection_open").status_code == 200
    evolution_instance.refresh_from_db()
    assert (evolution_instance.state, evolution_instance.phone_number) == (
        S.CONNECTED,
        "+5511912345678",
    )

    assert _post_event(client, "event_connection_close").status_code == 200
    evolution_instance.refresh_from_db()
    assert evolution_instance.state == S.DISCONNECTED
    assert "Aparelhos conectados" in evolution_instance.events.first().cause


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [None, "", "errado"])
def test_events_without_the_secret_are_refused_and_change_nothing(
    client, evolution_instance, secret
):
    events_before = InstanceEvent.objects.count()

    response = _post_event(client, "event_connection_open", secret=secret)

    assert response.status_code == 401
    evolution_instance.refresh_from_db()
    assert evolution_instance.state == S.CREATED
    assert InstanceEvent.objects.count() == events_before


@pytest.mark.django_db
def test_events_are_refused_while_no_secret_is_configured(
    client, evolution_instance, settings
):
    settings.ENGINE_EVENTS_SECRET = ""
    assert _post_event(client, "event_connection_open", secret="").status_code == 401


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_a_400(client, evolution):
    response = client.post(
        reverse("engine_events"),
        "{nope",
        content_type="application/json",
        HTTP_X_PLUGMESSAGE_SECRET=SECRET,
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.Response(200, json=fixture("error_200_flag")),
    ],
)
def test_the_panel_says_the_service_is_unavailable_and_keeps_the_instance(
    owner_client, evolution, evolution_instance, failure
):
    evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    route = evolution.get(f"/instance/connect/{REF}")
    route.mock(side_effect=failure) if isinstance(failure, Exception) else route.mock(
        return_value=failure
    )

    response = owner_client.post(
        reverse("instances:connect", args=[evolution_instance.pk]), follow=True
    )

    assert (
        "Serviço do WhatsApp indisponível, tente de novo" in response.content.decode()
    )
    evolution_instance.refresh_from_db()
    assert evolution_instance.state == S.CREATED
    assert evolution_instance.qr_code == ""


def test_a_create_whose_answer_was_lost_goes_on_with_the_global_key(evolution, engine):
    evolution.post("/instance/create").respond(
        403, json=fixture("error_403_name_in_use")
    )
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_qr")
    )

    started = engine.session_start(EngineSession(REF))

    assert connect.calls.last.request.headers["apikey"] == "chave-global"
    assert started.qr_code and started.engine_token == ""


def test_an_instance_evolution_removed_is_created_again(evolution, engine):
    create = evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").mock(
        side_effect=[
            httpx.Response(404, json=fixture("error_404")),
            httpx.Response(200, json=fixture("connect_qr")),
        ]
    )

    started = engine.session_start(EngineSession(REF, "token-antigo"))

    assert create.called
    assert started.engine_token == TOKEN


# Sending every kind: the request Evolution gets, and how its answer is read.

JPEG = b"\xff\xd8\xff\xe0PLUGMESSAGE-TEST-JPEG\xff\xd9"
OGG = b"OggS\x00\x02PLUGMESSAGE-TEST-OPUS"
CONTACT = "+5511987654321"
QUOTED = "A1B2C3D4E5F60718293A4B5C6D7E8F90"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_a_text_reply_quotes_by_id_and_carries_no_delay(evolution, engine):
    route = evolution.post(f"/message/sendText/{REF}").respond(
        201, json=fixture("send_text_ok")
    )

    message_id = engine.message_send(
        SESSION, OutgoingMessage(to=CONTACT, text="Pode sim!", reply_to=QUOTED)
    )

    request = route.calls.last.request
    assert (request.method, request.headers["apikey"]) == ("POST", TOKEN)
    assert sent(route) == {
        "number": "5511987654321",
        "text": "Pode sim!",
        "quoted": {"key": {"id": QUOTED}},
    }
    assert message_id == "3EB0A1B2C3D4E5F6A7B8C9"


def test_a_link_goes_as_text_with_the_preview_evolution_builds(evolution, engine):
    route = evolution.post(f"/message/sendText/{REF}").respond(
        201, json=fixture("send_link_ok")
    )

    message_id = engine.message_send_link(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="link",
            text="Veja o catálogo https://loja.example.test/catalogo",
            content={
                "url": "https://loja.example.test/catalogo",
                "title": "Catálogo",
                "description": "Todos os produtos",
            },
            media=JPEG,
        ),
    )

    assert sent(route) == {
        "number": "5511987654321",
        "text": "Veja o catálogo https://loja.example.test/catalogo",
        "linkPreview": True,
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C7"


def test_a_link_missing_from_its_text_is_added_so_it_can_be_previewed(
    evolution, engine
):
    route = evolution.post(f"/message/sendText/{REF}").respond(
        201, json=fixture("send_link_ok")
    )

    engine.message_send_link(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="link",
            text="Veja o catálogo",
            content={"url": "https://loja.example.test/catalogo"},
        ),
    )

    assert sent(route)["text"] == "Veja o catálogo\nhttps://loja.example.test/catalogo"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            OutgoingMessage(
                to=CONTACT,
                kind="image",
                text="Foto do produto",
                media=JPEG,
                media_mime="image/png",
                reply_to=QUOTED,
            ),
            {
                "mediatype": "image",
                "mimetype": "image/png",
                "caption": "Foto do produto",
                "quoted": {"key": {"id": QUOTED}},
            },
        ),
        (
            OutgoingMessage(
                to=CONTACT, kind="video", media=JPEG, media_mime="video/3gpp"
            ),
            {"mediatype": "video", "mimetype": "video/3gpp", "fileName": "video.3gp"},
        ),
        (
            OutgoingMessage(
                to=CONTACT,
                kind="document",
                text="Segue o orçamento",
                media=JPEG,
                media_mime="application/pdf",
                file_name="orcamento-42.pdf",
            ),
            {
                "mediatype": "document",
                "mimetype": "application/pdf",
                "caption": "Segue o orçamento",
                "fileName": "orcamento-42.pdf",
            },
        ),
    ],
    ids=["image", "video", "document"],
)
def test_media_goes_to_send_media_as_base64(evolution, engine, message, expected):
    route = evolution.post(f"/message/sendMedia/{REF}").respond(
        201, json=fixture("send_media_ok")
    )

    message_id = engine.message_send_media(SESSION, message)

    assert sent(route) == {"number": "5511987654321", "media": b64(JPEG), **expected}
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C1"
    assert route.calls.last.request.extensions["timeout"]["read"] >= 60


@pytest.mark.parametrize(("mime", "keep"), [("image/webp", True), ("image/png", False)])
def test_a_sticker_goes_to_send_sticker(evolution, engine, mime, keep):
    route = evolution.post(f"/message/sendSticker/{REF}").respond(
        201, json=fixture("send_sticker_ok")
    )

    message_id = engine.message_send_media(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="sticker",
            media=JPEG,
            media_mime=mime,
            content={"author": "Loja"},
        ),
    )

    assert sent(route) == {
        "number": "5511987654321",
        "sticker": b64(JPEG),
        "notConvertSticker": keep,
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C3"


@pytest.mark.parametrize(
    ("method", "kind"),
    [("message_send_media", "image"), ("message_send_audio", "audio")],
)
def test_view_once_media_is_refused_rather_than_sent_for_keeps(
    evolution, engine, method, kind
):
    routes = [
        evolution.post(f"/message/{name}/{REF}")
        for name in ("sendMedia", "sendWhatsAppAudio")
    ]

    with pytest.raises(EngineUnsupported):
        getattr(engine, method)(
            SESSION,
            OutgoingMessage(
                to=CONTACT,
                kind=kind,
                media=JPEG,
                media_mime="image/jpeg",
                content={"view_once": True, "ptt": True},
            ),
        )

    assert not any(route.called for route in routes)


def test_a_voice_note_goes_to_send_whatsapp_audio(evolution, engine):
    route = evolution.post(f"/message/sendWhatsAppAudio/{REF}").respond(
        201, json=fixture("send_audio_ok")
    )

    message_id = engine.message_send_audio(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="audio",
            media=OGG,
            media_mime="audio/ogg",
            content={"ptt": True, "view_once": False},
            reply_to=QUOTED,
        ),
    )

    # The route drops `quoted`, so none is sent.
    assert sent(route) == {
        "number": "5511987654321",
        "audio": b64(OGG),
        "encoding": True,
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C2"


def test_audio_that_is_not_a_voice_note_goes_as_an_audio_file(evolution, engine):
    route = evolution.post(f"/message/sendMedia/{REF}").respond(
        201, json=fixture("send_media_ok")
    )

    engine.message_send_audio(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="audio",
            media=OGG,
            media_mime="audio/mpeg",
            content={"ptt": False, "view_once": False},
        ),
    )

    assert sent(route) == {
        "number": "5511987654321",
        "mediatype": "audio",
        "mimetype": "audio/mpeg",
        "media": b64(OGG),
    }


def test_a_location_carries_coordinates_name_and_address(evolution, engine):
    route = evolution.post(f"/message/sendLocation/{REF}").respond(
        201, json=fixture("send_location_ok")
    )

    message_id = engine.message_send_location(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="location",
            content={
                "latitude": -23.5613,
                "longitude": -46.6565,
                "title": "Loja Paulista",
                "address": "",
            },
            reply_to=QUOTED,
        ),
    )

    assert sent(route) == {
        "number": "5511987654321",
        "latitude": -23.5613,
        "longitude": -46.6565,
        "name": "Loja Paulista",
        "address": "",
        "quoted": {"key": {"id": QUOTED}},
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C4"


def test_a_contact_card_carries_its_whatsapp_number(evolution, engine):
    route = evolution.post(f"/message/sendContact/{REF}").respond(
        201, json=fixture("send_contact_ok")
    )

    message_id = engine.message_send_contact(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="contact",
            content={
                "name": "Maria Souza",
                "phone": "+5521998765432",
                "business_description": "Vendas",
            },
        ),
    )

    assert sent(route) == {
        "number": "5511987654321",
        "contact": [
            {
                "fullName": "Maria Souza",
                "wuid": "5521998765432",
                "phoneNumber": "+5521998765432",
                "organization": "Vendas",
            }
        ],
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C5"


@pytest.mark.parametrize("from_me", [True, False])
def test_a_reaction_names_the_message_by_chat_author_and_id(evolution, engine, from_me):
    route = evolution.post(f"/message/sendReaction/{REF}").respond(
        201, json=fixture("send_reaction_ok")
    )

    message_id = engine.message_send_reaction(
        SESSION,
        OutgoingMessage(
            to=CONTACT,
            kind="reaction",
            content={"emoji": "👍"},
            reply_to=QUOTED,
            reply_to_from_me=from_me,
        ),
    )

    assert sent(route) == {
        "key": {
            "remoteJid": "5511987654321@s.whatsapp.net",
            "fromMe": from_me,
            "id": QUOTED,
        },
        "reaction": "👍",
    }
    assert message_id == "3EB0B1B2C3D4E5F6A7B8C6"


def test_a_reaction_without_its_message_is_an_error(evolution, engine):
    route = evolution.post(f"/message/sendReaction/{REF}")

    with pytest.raises(EngineError):
        engine.message_send_reaction(
            SESSION, OutgoingMessage(to=CONTACT, content={"emoji": "👍"})
        )

    assert not route.called


@pytest.mark.parametrize(
    ("response", "error", "says"),
    [
        (
            httpx.Response(400, json=fixture("error_400_not_on_whatsapp")),
            EngineNotOnWhatsApp,
            "the number 5511900000000 is not on WhatsApp",
        ),
        (
            httpx.Response(400, json=fixture("error_400")),
            EngineError,
            'instance requires property "text"',
        ),
        (
            httpx.Response(500, json=fixture("error_500_connection_closed")),
            EngineUnavailable,
            "Connection Closed",
        ),
        (httpx.ReadTimeout("timed out"), EngineUnavailable, "timed out"),
    ],
)
@pytest.mark.parametrize(
    ("route_name", "method", "kind"),
    [
        ("sendText", "message_send", "text"),
        ("sendMedia", "message_send_media", "image"),
        ("sendLocation", "message_send_location", "location"),
        ("sendContact", "message_send_contact", "contact"),
        ("sendReaction", "message_send_reaction", "reaction"),
    ],
)
def test_a_refused_or_failed_send_says_what_evolution_said(
    evolution, engine, response, error, says, route_name, method, kind
):
    route = evolution.post(f"/message/{route_name}/{REF}")
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)
    message = OutgoingMessage(
        to="+5511900000000",
        kind=kind,
        text="Olá",
        media=JPEG,
        media_mime="image/jpeg",
        content={"latitude": 1.0, "longitude": 2.0, "name": "A", "phone": CONTACT},
        reply_to=QUOTED,
    )

    with pytest.raises(error) as raised:
        getattr(engine, method)(SESSION, message)

    assert type(raised.value) is error
    assert says in str(raised.value)


def test_presence_is_shown_for_the_seconds_asked(evolution, engine):
    route = evolution.post(f"/chat/sendPresence/{REF}").respond(
        201, json=fixture("presence_ok")
    )

    engine.chat_presence_send(SESSION, to=CONTACT, presence="composing", seconds=30)

    assert sent(route) == {
        "number": "5511987654321",
        "presence": "composing",
        "delay": 30000,
    }
    # Evolution answers once the presence has been shown: the wait covers it.
    assert route.calls.last.request.extensions["timeout"]["read"] > 30


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("whatsapp_numbers", (True, "")),
        ("whatsapp_numbers_absent", (False, "")),
        ("whatsapp_numbers_lid", (True, "123456789012345@lid")),
    ],
)
def test_whether_a_number_has_whatsapp_is_asked_of_whatsapp_numbers(
    evolution, engine, name, expected
):
    route = evolution.post(f"/chat/whatsappNumbers/{REF}").respond(
        200, json=fixture(name)
    )

    assert engine.phone_exists(SESSION, phone=CONTACT) == expected
    assert sent(route) == {"numbers": ["5511987654321"]}
    assert route.calls.last.request.headers["apikey"] == TOKEN


def test_a_message_is_marked_read_by_its_chat_jid(evolution, engine):
    route = evolution.post(f"/chat/markMessageAsRead/{REF}").respond(
        201, json=fixture("mark_read_ok")
    )

    engine.message_read(SESSION, phone=CONTACT, message_id=QUOTED)

    # A bare number would be dropped by Evolution without a word.
    assert sent(route) == {
        "readMessages": [
            {
                "remoteJid": "5511987654321@s.whatsapp.net",
                "fromMe": False,
                "id": QUOTED,
            }
        ]
    }


@pytest.mark.parametrize("method", ["message_read", "message_delete"])
def test_reading_or_deleting_needs_the_chats_number(evolution, engine, method):
    with pytest.raises(EngineError):
        if method == "message_read":
            engine.message_read(SESSION, phone="", message_id=QUOTED)
        else:
            engine.message_delete(SESSION, phone="", message_id=QUOTED, from_me=True)

    assert not evolution.calls


@pytest.mark.parametrize("from_me", [True, False])
def test_a_message_is_deleted_for_everyone(evolution, engine, from_me):
    route = evolution.delete(f"/chat/deleteMessageForEveryone/{REF}").respond(
        201, json=fixture("delete_message_ok")
    )

    engine.message_delete(
        SESSION, phone=CONTACT, message_id="3EB0A1B2C3D4E5F6A7B8C9", from_me=from_me
    )

    assert route.calls.last.request.method == "DELETE"
    assert sent(route) == {
        "id": "3EB0A1B2C3D4E5F6A7B8C9",
        "remoteJid": "5511987654321@s.whatsapp.net",
        "fromMe": from_me,
    }


@pytest.mark.parametrize(
    ("method", "kwargs", "route_name", "body"),
    [
        (
            "profile_name_set",
            {"name": "Loja Teste"},
            "updateProfileName",
            {"name": "Loja Teste"},
        ),
        (
            "profile_about_set",
            {"about": "Atendimento 9h-18h"},
            "updateProfileStatus",
            {"status": "Atendimento 9h-18h"},
        ),
        (
            "profile_picture_set",
            {"image": JPEG, "mime_type": "image/jpeg"},
            "updateProfilePicture",
            {"picture": b64(JPEG)},
        ),
    ],
)
def test_the_profile_is_set_through_the_chat_routes(
    evolution, engine, method, kwargs, route_name, body
):
    route = evolution.post(f"/chat/{route_name}/{REF}").respond(
        200, json=fixture("profile_update_ok")
    )

    getattr(engine, method)(SESSION, **kwargs)

    assert sent(route) == body
    assert route.calls.last.request.headers["apikey"] == TOKEN


def test_an_empty_about_text_is_refused_before_evolution_refuses_it(evolution, engine):
    route = evolution.post(f"/chat/updateProfileStatus/{REF}")

    with pytest.raises(EngineError):
        engine.profile_about_set(SESSION, about="  ")

    assert not route.called


def test_a_profile_update_that_fails_inside_evolution_is_unavailable(evolution, engine):
    evolution.post(f"/chat/updateProfileName/{REF}").respond(
        500, json=fixture("error_500_profile")
    )

    with pytest.raises(EngineUnavailable, match="Error updating profile name"):
        engine.profile_name_set(SESSION, name="Loja")


def test_the_device_is_read_from_fetch_instances_and_fetch_profile(evolution, engine):
    instances = evolution.get("/instance/fetchInstances").respond(
        200, json=fixture("fetch_instances")
    )
    profile = evolution.post(f"/chat/fetchProfile/{REF}").respond(
        200, json=fixture("fetch_profile")
    )

    device = engine.device_get(SESSION)

    assert instances.calls.last.request.url.params["instanceName"] == REF
    assert instances.calls.last.request.headers["apikey"] == TOKEN
    assert sent(profile) == {"number": "5511912345678"}
    assert (device.phone, device.name, device.about, device.is_business) == (
        "+5511912345678",
        "Loja Teste",
        "Atendimento de seg. a sex., 9h às 18h",
        True,
    )
    assert device.picture_url.endswith("plugmessage-test.jpg")


def test_the_device_of_a_session_that_is_not_open_is_an_error(evolution, engine):
    rows = fixture("fetch_instances")
    rows[0]["connectionStatus"] = "close"
    evolution.get("/instance/fetchInstances").respond(200, json=rows)
    profile = evolution.post(f"/chat/fetchProfile/{REF}")

    with pytest.raises(EngineError, match="not open"):
        engine.device_get(SESSION)

    assert not profile.called


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json=fixture("restart_ok")), None),
        (httpx.Response(200, json=fixture("error_200_flag")), EngineError),
        (httpx.Response(404, json=fixture("error_404")), EngineError),
    ],
)
def test_a_restart_is_a_post_to_instance_restart(evolution, engine, response, error):
    route = evolution.post(f"/instance/restart/{REF}").mock(return_value=response)

    if error:
        with pytest.raises(error):
            engine.session_restart(SESSION)
    else:
        engine.session_restart(SESSION)

    assert route.calls.last.request.headers["apikey"] == TOKEN


# Received messages of every kind.

PDF = b"%PDF-1.4\nPLUGMESSAGE-TEST-PDF\n%%EOF"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 PLUGMESSAGE-TEST"
MP4 = b"\x00\x00\x00\x18ftypmp42PLUGMESSAGE-TEST-MP4"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "event_messages_upsert_reply",
            {
                "kind": "text",
                "text": "Pode ser às 15h?",
                "reply_to": "3EB0A1B2C3D4E5F6A7B8C9",
                "content": {},
            },
        ),
        (
            "event_messages_upsert_image",
            {
                "kind": "image",
                "text": "Foto do produto",
                "reply_to": "3EB0A1B2C3D4E5F6A7B8C9",
                "content": {
                    "caption": "Foto do produto",
                    "view_once": False,
                    "width": 960,
                    "height": 1280,
                    "seconds": None,
                },
                "media": {"data": JPEG, "mime_type": "image/jpeg", "file_name": ""},
            },
        ),
        (
            "event_messages_upsert_video",
            {
                "kind": "video",
                "text": "Vídeo da entrega",
                "content": {
                    "caption": "Vídeo da entrega",
                    "view_once": False,
                    "width": 360,
                    "height": 640,
                    "seconds": 12,
                },
                "media": {"data": MP4, "mime_type": "video/mp4", "file_name": ""},
            },
        ),
        (
            "event_messages_upsert_document",
            {
                "kind": "document",
                "text": "Segue o orçamento",
                "content": {
                    "file_name": "orcamento-42.pdf",
                    "title": "Orçamento 42",
                    "page_count": 3,
                },
                "media": {
                    "data": PDF,
                    "mime_type": "application/pdf",
                    "file_name": "orcamento-42.pdf",
                },
            },
        ),
        (
            "event_messages_upsert_sticker",
            {
                "kind": "sticker",
                "content": {"animated": False, "width": 512, "height": 512},
                "media": {"data": WEBP, "mime_type": "image/webp", "file_name": ""},
            },
        ),
        (
            "event_messages_upsert_location",
            {
                "kind": "location",
                "content": {
                    "latitude": -23.5613,
                    "longitude": -46.6565,
                    "name": "Loja Paulista",
                    "address": "Av. Paulista, 1000 - São Paulo",
                    "url": "https://maps.example.test/loja",
                },
            },
        ),
        (
            "event_messages_upsert_contact",
            {
                "kind": "contact",
                "content": {
                    "name": "Maria Souza",
                    "phone": "+5521998765432",
                    "vcard": fixture("event_messages_upsert_contact")["data"][
                        "message"
                    ]["contactMessage"]["vcard"],
                },
            },
        ),
        (
            "event_messages_upsert_reaction",
            {
                "kind": "reaction",
                "content": {
                    "emoji": "👍",
                    "reaction_to": "3EB0A1B2C3D4E5F6A7B8C9",
                    "reaction_to_from_me": True,
                },
            },
        ),
    ],
)
def test_every_received_kind_becomes_a_message_received(engine, name, expected):
    payload = fixture(name)

    (event,) = engine.events_from_webhook(payload)

    assert (event.kind, event.engine_ref) == ("message_received", REF)
    assert event.phone_number == "5511987654321@s.whatsapp.net"
    assert event.extra == {
        "message_id": payload["data"]["key"]["id"],
        "text": "",
        "sender_name": "Cliente Teste",
        "reply_to": "",
        **expected,
    }


def test_a_voice_note_without_its_bytes_is_fetched_from_evolution(evolution, engine):
    route = evolution.post(f"/chat/getBase64FromMediaMessage/{REF}").respond(
        201, json=fixture("media_base64_ok")
    )
    payload = fixture("event_messages_upsert_audio")

    (event,) = engine.events_from_webhook(payload)

    asked = sent(route)
    # The whole message goes back, so Evolution needs no store of its own.
    assert asked["message"]["key"] == payload["data"]["key"]
    assert asked["message"]["message"] == payload["data"]["message"]
    assert asked["convertToMp4"] is False
    assert route.calls.last.request.headers["apikey"] == "chave-global"
    assert event.extra["kind"] == "audio"
    assert event.extra["content"] == {"ptt": True, "seconds": 7}
    assert event.extra["media"] == {
        "data": OGG,
        "mime_type": "audio/ogg; codecs=opus",
        "file_name": "",
    }


def test_media_evolution_cannot_fetch_arrives_without_its_bytes(
    evolution, engine, caplog
):
    evolution.post(f"/chat/getBase64FromMediaMessage/{REF}").respond(
        400, json=fixture("error_400_media_not_found")
    )

    with caplog.at_level(logging.WARNING, logger="instances.engines.evolution"):
        (event,) = engine.events_from_webhook(fixture("event_messages_upsert_audio"))

    assert event.extra["kind"] == "audio"
    assert "media" not in event.extra
    assert "not fetched" in caplog.text


def test_media_is_asked_for_again_when_evolution_is_down(evolution, engine):
    evolution.post(f"/chat/getBase64FromMediaMessage/{REF}").respond(502)

    # The events endpoint then fails, and Evolution posts the event again.
    with pytest.raises(EngineUnavailable):
        engine.events_from_webhook(fixture("event_messages_upsert_audio"))


@pytest.mark.parametrize(
    "wrapper", ["viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension"]
)
def test_a_view_once_image_says_so(engine, wrapper):
    payload = fixture("event_messages_upsert_image")
    message = payload["data"]["message"]
    image = message.pop("imageMessage")
    message[wrapper] = {"message": {"imageMessage": image}}
    payload["data"]["messageType"] = wrapper

    (event,) = engine.events_from_webhook(payload)

    assert event.extra["kind"] == "image"
    assert event.extra["content"]["view_once"] is True
    assert event.extra["media"]["data"] == JPEG


def test_a_message_of_a_type_not_handled_is_skipped_with_a_log_line(engine, caplog):
    payload = fixture("event_messages_upsert")
    payload["data"]["message"] = {"pollCreationMessageV3": {"name": "Qual horário?"}}
    payload["data"]["messageType"] = "pollCreationMessageV3"

    with caplog.at_level(logging.INFO, logger="instances.engines.evolution"):
        assert engine.events_from_webhook(payload) == []

    assert "pollCreationMessageV3" in caplog.text


def test_the_instance_is_created_with_media_in_its_events(evolution, engine):
    create = evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").respond(200, json=fixture("connect_qr"))

    engine.session_start(EngineSession(REF))

    assert sent(create)["webhook"]["base64"] is True


# What Evolution 2.3.x gets wrong, one test each.


def test_logout_waits_until_evolution_has_closed_the_session(evolution, engine, pauses):
    evolution.delete(f"/instance/logout/{REF}").respond(200, json=fixture("logout_ok"))
    state = evolution.get(f"/instance/connectionState/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("state_open")),
            httpx.Response(200, json=fixture("state_open")),
            httpx.Response(200, json=fixture("state_close")),
        ]
    )

    engine.session_logout(SESSION)

    assert state.call_count == 3
    assert pauses == [evolution_module.LOGOUT_WAIT_PAUSE] * 2


def test_a_new_session_starts_only_once_the_old_one_is_closed(evolution, engine):
    evolution.get(f"/instance/connect/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("connect_open")),
            httpx.Response(200, json=fixture("connect_qr")),
        ]
    )
    evolution.delete(f"/instance/logout/{REF}").respond(200, json=fixture("logout_ok"))
    evolution.get(f"/instance/connectionState/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("state_open")),
            httpx.Response(200, json=fixture("state_close")),
        ]
    )

    started = engine.session_start(SESSION)

    assert started.qr_code
    assert [c.request.url.path.split("/")[2] for c in evolution.calls] == [
        "connect",
        "logout",
        "connectionState",
        "connectionState",
        "connect",
    ]


def test_a_session_that_will_not_close_is_unavailable_not_reconnected(
    evolution, engine, pauses
):
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_open")
    )
    evolution.delete(f"/instance/logout/{REF}").respond(200, json=fixture("logout_ok"))
    state = evolution.get(f"/instance/connectionState/{REF}").respond(
        200, json=fixture("state_open")
    )

    with pytest.raises(EngineUnavailable):
        engine.session_start(SESSION)

    assert connect.call_count == 1
    assert state.call_count == evolution_module.LOGOUT_WAIT_POLLS


def test_an_empty_pairing_code_is_asked_for_again(evolution, engine, pauses):
    connect = evolution.get(f"/instance/connect/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("connect_count_zero")),
            httpx.Response(200, json=fixture("connect_count_zero")),
            httpx.Response(200, json=fixture("connect_pairing")),
        ]
    )

    started = engine.session_start(SESSION, phone_number="5511987654321")

    assert started.pairing_code == "K7PX2QMD"
    assert connect.call_count == 3
    assert all(c.request.url.params["number"] == "5511987654321" for c in connect.calls)
    assert pauses == [evolution_module.PAIRING_CODE_PAUSE] * 2


def test_a_pairing_code_that_never_comes_is_an_error_saying_so(evolution, engine):
    connect = evolution.get(f"/instance/connect/{REF}").respond(
        200, json=fixture("connect_count_zero")
    )

    with pytest.raises(EngineError, match="no pairing code"):
        engine.session_start(SESSION, phone_number="5511987654321")

    assert connect.call_count == evolution_module.PAIRING_CODE_TRIES


def test_a_qr_session_without_the_number_is_closed_to_get_a_pairing_code(
    evolution, engine
):
    evolution.get(f"/instance/connect/{REF}").mock(
        side_effect=[
            httpx.Response(200, json=fixture("connect_qr")),
            httpx.Response(200, json=fixture("connect_pairing")),
        ]
    )
    evolution.delete(f"/instance/logout/{REF}").respond(200, json=fixture("logout_ok"))
    evolution.get(f"/instance/connectionState/{REF}").respond(
        200, json=fixture("state_close")
    )

    started = engine.session_start(SESSION, phone_number="5511987654321")

    assert started.pairing_code == "K7PX2QMD"
    assert [(c.request.method, c.request.url.path) for c in evolution.calls] == [
        ("GET", f"/instance/connect/{REF}"),
        ("DELETE", f"/instance/logout/{REF}"),
        ("GET", f"/instance/connectionState/{REF}"),
        ("GET", f"/instance/connect/{REF}"),
    ]


def test_the_qr_limit_announced_twice_gives_up_once(engine):
    events = engine.events_from_webhook(
        fixture("event_qrcode_limit")
    ) + engine.events_from_webhook(fixture("event_connection_refused"))

    assert [e.kind for e in events] == ["qr_gave_up"]


@pytest.mark.parametrize("code", [401, 402, 403, 406])
def test_every_close_evolution_sends_carries_its_reason(engine, code):
    payload = fixture("event_connection_close")
    payload["data"]["statusReason"] = code

    (event,) = engine.events_from_webhook(payload)

    assert event.kind == "disconnected"
    assert event.reason == CLOSE_REASONS[code] != ""


def test_a_close_reason_evolution_never_sends_is_not_expected():
    # 440 (replaced) is reconnected by Evolution without any close event.
    assert set(CLOSE_REASONS) == {401, 402, 403, 406}


def test_a_logout_and_its_close_make_one_disconnection_with_the_reason(engine):
    events = engine.events_from_webhook(
        fixture("event_logout_instance")
    ) + engine.events_from_webhook(fixture("event_connection_close"))

    assert [(e.kind, e.reason) for e in events] == [
        ("disconnected", CLOSE_REASONS[401])
    ]


def test_status_updates_of_received_messages_are_not_receipts(engine):
    assert engine.events_from_webhook(fixture("event_messages_update_inbound")) == []


def test_a_receipt_in_a_lid_chat_keeps_its_id_and_no_number(engine, caplog):
    with caplog.at_level(logging.INFO, logger="instances.engines.evolution"):
        (event,) = engine.events_from_webhook(fixture("event_messages_update_lid"))

    assert (event.kind, event.phone_number) == ("message_status", "")
    assert event.extra == {"message_id": "3EB0A1B2C3D4E5F6A7B8C9", "status": "read"}
    assert "without a phone number" in caplog.text


def test_a_lid_sender_without_its_phone_is_skipped_with_a_log_line(engine, caplog):
    payload = fixture("event_messages_upsert_lid")
    del payload["data"]["key"]["remoteJidAlt"]

    with caplog.at_level(logging.INFO, logger="instances.engines.evolution"):
        assert engine.events_from_webhook(payload) == []

    assert "no phone for its LID" in caplog.text
    assert "123456789012345" not in caplog.text


def test_a_lid_sender_is_found_by_the_older_sender_pn(engine):
    payload = fixture("event_messages_upsert_lid")
    key = payload["data"]["key"]
    key["senderPn"] = key.pop("remoteJidAlt")

    (event,) = engine.events_from_webhook(payload)

    assert event.phone_number == "5511987654321@s.whatsapp.net"


def test_a_presence_from_a_lid_without_its_phone_is_skipped_with_a_log_line(
    engine, caplog
):
    with caplog.at_level(logging.INFO, logger="instances.engines.evolution"):
        assert engine.events_from_webhook(fixture("event_presence_update_lid")) == []

    assert "presence from a LID" in caplog.text


@pytest.mark.django_db
def test_a_receipt_in_a_lid_chat_still_reaches_our_message(
    client, owner_client, evolution, evolution_instance
):
    from instances.models import Message, MessageStatus

    evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").respond(200, json=fixture("connect_qr"))
    owner_client.post(reverse("instances:connect", args=[evolution_instance.pk]))
    _post_event(client, "event_connection_open")
    ours = Message.objects.create(
        instance=evolution_instance,
        to="+5511987654321",
        text="Seu pedido saiu",
        status=MessageStatus.SENT,
        engine_message_id="3EB0A1B2C3D4E5F6A7B8C9",
    )

    assert _post_event(client, "event_messages_update_lid").status_code == 200

    ours.refresh_from_db()
    assert ours.status == MessageStatus.READ


def test_send_message_is_not_subscribed_and_is_ignored_when_it_comes(evolution, engine):
    create = evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").respond(200, json=fixture("connect_qr"))

    engine.session_start(EngineSession(REF))

    assert "SEND_MESSAGE" not in sent(create)["webhook"]["events"]
    assert engine.events_from_webhook(fixture("event_send_message")) == []


def test_a_message_sent_from_the_phone_is_reported_sent(engine):
    (event,) = engine.events_from_webhook(fixture("event_messages_upsert_from_me"))

    assert (event.kind, event.phone_number) == (
        "message_status",
        "5511987654321@s.whatsapp.net",
    )
    assert event.extra == {"message_id": "3EB0FEDCBA9876543210AB", "status": "sent"}


# Through PlugMessage: the reply's author reaches the reaction.


@pytest.mark.django_db
def test_a_reaction_to_one_of_our_messages_tells_evolution_it_is_ours(
    client, owner_client, evolution, evolution_instance
):
    from instances.models import Message, MessageKind, MessageStatus

    evolution.post("/instance/create").respond(201, json=fixture("create_ok"))
    evolution.get(f"/instance/connect/{REF}").respond(200, json=fixture("connect_qr"))
    owner_client.post(reverse("instances:connect", args=[evolution_instance.pk]))
    _post_event(client, "event_connection_open")
    evolution_instance.refresh_from_db()
    ours = Message.objects.create(
        instance=evolution_instance,
        to=CONTACT,
        text="Seu pedido saiu",
        status=MessageStatus.SENT,
        engine_message_id="3EB0A1B2C3D4E5F6A7B8C9",
    )
    reactions = [
        Message.objects.create(
            instance=evolution_instance,
            to=CONTACT,
            kind=MessageKind.REACTION,
            content={"emoji": "👍"},
            reply_to=reply_to,
        )
        for reply_to in (ours.message_id, QUOTED)
    ]
    route = evolution.post(f"/message/sendReaction/{REF}").respond(
        201, json=fixture("send_reaction_ok")
    )

    keys = []
    for reaction in reactions:
        messaging.message_send(message_id=reaction.pk)
        keys.append(sent(route)["key"])

    assert keys == [
        {
            "remoteJid": "5511987654321@s.whatsapp.net",
            "fromMe": True,
            "id": "3EB0A1B2C3D4E5F6A7B8C9",
        },
        {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": False, "id": QUOTED},
    ]
