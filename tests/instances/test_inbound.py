"""Messages of every kind a contact sends to the instance's number: stored
once with their content and media, announced by the message.received webhook,
their files reachable by a signed link that expires."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from instances import media, services
from instances.engines.base import EngineEvent
from tests import samples
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
