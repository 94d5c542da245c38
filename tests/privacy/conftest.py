import pytest
from django.core.files.storage import default_storage

from instances import media
from instances.models import MediaFile, Message, MessageStatus, ReceivedMessage
from tests.api.samples import PNG
from tests.factories import InstanceFactory
from webhooks.models import (
    DeliveryStatus,
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

CONTACT = "+5521998765432"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def instance(owner):
    return InstanceFactory(owner=owner, name="Vendas")


def media_file(instance) -> MediaFile:
    return media.media_store(
        instance=instance,
        media=media.CheckedMedia(data=PNG, mime_type="image/png", file_name="f.png"),
    )


def file_exists(stored: MediaFile) -> bool:
    return default_storage.exists(stored.file.name)


def sent(
    instance, *, to=CONTACT, status=MessageStatus.READ, text="Seu pedido saiu", **fields
) -> Message:
    return Message.objects.create(
        instance=instance, to=to, text=text, status=status, **fields
    )


def received(instance, *, phone=CONTACT, **fields) -> ReceivedMessage:
    return ReceivedMessage.objects.create(
        instance=instance,
        phone=phone,
        message_id=f"IN{ReceivedMessage.objects.count()}",
        text="Quero cancelar",
        **fields,
    )


def delivered(instance, *, status=DeliveryStatus.SUCCEEDED, data=None):
    """An event of `instance` and its delivery (with one attempt) to the
    instance's message.received URL."""
    endpoint, _created = WebhookEndpoint.objects.get_or_create(
        instance=instance,
        kind=EventKind.MESSAGE_RECEIVED,
        defaults={"url": "https://cliente.test/webhook"},
    )
    event = WebhookEvent.objects.create(
        instance=instance,
        kind=EventKind.MESSAGE_RECEIVED,
        payload={"data": data or {"from": CONTACT, "text": "Quero cancelar"}},
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, status=status
    )
    WebhookAttempt.objects.create(
        delivery=delivery, url=endpoint.url, status_code=200, response_body="ok"
    )
    return delivery
