"""Messages of every kind a contact sends to the instance's number: stored
once with their content and media, announced by the message.received webhook,
their files reachable by a signed link that expires."""

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from instances import media, services
from instances.engines.base import EngineEvent
from instances.models import (
    ExclusionEntry,
    MediaFile,
    Message,
    MessageKind,
    ReceivedMessage,
)
from tests import samples
from tests.helpers import at_the_same_moment
from webhooks.models import EventKind, WebhookEvent
from webhooks.services import webhook_endpoints_save

pytestmark = pytest.mark.django_db
CONTACT = "5521998765432"
SITE = "https://painel.plugmessage.test"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def hooked(connected):
    webhook_endpoints_save(
        instance=connected,
        values={EventKind.MESSAGE_RECEIVED.value: ("https://cliente.test/h", True)},
    )
    return connected


def _receive(instance, message_id="WAID1", **extra):
    services.engine_events_apply(
        [
            EngineEvent(
                "message_received",
                instance.engine_ref,
                phone_number=f"{CONTACT}@s.whatsapp.net",
                extra={"message_id": message_id, **extra},
            )
        ]
    )


def _announced() -> list[dict]:
    return [
        event.payload["data"]
        for event in WebhookEvent.objects.filter(
            kind=EventKind.MESSAGE_RECEIVED
        ).order_by("created_at")
    ]


def _path(url: str) -> str:
    assert url.startswith(SITE + "/midia/")
    return url.removeprefix(SITE)


# Every kind.


def test_an_image_is_stored_with_its_file_and_announced_with_every_key(hooked, client):
    picture = samples.png(24, 16)
    sent_at = datetime(2026, 3, 2, 15, 4, 5, tzinfo=UTC)
    _receive(
        hooked,
        "3A0IMAGEM",
        kind="image",
        text="Olha a foto",
        sender_name="Maria Cliente",
        reply_to="3EB0QUOTED",
        timestamp=int(sent_at.timestamp() * 1000),
        content={"width": 24, "height": 16, "view_once": False, "ignored": "x"},
        media={"data": picture, "mime_type": "image/png", "file_name": ""},
    )

    received = ReceivedMessage.objects.get()
    assert (received.phone, received.kind, received.text, received.sender_name) == (
        "+5521998765432",
        "image",
        "Olha a foto",
        "Maria Cliente",
    )
    assert received.received_at == sent_at
    assert media.media_read(received.media) == picture
    assert received.media.mime_type == "image/png"
    (data,) = _announced()
    link = data.pop("media")
    assert data == {
        "message_id": "3A0IMAGEM",
        "from": "+5521998765432",
        "text": "Olha a foto",
        "kind": "image",
        "from_me": False,
        "sender_name": "Maria Cliente",
        "timestamp": "2026-03-02T15:04:05+00:00",
        "reply_to": "3EB0QUOTED",
        "content": {
            "caption": "Olha a foto",
            "view_once": False,
            "width": 24,
            "height": 16,
        },
    }
    assert {k: link[k] for k in ("mime_type", "file_name", "size")} == {
        "mime_type": "image/png",
        "file_name": "imagem.png",
        "size": len(picture),
    }
    assert client.get(_path(link["url"])).getvalue() == picture


KINDS = [
    pytest.param(
        {
            "kind": "audio",
            "content": {"ptt": True, "seconds": "7"},
            "media": {"data": samples.OGG, "mime_type": "audio/ogg; codecs=opus"},
        },
        {"ptt": True, "seconds": 7},
        ("audio/ogg", "audio.ogg"),
        id="voice note",
    ),
    pytest.param(
        {
            "kind": "audio",
            "content": {},
            "media": {"data": samples.OGG, "file_name": "musica.ogg"},
        },
        {"ptt": False, "seconds": 0},
        ("audio/ogg", "musica.ogg"),
        id="audio file",
    ),
    pytest.param(
        {
            "kind": "video",
            "text": "Chegou",
            "content": {"seconds": 12, "view_once": True},
            "media": {"data": samples.MP4, "mime_type": "video/mp4"},
        },
        {"caption": "Chegou", "view_once": True, "seconds": 12},
        ("video/mp4", "video.mp4"),
        id="video",
    ),
    pytest.param(
        {
            "kind": "document",
            "content": {"title": "Pedido 123", "page_count": 2},
            "media": {
                "data": samples.PDF,
                "mime_type": "application/pdf",
                "file_name": "pedido.pdf",
            },
        },
        {"file_name": "pedido.pdf", "title": "Pedido 123", "page_count": 2},
        ("application/pdf", "pedido.pdf"),
        id="document",
    ),
    pytest.param(
        {
            "kind": "sticker",
            "media": {"data": samples.webp(), "mime_type": "image/webp"},
        },
        {},
        ("image/webp", "figurinha.webp"),
        id="sticker",
    ),
    pytest.param(
        {
            "kind": "location",
            "content": {
                "latitude": "-23.5505",
                "longitude": -46.6333,
                "name": "Praça da Sé",
                "address": "São Paulo, SP",
                "url": "",
            },
        },
        {
            "latitude": -23.5505,
            "longitude": -46.6333,
            "name": "Praça da Sé",
            "address": "São Paulo, SP",
        },
        None,
        id="location",
    ),
    pytest.param(
        {
            "kind": "contact",
            "content": {"name": "João Silva", "phone": "11912345678"},
        },
        {
            "name": "João Silva",
            "phone": "+5511912345678",
            "vcard": "BEGIN:VCARD\nVERSION:3.0\nN:;João Silva;;;\nFN:João Silva\n"
            "TEL;type=CELL;waid=5511912345678:+55 11 91234-5678\nEND:VCARD",
        },
        None,
        id="contact",
    ),
    pytest.param(
        {
            "kind": "reaction",
            "content": {"emoji": "❤️", "reaction_to": "3A0DELES"},
        },
        {"emoji": "❤️", "reaction_to": "3A0DELES", "reaction_to_from_me": False},
        None,
        id="reaction",
    ),
]


@pytest.mark.parametrize(("extra", "content", "file"), KINDS)
def test_each_kind_is_stored_and_announced_with_its_content(
    hooked, client, extra, content, file
):
    _receive(hooked, "3A0KIND", sender_name="Cliente", **extra)

    received = ReceivedMessage.objects.get()
    assert (received.kind, received.content) == (extra["kind"], content)
    (data,) = _announced()
    assert (data["kind"], data["content"], data["from_me"]) == (
        extra["kind"],
        content,
        False,
    )
    assert data["message_id"] == "3A0KIND"
    assert data["sender_name"] == "Cliente"
    if file is None:
        assert received.media is None
        assert "media" not in data
        return
    mime, name = file
    assert (data["media"]["mime_type"], data["media"]["file_name"]) == (mime, name)
    assert data["media"]["size"] == len(extra["media"]["data"])
    response = client.get(_path(data["media"]["url"]))
    assert response.getvalue() == extra["media"]["data"]
    assert response["Content-Type"] == mime


def test_a_reaction_to_a_message_sent_through_the_api_names_it_as_the_api_does(
    hooked,
):
    sent = Message.objects.create(
        instance=hooked, to="+5521998765432", text="Oi", engine_message_id="ENGINE9"
    )
    _receive(
        hooked,
        kind="reaction",
        content={"emoji": "👍", "reaction_to": "ENGINE9"},
        reply_to="ENGINE9",
    )

    (data,) = _announced()
    assert data["content"] == {
        "emoji": "👍",
        "reaction_to": sent.message_id,
        "reaction_to_from_me": True,
    }
    assert data["reply_to"] == sent.message_id


def test_a_repeated_event_stores_and_announces_nothing(hooked):
    image = {"data": samples.png(), "mime_type": "image/png"}
    _receive(hooked, "3A0TWICE", kind="image", media=image)
    _receive(hooked, "3A0TWICE", kind="image", media=image)
    _receive(hooked, "3A0TWICE", text="SAIR")

    assert ReceivedMessage.objects.count() == 1
    assert MediaFile.objects.count() == 1
    assert len(_announced()) == 1
    assert not ExclusionEntry.objects.exists()


def test_the_same_id_on_another_instance_is_another_message(hooked, owner, connect):
    second = connect(
        services.instance_connect(
            instance=services.instance_create(owner=owner, name="Outra"),
            actor_kind="customer",
        ),
        "5511955554444",
    )
    _receive(hooked, "3A0SAME", text="um")
    _receive(second, "3A0SAME", text="dois")

    assert sorted(ReceivedMessage.objects.values_list("text", flat=True)) == [
        "dois",
        "um",
    ]


def test_text_keeps_working_and_an_opt_out_word_still_opts_out(hooked):
    _receive(hooked, "3A0TEXT", text="SAIR")

    (data,) = _announced()
    assert (data["text"], data["kind"], data["opted_out"], data["content"]) == (
        "SAIR",
        "text",
        True,
        {},
    )
    assert "media" not in data and "reply_to" not in data
    assert ExclusionEntry.objects.get().phone == "+5521998765432"
    assert ReceivedMessage.objects.get().text == "SAIR"


def test_a_caption_that_is_an_opt_out_word_does_not_opt_out(hooked):
    _receive(
        hooked,
        kind="image",
        text="SAIR",
        media={"data": samples.png(), "mime_type": "image/png"},
    )

    (data,) = _announced()
    assert "opted_out" not in data
    assert not ExclusionEntry.objects.exists()


def test_a_file_that_is_not_what_it_claims_is_recorded_with_download_error(
    hooked,
):
    _receive(
        hooked,
        "3A0FAKE",
        kind="image",
        text="foto",
        media={"data": samples.PDF, "mime_type": "image/jpeg", "file_name": "a.jpg"},
    )

    received = ReceivedMessage.objects.get()
    assert received.media is None
    assert "não é um arquivo de imagem" in received.content["download_error"]
    assert not MediaFile.objects.exists()
    (data,) = _announced()
    assert "media" not in data
    assert data["content"]["download_error"] == received.content["download_error"]
    assert data["content"]["caption"] == "foto"


def test_a_document_whose_name_contradicts_its_content_is_not_kept(hooked):
    _receive(
        hooked,
        kind="document",
        media={"data": samples.png(), "file_name": "contrato.pdf"},
    )

    received = ReceivedMessage.objects.get()
    assert received.media is None
    assert received.content["file_name"] == "contrato.pdf"
    assert ".pdf" in received.content["download_error"]


def test_a_media_message_the_engine_gave_no_file_for_says_so(hooked):
    _receive(hooked, kind="audio", content={"ptt": True})

    received = ReceivedMessage.objects.get()
    assert received.media is None
    assert received.content["download_error"]
    assert received.content["ptt"] is True


def test_an_unknown_kind_is_kept_as_text(hooked):
    _receive(hooked, kind="poll", text="Qual dia?")

    assert ReceivedMessage.objects.get().kind == MessageKind.TEXT
    assert _announced()[0]["text"] == "Qual dia?"


def test_a_message_is_stored_even_without_a_webhook_listening(connected):
    _receive(connected, "3A0QUIET", text="Oi")

    assert ReceivedMessage.objects.get().message_id == "3A0QUIET"
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_message_at_once_store_and_announce_it_once(
    owner, connect
):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (make test with DATABASE_URL)")
    instance = connect(
        services.instance_connect(
            instance=services.instance_create(owner=owner, name="Concorrida"),
            actor_kind="customer",
        )
    )
    webhook_endpoints_save(
        instance=instance,
        values={EventKind.MESSAGE_RECEIVED.value: ("https://cliente.test/h", True)},
    )
    event = EngineEvent(
        "message_received",
        instance.engine_ref,
        phone_number=CONTACT,
        extra={
            "message_id": "3A0RACE",
            "kind": "image",
            "media": {"data": samples.png(), "mime_type": "image/png"},
        },
    )

    _results, errors = at_the_same_moment(
        [partial(services.engine_events_apply, [event]) for _ in range(4)]
    )

    assert errors == []
    assert ReceivedMessage.objects.count() == 1
    assert MediaFile.objects.count() == 1
    assert WebhookEvent.objects.filter(kind=EventKind.MESSAGE_RECEIVED).count() == 1


# The download link.


@pytest.fixture
def stored(connected):
    return media.media_store(
        instance=connected,
        media=media.CheckedMedia(
            data=samples.png(), mime_type="image/png", file_name="foto da loja.png"
        ),
    )


@pytest.fixture
def document(connected):
    return media.media_store(
        instance=connected,
        media=media.CheckedMedia(
            data=samples.PDF, mime_type="application/pdf", file_name="Orçamento.pdf"
        ),
    )


def test_the_link_serves_the_bytes_inline_to_anyone(client, stored):
    url = media.media_link(stored, kind="image")
    assert url.startswith(SITE + "/midia/") and url.endswith("/foto%20da%20loja.png")

    response = client.get(_path(url))

    assert response.status_code == 200
    assert response.getvalue() == samples.png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="foto da loja.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


def test_a_document_link_downloads_it_as_an_attachment_with_its_name(client, document):
    response = client.get(media.media_link_path(document, kind="document"))

    assert response.getvalue() == samples.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Or%C3%A7amento.pdf"
    )


def test_a_document_of_a_type_browsers_run_is_never_shown_inline(client, connected):
    page = media.media_store(
        instance=connected,
        media=media.CheckedMedia(
            data=b"<script>alert(1)</script>",
            mime_type="text/html",
            file_name="x.html",
        ),
    )
    # Even a link made without the kind: only plain media types show inline.
    response = client.get(media.media_link_path(page))

    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"


def test_the_link_expires_after_its_lifetime_with_410(client, stored, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        path = media.media_link_path(stored, kind="image")
        clock.move_to(start + timedelta(seconds=settings.MEDIA_LINK_SECONDS - 1))
        assert client.get(path).status_code == 200
        clock.move_to(start + timedelta(seconds=settings.MEDIA_LINK_SECONDS))
        response = client.get(path)

    assert response.status_code == 410
    assert "Este link expirou" in response.content.decode()
    assert samples.png() not in response.content


def test_a_tampered_or_unknown_link_is_404(client, stored, document):
    path = media.media_link_path(stored, kind="image")
    signed = path.split("/")[2]
    other = media.media_link_path(document, kind="document").split("/")[2]
    signature = signed.split(":", 1)[1]
    other_payload = other.split(":", 1)[0]

    assert (
        client.get(path.replace(signed, f"{other_payload}:{signature}")).status_code
        == 404
    )
    assert client.get(path.replace(signed, signed[:-2] + "xx")).status_code == 404
    assert client.get("/midia/nada/foto.png").status_code == 404
    stored.delete()
    assert client.get(path).status_code == 404


def test_the_link_is_read_only(client, stored):
    path = media.media_link_path(stored, kind="image")
    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200
