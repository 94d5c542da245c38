"""The simulated phone's conversation: the owner plays the instance's
contacts, sees what the instance sent and sends every kind back."""

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HTMX_STOP_POLLING

from instances import messaging, services
from instances.engines import engine_get
from instances.messaging import Draft
from instances.models import MessageKind, ReceivedMessage, SimulatedMessage
from tests import samples
from webhooks.models import EventKind, WebhookEvent
from webhooks.services import DRAIN_TASK, webhook_endpoints_save

pytestmark = pytest.mark.django_db
CONTACT = "+5521998765432"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _page_url(instance):
    return reverse("instances:simulator_phone", args=[instance.pk])


def _send_url(instance, kind):
    return reverse("instances:simulator_phone_send", args=[instance.pk, kind])


@pytest.fixture
def hooked(connected):
    webhook_endpoints_save(
        instance=connected,
        values={EventKind.MESSAGE_RECEIVED.value: ("https://cliente.test/h", True)},
    )
    return connected


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task",
        lambda name, args=(), **kwargs: sent.append(name),
    )
    return sent


def _data_uri(mime, data):
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _sent_through_the_api(instance, draft, to=CONTACT):
    message = messaging.message_accept(instance=instance, phone=to, draft=draft)
    messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent", message.error
    return message


# Who may open it.


def test_the_instance_page_offers_the_phone_only_while_connected(
    owner_client, instance, connect
):
    detail = reverse("instances:detail", args=[instance.pk])
    assert _page_url(instance) not in owner_client.get(detail).content.decode()

    connect(instance)
    page = owner_client.get(detail).content.decode()

    assert f'href="{_page_url(instance)}"' in page
    assert "Abrir o celular simulado" in page


def test_the_conversation_is_the_owners_alone(client, owner_client, connected, other):
    page = owner_client.get(_page_url(connected))
    assert page.status_code == 200
    assert "Celular simulado" in page.content.decode()

    client.force_login(other)
    assert client.get(_page_url(connected)).status_code == 404
    assert (
        client.post(_send_url(connected, "text"), {"text-text": "oi"}).status_code
        == 404
    )
    assert not SimulatedMessage.objects.exists()

    client.logout()
    for response in (
        client.get(_page_url(connected)),
        client.post(_send_url(connected, "text"), {"text-text": "oi"}),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not ReceivedMessage.objects.exists()


def test_sending_is_post_only_and_of_a_known_kind(owner_client, connected):
    assert owner_client.get(_send_url(connected, "text")).status_code == 405
    assert owner_client.post(_send_url(connected, "poll"), {}).status_code == 404


def test_the_phone_is_not_routed_for_another_engine(owner_client, connected, settings):
    settings.WHATSAPP_ENGINE = "tests.instances.test_simulator.OtherEngine"
    assert owner_client.get(_page_url(connected)).status_code == 404


def test_the_page_says_which_numbers_the_simulator_treats_as_absent(
    owner_client, connected, settings
):
    settings.SIMULATOR_ABSENT_NUMBERS = ["5511900000000", "5521900000001"]
    page = owner_client.get(_page_url(connected)).content.decode()
    assert (
        "Números que o simulador trata como sem WhatsApp: "
        "+55 11 90000-0000, +55 21 90000-0001"
    ) in page


# What the instance sent.


def test_what_the_instance_sent_through_the_api_appears_in_the_conversation(
    owner_client, client, connected
):
    picture = samples.png(40, 30)
    _sent_through_the_api(connected, Draft(text="Olá! Seu pedido saiu."))
    _sent_through_the_api(
        connected,
        Draft(
            kind=MessageKind.IMAGE,
            text="A nota",
            media=_data_uri("image/png", picture),
        ),
    )
    _sent_through_the_api(
        connected,
        Draft(
            kind=MessageKind.DOCUMENT,
            media=_data_uri("application/pdf", samples.PDF),
            file_name="orcamento",
            extension="pdf",
            content={"file_name": "orcamento", "extension": "pdf"},
        ),
    )
    _sent_through_the_api(
        connected,
        Draft(
            kind=MessageKind.AUDIO,
            media=_data_uri("audio/ogg", samples.OGG),
            content={"ptt": True},
        ),
    )
    _sent_through_the_api(
        connected,
        Draft(
            kind=MessageKind.LOCATION,
            content={
                "latitude": -23.5505,
                "longitude": -46.6333,
                "title": "Loja Sé",
                "address": "Praça da Sé, São Paulo",
            },
        ),
    )
    _sent_through_the_api(
        connected,
        Draft(
            kind=MessageKind.CONTACT,
            content={"name": "Suporte", "phone": "+5511912340000"},
        ),
    )
    _sent_through_the_api(connected, Draft(text="Só para o outro"), to="+5531987654321")

    page = owner_client.get(_page_url(connected), {"contato": CONTACT}).content.decode()

    assert "Olá! Seu pedido saiu." in page
    assert "Só para o outro" not in page
    image = re.search(
        r'<img class="msg-image" src="([^"]+)"\s+alt="Imagem enviada pela instância"',
        page,
    )
    assert image, "no <img> of the image sent"
    assert client.get(image.group(1)).getvalue() == picture
    document = re.search(
        r'<a class="msg-doc" href="([^"]+)"><span class="doc-icon" aria-hidden="true">'
        r"PDF</span> orcamento\.pdf</a>",
        page,
    )
    assert document, "no link to the document sent"
    download = client.get(document.group(1))
    assert download.getvalue() == samples.PDF
    assert download["Content-Disposition"].startswith("attachment;")
    audio = re.search(r'<audio controls preload="metadata" src="([^"]+)"', page)
    assert audio, "no <audio> player"
    assert client.get(audio.group(1))["Content-Type"] == "audio/ogg"
    assert "Mensagem de voz" in page
    assert (
        "https://www.openstreetmap.org/?mlat=-23.5505&amp;mlon=-46.6333"
        "#map=17/-23.5505/-46.6333"
    ) in page
    assert "Loja Sé" in page and "+55 11 91234-0000" in page
    assert page.count(">enviada</span>") == 6


def test_each_message_shows_its_status_as_the_receipts_come(owner_client, connected):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _sent_through_the_api(connected, Draft(text="Chegou?"))

        def status():
            page = owner_client.get(
                _page_url(connected), {"contato": CONTACT}
            ).content.decode()
            return re.search(r'<span class="msg-status">(\w+)</span>', page).group(1)

        assert status() == "enviada"
        clock.move_to(start + timedelta(seconds=1))
        services.engine_tick()
        assert status() == "entregue"
        clock.move_to(start + timedelta(seconds=3))
        services.engine_tick()
        assert status() == "lida"


# Sending back.


SENDS = [
    pytest.param(
        "text",
        {"text-text": "Quero saber do pedido"},
        {},
        id="text",
    ),
    pytest.param(
        "image",
        {
            "image-file": SimpleUploadedFile("foto.png", samples.png(), "image/png"),
            "image-caption": "Veja",
        },
        {"caption": "Veja"},
        id="image",
    ),
    pytest.param(
        "audio",
        {
            "audio-file": SimpleUploadedFile("voz.ogg", samples.OGG, "audio/ogg"),
            "audio-ptt": "on",
        },
        {"ptt": True, "seconds": 0},
        id="audio",
    ),
    pytest.param(
        "video",
        {"video-file": SimpleUploadedFile("clipe.mp4", samples.MP4, "video/mp4")},
        {},
        id="video",
    ),
    pytest.param(
        "document",
        {
            "document-file": SimpleUploadedFile(
                "pedido.pdf", samples.PDF, "application/pdf"
            )
        },
        {"file_name": "pedido.pdf"},
        id="document",
    ),
    pytest.param(
        "sticker",
        {"sticker-file": SimpleUploadedFile("fig.webp", samples.webp(), "image/webp")},
        {},
        id="sticker",
    ),
    pytest.param(
        "location",
        {
            "location-latitude": "-22.9519",
            "location-longitude": "-43.2105",
            "location-name": "Cristo Redentor",
            "location-address": "",
        },
        {"latitude": -22.9519, "longitude": -43.2105, "name": "Cristo Redentor"},
        id="location",
    ),
    pytest.param(
        "contact",
        {"contact-name": "Bia", "contact-phone": "(11) 91234-5678"},
        {
            "name": "Bia",
            "phone": "+5511912345678",
            "vcard": "BEGIN:VCARD\nVERSION:3.0\nN:;Bia;;;\nFN:Bia\n"
            "TEL;type=CELL;waid=5511912345678:+5511912345678\nEND:VCARD",
        },
        id="contact",
    ),
]


@pytest.mark.parametrize(("kind", "fields", "content"), SENDS)
def test_each_kind_sent_from_the_phone_reaches_the_instance_and_its_webhook(
    owner_client,
    hooked,
    sent_tasks,
    django_capture_on_commit_callbacks,
    kind,
    fields,
    content,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _send_url(hooked, kind),
            {
                f"{kind}-contact": CONTACT,
                f"{kind}-sender_name": "Bia Cliente",
                **fields,
            },
        )

    assert response.status_code == 302
    assert (
        response.url == f"{_page_url(hooked)}?contato=%2B5521998765432&nome=Bia+Cliente"
    )
    received = ReceivedMessage.objects.get()
    assert (received.phone, received.kind, received.sender_name) == (
        CONTACT,
        kind,
        "Bia Cliente",
    )
    assert received.content == content
    (event,) = WebhookEvent.objects.filter(kind=EventKind.MESSAGE_RECEIVED)
    data = event.payload["data"]
    assert (data["message_id"], data["from"], data["kind"]) == (
        received.message_id,
        CONTACT,
        kind,
    )
    assert data["content"] == content
    assert ("media" in data) == (received.media is not None)
    assert DRAIN_TASK in sent_tasks  # the delivery was queued after commit
    shown = SimulatedMessage.objects.get(inbound=True)
    assert (shown.message_id, shown.to, shown.media_id) == (
        received.message_id,
        CONTACT,
        received.media_id,
    )
    page = owner_client.get(response.url).content.decode()
    assert "Mensagem enviada à instância." in page
    assert 'class="msg msg-contact"' in page


def test_a_received_image_appears_in_the_conversation(owner_client, client, hooked):
    picture = samples.png(30, 30)
    response = owner_client.post(
        _send_url(hooked, "image"),
        {
            "image-contact": CONTACT,
            "image-file": SimpleUploadedFile("foto.png", picture, "image/png"),
        },
        follow=True,
    )

    page = response.content.decode()
    image = re.search(
        r'<img class="msg-image" src="([^"]+)"\s+alt="Imagem que você enviou"', page
    )
    assert image
    assert client.get(image.group(1)).getvalue() == picture


def test_a_reaction_shows_on_the_message_it_answers_and_reaches_the_webhook(
    owner_client, hooked
):
    sent = _sent_through_the_api(hooked, Draft(text="Gostou?"))

    owner_client.post(
        _send_url(hooked, "reaction"),
        {
            "reaction-contact": CONTACT,
            "reaction-message_id": sent.message_id,
            "reaction-emoji": "❤️",
        },
    )

    data = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload["data"]
    assert data["content"] == {
        "emoji": "❤️",
        "reaction_to": sent.message_id,
        "reaction_to_from_me": True,
    }
    page = owner_client.get(_page_url(hooked), {"contato": CONTACT}).content.decode()
    bubble = re.search(r'<li class="msg msg-instance">(.*?)</li>', page, re.S).group(1)
    assert "Gostou?" in bubble and "❤️" in bubble
    assert page.count('<li class="msg ') == 1  # the reaction is no bubble of its own


def test_a_reaction_can_only_answer_a_message_of_this_conversation(
    owner_client, hooked
):
    elsewhere = _sent_through_the_api(hooked, Draft(text="Oi"), to="+5531987654321")

    response = owner_client.post(
        _send_url(hooked, "reaction"),
        {
            "reaction-contact": CONTACT,
            "reaction-message_id": elsewhere.message_id,
            "reaction-emoji": "👍",
        },
    )

    assert response.status_code == 200
    assert "Faça uma escolha válida" in response.content.decode()
    assert not ReceivedMessage.objects.exists()


def test_bad_input_is_explained_and_kept_and_nothing_is_sent(owner_client, hooked):
    response = owner_client.post(
        _send_url(hooked, "location"),
        {
            "location-contact": CONTACT,
            "location-latitude": "200",
            "location-longitude": "-43.2",
            "location-name": "Longe demais",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Certifique-se que este valor seja menor ou igual a 90" in page
    assert 'value="Longe demais"' in page
    assert not ReceivedMessage.objects.exists()
    assert not SimulatedMessage.objects.exists()
    assert not WebhookEvent.objects.exists()


def test_a_bad_contact_number_is_refused(owner_client, hooked):
    response = owner_client.post(
        _send_url(hooked, "text"), {"text-contact": "123", "text-text": "oi"}
    )
    assert "Número de telefone inválido" in response.content.decode()
    assert not SimulatedMessage.objects.exists()


def test_a_file_that_is_not_what_it_claims_arrives_without_its_media(
    owner_client, hooked
):
    response = owner_client.post(
        _send_url(hooked, "image"),
        {
            "image-contact": CONTACT,
            "image-file": SimpleUploadedFile("foto.jpg", samples.PDF, "image/jpeg"),
        },
        follow=True,
    )

    received = ReceivedMessage.objects.get()
    assert received.media is None
    assert "não é um arquivo de imagem" in received.content["download_error"]
    page = response.content.decode()
    assert "a PlugMessage não aceitou o arquivo" in page
    assert "Arquivo não aceito pela PlugMessage" in page
    data = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload["data"]
    assert "media" not in data and data["content"]["download_error"]


def test_a_disconnected_instance_receives_nothing(owner_client, connected, owner):
    services.instance_disconnect(instance=connected, actor_kind="customer", actor=owner)

    response = owner_client.post(
        _send_url(connected, "text"),
        {"text-contact": CONTACT, "text-text": "Alô?"},
        follow=True,
    )

    assert "A instância não está conectada." in response.content.decode()
    assert not ReceivedMessage.objects.exists()
    assert not SimulatedMessage.objects.exists()


# The poll.


def test_the_poll_answers_204_until_something_changes(owner_client, connected):
    _sent_through_the_api(connected, Draft(text="Um"))
    first = owner_client.get(_page_url(connected), {"contato": CONTACT}, **HTMX)
    version = re.search(r"v=(\w+)", first.content.decode()).group(1)
    assert "<html" not in first.content.decode()
    assert "Um" in first.content.decode()

    same = {"contato": CONTACT, "v": version}
    assert owner_client.get(_page_url(connected), same, **HTMX).status_code == 204
    engine_get().phone_send_message(connected.engine_ref, CONTACT, "Dois")
    changed = owner_client.get(_page_url(connected), same, **HTMX)
    assert changed.status_code == 200
    assert "Dois" in changed.content.decode()


def test_the_poll_stops_once_the_instance_is_disconnected(
    owner_client, connected, owner
):
    services.instance_disconnect(instance=connected, actor_kind="customer", actor=owner)
    response = owner_client.get(_page_url(connected), {"contato": CONTACT}, **HTMX)
    assert response.status_code == HTMX_STOP_POLLING
    assert "hx-trigger" not in response.content.decode()


def test_the_page_costs_the_same_queries_for_3_and_30_messages(
    owner_client, connected, django_assert_num_queries
):
    def page_queries(count):
        for n in range(count):
            engine_get().phone_send_message(connected.engine_ref, CONTACT, f"m{n}")
        with django_assert_num_queries(6) as captured:
            owner_client.get(_page_url(connected), {"contato": CONTACT})
        return len(captured.captured_queries)

    SimulatedMessage.objects.all().delete()
    assert page_queries(3) == page_queries(27)


def test_the_page_opens_the_latest_chat_and_explains_a_bad_number(
    owner_client, connected
):
    _sent_through_the_api(connected, Draft(text="Primeira"), to="+5531987654321")
    _sent_through_the_api(connected, Draft(text="Última"))

    latest = owner_client.get(_page_url(connected)).content.decode()
    assert "Conversa com +55 21 99876-5432" in latest and "Última" in latest
    assert "?contato=%2B5531987654321" in latest  # the other chat, one click away

    bad = owner_client.get(_page_url(connected), {"contato": "123"}).content.decode()
    assert "Número de telefone inválido" in bad
    assert 'value="123"' in bad
