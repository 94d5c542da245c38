"""Webhooks in Z-API's format: every callback read field by field as a
Z-API client reads it, delivered and signed like PlugMessage's own bodies,
notifySentByMe, and the format choice in the Webhooks tab."""

import json
from datetime import UTC, datetime
from types import NoneType

import pytest
import time_machine
from django.urls import reverse
from standardwebhooks import Webhook

from instances import messaging
from instances import services as instance_services
from instances.engines import engine_get
from instances.engines.base import EngineEvent
from instances.models import Instance, Message, MessageStatus, SimulatedSession
from webhooks import services, zapi
from webhooks.models import (
    EventKind,
    PayloadFormat,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSettings,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 14, 5, 9, tzinfo=UTC)
NOW_MS = 1795701909000
CONNECTED_PHONE = "+5511912345678"

# What the contract's "Webhook payloads" table promises, field by field.
RECEIVED_FIELDS = {
    "type": str,
    "instanceId": str,
    "messageId": str,
    "phone": str,
    "fromMe": bool,
    "momment": int,
    "status": str,
    "chatName": str,
    "senderName": str,
    "senderPhoto": NoneType,
    "photo": NoneType,
    "broadcast": bool,
    "isGroup": bool,
    "isNewsletter": bool,
    "isEdit": bool,
    "isStatusReply": bool,
    "waitingMessage": bool,
    "connectedPhone": str,
    "senderLid": str,
    "participantPhone": NoneType,
    "participantLid": NoneType,
    "referenceMessageId": (str, NoneType),
    "messageExpirationSeconds": int,
}
KIND_FIELDS = {
    "text": {"message": str},
    "image": {
        "imageUrl": str,
        "thumbnailUrl": str,
        "caption": str,
        "mimeType": str,
        "width": int,
        "height": int,
        "viewOnce": bool,
        "downloadError": bool,
    },
    "audio": {
        "audioUrl": str,
        "mimeType": str,
        "seconds": int,
        "ptt": bool,
        "viewOnce": bool,
    },
    "video": {
        "videoUrl": str,
        "caption": str,
        "mimeType": str,
        "seconds": int,
        "viewOnce": bool,
    },
    "document": {
        "documentUrl": str,
        "mimeType": str,
        "fileName": str,
        "title": str,
        "pageCount": int,
        "thumbnailUrl": str,
    },
    "location": {
        "latitude": float,
        "longitude": float,
        "address": str,
        "url": str,
        "name": str,
        "thumbnailUrl": str,
    },
    "contact": {"displayName": str, "vCard": str, "phones": list},
    "reaction": {
        "value": str,
        "time": int,
        "reactionBy": str,
        "referencedMessage": dict,
    },
    "sticker": {"stickerUrl": str, "mimeType": str},
}
DELIVERY_FIELDS = {
    "type": str,
    "phone": str,
    "zaapId": str,
    "messageId": str,
    "instanceId": str,
    "momment": int,
}
STATUS_FIELDS = {
    "type": str,
    "status": str,
    "ids": list,
    "phone": str,
    "momment": int,
    "instanceId": str,
    "isGroup": bool,
    "phoneDevice": int,
}
CONNECTED_FIELDS = {
    "type": str,
    "connected": bool,
    "momment": int,
    "instanceId": str,
    "phone": str,
}
DISCONNECTED_FIELDS = {
    "type": str,
    "disconnected": bool,
    "error": str,
    "momment": int,
    "instanceId": str,
}
PRESENCE_FIELDS = {
    "type": str,
    "phone": str,
    "status": str,
    "lastSeen": NoneType,
    "instanceId": str,
}


def assert_reads(body: dict, fields: dict) -> None:
    """Exactly the contract's fields, each of the contract's JSON type (a
    bool is not an int here, as in JSON)."""
    assert set(body) == set(fields), set(body) ^ set(fields)
    for name, types in fields.items():
        allowed = types if isinstance(types, tuple) else (types,)
        assert type(body[name]) in allowed, (name, body[name])


def assert_common_received(body: dict, instance, *, message_id, phone, from_me):
    assert_reads(
        {k: v for k, v in body.items() if k not in KIND_FIELDS}, RECEIVED_FIELDS
    )
    assert body["type"] == "ReceivedCallback"
    assert body["instanceId"] == str(instance.pk)
    assert body["messageId"] == message_id
    assert body["phone"] == phone and phone.isdigit()
    assert body["fromMe"] is from_me
    assert body["connectedPhone"] == "5511912345678"
    for flag in (
        "broadcast",
        "isGroup",
        "isNewsletter",
        "isEdit",
        "isStatusReply",
        "waitingMessage",
    ):
        assert body[flag] is False, flag
    assert body["senderPhoto"] is None and body["photo"] is None
    assert body["participantPhone"] is None and body["participantLid"] is None
    assert body["messageExpirationSeconds"] == 0


@pytest.fixture
def zapi_hooked(hooked):
    """The hooked instance (every kind to the receiver), connected number
    known, in Z-API format."""
    Instance.objects.filter(pk=hooked.pk).update(phone_number=CONNECTED_PHONE)
    hooked.phone_number = CONNECTED_PHONE
    services.webhook_endpoints_save(
        instance=hooked, values={}, payload_format=PayloadFormat.ZAPI
    )
    return hooked


def _posted(receiver) -> dict:
    return json.loads(receiver.received[-1].body)


def _received(kind: str, **extra) -> dict:
    """A message.received `data` in the shape the inbound events carry."""
    return {
        "message_id": "3EB0C431D5A1B2C3D4E5",
        "from": "+5521998765432",
        "text": "",
        "kind": kind,
        "from_me": False,
        "sender_name": "Maria Souza",
        "timestamp": "2026-11-26T14:05:08+00:00",
        **extra,
    }


def _media(url_name: str, mime_type: str) -> dict:
    return {
        "url": f"https://app.plugmessage.com.br/midia/abc/{url_name}",
        "mime_type": mime_type,
        "file_name": url_name,
        "size": 1234,
    }


# ReceivedCallback.


def test_a_received_text_is_a_received_callback_read_field_by_field(
    zapi_hooked, emit, receiver
):
    delivery = emit(
        EventKind.MESSAGE_RECEIVED,
        _received("text", text="Olá!", reply_to="3EB0AAAABBBBCCCCDDDD"),
    )

    body = _posted(receiver)
    assert body == delivery.event.payload
    assert_common_received(
        body,
        zapi_hooked,
        message_id="3EB0C431D5A1B2C3D4E5",
        phone="5521998765432",
        from_me=False,
    )
    assert body["momment"] == 1795701908000
    assert body["status"] == "RECEIVED"
    assert (body["chatName"], body["senderName"]) == ("Maria Souza", "Maria Souza")
    assert body["referenceMessageId"] == "3EB0AAAABBBBCCCCDDDD"
    assert body["text"] == {"message": "Olá!"}
    assert_reads(body["text"], KIND_FIELDS["text"])
    # The kind in the database stays PlugMessage's; only the body differs.
    assert delivery.event.kind == EventKind.MESSAGE_RECEIVED


def test_todays_text_only_inbound_event_still_becomes_a_full_received_callback(
    zapi_hooked, sent_tasks
):
    # The engine's inbound text gives only message_id, from and text today.
    Instance.objects.filter(pk=zapi_hooked.pk).update(phone_number="")
    _connect(zapi_hooked)
    with time_machine.travel(NOW, tick=False):
        instance_services.engine_events_apply(
            [
                EngineEvent(
                    "message_received",
                    zapi_hooked.engine_ref,
                    phone_number="5521998765432@s.whatsapp.net",
                    extra={"message_id": "ABC123", "text": "Oi"},
                )
            ]
        )

    body = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload
    zapi_hooked.refresh_from_db()
    assert_common_received(
        body, zapi_hooked, message_id="ABC123", phone="5521998765432", from_me=False
    )
    assert body["momment"] == NOW_MS  # no timestamp given: when it arrived
    assert body["text"] == {"message": "Oi"}
    assert body["referenceMessageId"] is None
    assert body["chatName"] == "5521998765432" and body["senderName"] == ""


RECEIVED_KINDS = [
    (
        "image",
        {
            "text": "A peça",
            "media": _media("foto.jpg", "image/jpeg"),
            "content": {"caption": "A peça", "width": 1080, "height": 1350},
        },
        {
            "imageUrl": "https://app.plugmessage.com.br/midia/abc/foto.jpg",
            "thumbnailUrl": "https://app.plugmessage.com.br/midia/abc/foto.jpg",
            "caption": "A peça",
            "mimeType": "image/jpeg",
            "width": 1080,
            "height": 1350,
            "viewOnce": False,
            "downloadError": False,
        },
    ),
    (
        "audio",
        {
            "media": _media("a.ogg", "audio/ogg; codecs=opus"),
            "content": {"ptt": True, "seconds": 7},
        },
        {
            "audioUrl": "https://app.plugmessage.com.br/midia/abc/a.ogg",
            "mimeType": "audio/ogg; codecs=opus",
            "seconds": 7,
            "ptt": True,
            "viewOnce": False,
        },
    ),
    (
        "video",
        {
            "media": _media("v.mp4", "video/mp4"),
            "content": {"caption": "Olha", "seconds": 12, "view_once": True},
        },
        {
            "videoUrl": "https://app.plugmessage.com.br/midia/abc/v.mp4",
            "caption": "Olha",
            "mimeType": "video/mp4",
            "seconds": 12,
            "viewOnce": True,
        },
    ),
    (
        "document",
        {
            "media": _media("orcamento.pdf", "application/pdf"),
            "content": {"file_name": "orcamento.pdf", "page_count": 2},
        },
        {
            "documentUrl": "https://app.plugmessage.com.br/midia/abc/orcamento.pdf",
            "mimeType": "application/pdf",
            "fileName": "orcamento.pdf",
            "title": "orcamento.pdf",
            "pageCount": 2,
            "thumbnailUrl": "",
        },
    ),
    (
        "location",
        {
            "content": {
                "latitude": -23.5614,
                "longitude": -46.6558,
                "name": "Loja",
                "address": "Av. Paulista, 1000",
            }
        },
        {
            "latitude": -23.5614,
            "longitude": -46.6558,
            "address": "Av. Paulista, 1000",
            "url": "",
            "name": "Loja",
            "thumbnailUrl": "",
        },
    ),
    (
        "contact",
        {
            "content": {
                "name": "João",
                "phone": "+5511976543210",
                "vcard": "BEGIN:VCARD\nFN:João\nEND:VCARD",
            }
        },
        {
            "displayName": "João",
            "vCard": "BEGIN:VCARD\nFN:João\nEND:VCARD",
            "phones": ["5511976543210"],
        },
    ),
    (
        "reaction",
        {
            "content": {
                "emoji": "👍",
                "reaction_to": "3EB0A1B2C3D4E5F6A7B8",
                "reaction_to_from_me": True,
            }
        },
        {
            "value": "👍",
            "time": 1795701908000,
            "reactionBy": "5521998765432",
            "referencedMessage": {
                "messageId": "3EB0A1B2C3D4E5F6A7B8",
                "fromMe": True,
                "phone": "5521998765432",
                "participant": None,
            },
        },
    ),
    (
        "sticker",
        {"media": _media("f.webp", "image/webp"), "content": {}},
        {
            "stickerUrl": "https://app.plugmessage.com.br/midia/abc/f.webp",
            "mimeType": "image/webp",
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "extra", "expected"), RECEIVED_KINDS, ids=[k[0] for k in RECEIVED_KINDS]
)
def test_every_received_kind_carries_its_object_as_the_contract_names_it(
    zapi_hooked, emit, receiver, kind, extra, expected
):
    emit(EventKind.MESSAGE_RECEIVED, _received(kind, **extra))

    body = _posted(receiver)
    assert_common_received(
        body,
        zapi_hooked,
        message_id="3EB0C431D5A1B2C3D4E5",
        phone="5521998765432",
        from_me=False,
    )
    assert [k for k in body if k in KIND_FIELDS] == [kind]
    assert_reads(body[kind], KIND_FIELDS[kind])
    assert body[kind] == expected
    if kind == "reaction":
        assert_reads(
            body[kind]["referencedMessage"],
            {"messageId": str, "fromMe": bool, "phone": str, "participant": NoneType},
        )
    if kind == "contact":
        assert all(type(p) is str and p.isdigit() for p in body[kind]["phones"])


def test_missing_optional_keys_get_defaults_of_the_contracts_types(zapi_hooked):
    for kind in KIND_FIELDS:
        body = zapi.received_callback(
            instance=zapi_hooked,
            data={"message_id": "X", "from": "+5521998765432", "kind": kind},
        )
        assert_reads(body[kind], KIND_FIELDS[kind])
    image = zapi.received_callback(
        instance=zapi_hooked, data={"message_id": "X", "kind": "image"}
    )["image"]
    # No link to the media: the client is told so, not just given "".
    assert image["downloadError"] is True and image["imageUrl"] == ""


# DeliveryCallback, MessageStatusCallback: messages the instance sends.


def _connect(instance):
    waiting = instance_services.instance_connect(
        instance=instance, actor_kind="customer"
    )
    code = SimulatedSession.objects.get(engine_ref=waiting.engine_ref).code
    instance_services.engine_events_apply(
        [engine_get().phone_scan(code, CONNECTED_PHONE.lstrip("+"))]
    )
    instance.refresh_from_db()


@pytest.fixture
def live_zapi(zapi_hooked, sent_tasks, monkeypatch):
    Instance.objects.filter(pk=zapi_hooked.pk).update(phone_number="")
    _connect(zapi_hooked)
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task", lambda *args, **kwargs: None
    )
    WebhookEvent.objects.all().delete()
    return zapi_hooked


def _send(instance, phone="5521998765432") -> Message:
    message = messaging.message_send_text(instance=instance, phone=phone, text="oi")
    with time_machine.travel(NOW, tick=False):
        messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_a_sent_message_is_a_delivery_callback_with_whatsapps_id(live_zapi):
    message = _send(live_zapi)

    event = WebhookEvent.objects.get(kind=EventKind.MESSAGE_SENT)
    body = event.payload
    assert_reads(body, DELIVERY_FIELDS)
    assert body == {
        "type": "DeliveryCallback",
        "phone": "5521998765432",
        "zaapId": message.zaap_id,
        "messageId": message.message_id,
        "instanceId": str(live_zapi.pk),
        "momment": NOW_MS,
    }
    # The id the send answer gave (messageId), never PlugMessage's UUID.
    assert body["messageId"].startswith("3EB0")
    assert str(message.pk) not in json.dumps(body)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", "SENT"),
        ("delivered", "RECEIVED"),
        ("read", "READ"),
        ("played", "PLAYED"),
    ],
)
def test_a_status_is_a_message_status_callback(zapi_hooked, emit, status, expected):
    data = {
        **services.sample_data(EventKind.MESSAGE_STATUS),
        "whatsapp_message_id": "3EB0FFFFEEEEDDDDCCCC",
        "status": status,
    }
    with time_machine.travel(NOW, tick=False):
        delivery = emit(EventKind.MESSAGE_STATUS, data)

    body = delivery.event.payload
    assert_reads(body, STATUS_FIELDS)
    assert body == {
        "type": "MessageStatusCallback",
        "status": expected,
        "ids": ["3EB0FFFFEEEEDDDDCCCC"],
        "phone": "5511987654321",
        "momment": NOW_MS,
        "instanceId": str(zapi_hooked.pk),
        "isGroup": False,
        "phoneDevice": 0,
    }
    assert delivery.event.kind == EventKind.MESSAGE_STATUS


def test_the_receipts_of_a_sent_message_carry_its_whatsapp_id(live_zapi):
    message = _send(live_zapi)
    instance_services.engine_events_apply(
        [
            EngineEvent(
                "message_status",
                live_zapi.engine_ref,
                phone_number=message.to,
                extra={"message_id": message.engine_message_id, "status": "read"},
            )
        ]
    )

    bodies = [
        e.payload
        for e in WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS).order_by(
            "created_at"
        )
    ]
    assert [b["status"] for b in bodies] == ["SENT", "RECEIVED", "READ"]
    assert {tuple(b["ids"]) for b in bodies} == {(message.message_id,)}
    for body in bodies:
        assert_reads(body, STATUS_FIELDS)


def test_a_failed_send_is_a_delivery_callback_with_the_error_on_the_delivery_url(
    live_zapi,
):
    # The simulated WhatsApp has no account for this number.
    message = _send(live_zapi, phone="5511900000000")

    assert message.status == MessageStatus.FAILED
    assert not WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS).exists()
    event = WebhookEvent.objects.get()
    assert event.kind == EventKind.MESSAGE_SENT  # Z-API clients read it there
    assert_reads(event.payload, {**DELIVERY_FIELDS, "error": str})
    assert event.payload == {
        "type": "DeliveryCallback",
        "phone": "5511900000000",
        "zaapId": message.zaap_id,
        "messageId": message.message_id,
        "instanceId": str(live_zapi.pk),
        "momment": NOW_MS,
        "error": message.error,
    }
    # The simulator says "Phone number does not exist"; the customer reads
    # it in Portuguese.
    assert event.payload["error"] == "Este número não tem WhatsApp."
    assert WebhookDelivery.objects.get(event=event).endpoint.kind == "message.sent"


def test_in_plugmessage_format_a_failed_send_stays_a_message_status(hooked, sent_tasks):
    _connect(hooked)
    WebhookEvent.objects.all().delete()
    message = messaging.message_send_text(
        instance=hooked, phone="5511900000000", text="oi"
    )
    messaging.message_send(message_id=message.pk)

    event = WebhookEvent.objects.get()
    assert event.kind == EventKind.MESSAGE_STATUS
    assert event.payload["type"] == "message.status"
    assert event.payload["data"]["status"] == "failed"


# The instance and its chats.


def test_connecting_is_a_connected_callback(zapi_hooked, sent_tasks):
    Instance.objects.filter(pk=zapi_hooked.pk).update(phone_number="")
    with time_machine.travel(NOW, tick=False):
        _connect(zapi_hooked)

    body = WebhookEvent.objects.get(kind=EventKind.CONNECTED).payload
    assert_reads(body, CONNECTED_FIELDS)
    assert body == {
        "type": "ConnectedCallback",
        "connected": True,
        "momment": NOW_MS,
        "instanceId": str(zapi_hooked.pk),
        "phone": "5511912345678",
    }


def test_disconnecting_is_a_disconnected_callback_with_the_reason(
    zapi_hooked, sent_tasks, owner
):
    Instance.objects.filter(pk=zapi_hooked.pk).update(phone_number="")
    _connect(zapi_hooked)
    with time_machine.travel(NOW, tick=False):
        instance_services.instance_disconnect(
            instance=zapi_hooked, actor_kind="customer", actor=owner
        )

    body = WebhookEvent.objects.get(kind=EventKind.DISCONNECTED).payload
    assert_reads(body, DISCONNECTED_FIELDS)
    assert body == {
        "type": "DisconnectedCallback",
        "disconnected": True,
        "error": "Desconectada pelo cliente",
        "momment": NOW_MS,
        "instanceId": str(zapi_hooked.pk),
    }


@pytest.mark.parametrize(
    "presence", ["available", "unavailable", "composing", "recording", "paused"]
)
def test_a_chat_presence_is_a_presence_chat_callback(zapi_hooked, sent_tasks, presence):
    Instance.objects.filter(pk=zapi_hooked.pk).update(phone_number="")
    _connect(zapi_hooked)
    instance_services.engine_events_apply(
        [
            EngineEvent(
                "chat_presence",
                zapi_hooked.engine_ref,
                phone_number="5521998765432@s.whatsapp.net",
                extra={"presence": presence},
            )
        ]
    )

    body = WebhookEvent.objects.get(kind=EventKind.CHAT_PRESENCE).payload
    assert_reads(body, PRESENCE_FIELDS)
    assert body == {
        "type": "PresenceChatCallback",
        "phone": "5521998765432",
        "status": presence.upper(),
        "lastSeen": None,
        "instanceId": str(zapi_hooked.pk),
    }


# Delivery: the same signing, log and replay for both formats.


def test_a_zapi_body_is_posted_signed_and_verifiable_like_a_plugmessage_one(
    zapi_hooked, emit, receiver
):
    zapi_delivery = emit(EventKind.MESSAGE_RECEIVED, _received("text", text="Oi"))
    services.webhook_endpoints_save(
        instance=zapi_hooked, values={}, payload_format=PayloadFormat.PLUGMESSAGE
    )
    own_delivery = emit(EventKind.MESSAGE_RECEIVED, _received("text", text="Oi"))

    secret = services.webhook_settings_get(instance_id=zapi_hooked.pk).secret
    zapi_post, own_post = receiver.received
    for post, delivery in ((zapi_post, zapi_delivery), (own_post, own_delivery)):
        assert post.verified
        assert post.headers["webhook-id"] == delivery.event_id
        assert post.headers["content-type"] == "application/json"
        # What the official library hands the receiver is the stored body.
        assert Webhook(secret).verify(post.body, post.headers) == (
            delivery.event.payload
        )
    assert json.loads(zapi_post.body)["type"] == "ReceivedCallback"
    assert json.loads(own_post.body)["type"] == "message.received"


def test_a_resent_zapi_delivery_posts_the_same_body_with_the_same_webhook_id(
    zapi_hooked, emit, receiver, django_capture_on_commit_callbacks
):
    delivery = emit(EventKind.MESSAGE_RECEIVED, _received("text", text="Oi"))
    # Switching format later does not rewrite what was already emitted.
    services.webhook_endpoints_save(
        instance=zapi_hooked, values={}, payload_format=PayloadFormat.PLUGMESSAGE
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_resend(delivery=delivery)
    services.webhook_deliveries_drain()

    first, again = receiver.received
    assert again.verified and first.body == again.body
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert json.loads(again.body)["type"] == "ReceivedCallback"


# notifySentByMe.


def test_with_notify_sent_by_me_a_sent_message_is_also_a_received_callback_from_me(
    live_zapi,
):
    services.webhook_endpoints_save(
        instance=live_zapi, values={}, notify_sent_by_me=True
    )
    message = _send(live_zapi)

    received = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED)
    body = received.payload
    assert_common_received(
        body,
        live_zapi,
        message_id=message.message_id,
        phone="5521998765432",
        from_me=True,
    )
    assert body["status"] == "SENT"
    assert body["text"] == {"message": "oi"}
    assert body["momment"] == NOW_MS
    assert WebhookEvent.objects.get(kind=EventKind.MESSAGE_SENT).payload["type"] == (
        "DeliveryCallback"
    )
    endpoint = WebhookDelivery.objects.get(event=received).endpoint
    assert endpoint.kind == EventKind.MESSAGE_RECEIVED


def test_with_notify_sent_by_me_in_plugmessage_format_it_is_a_received_from_me(
    hooked, sent_tasks
):
    _connect(hooked)
    services.webhook_endpoints_save(instance=hooked, values={}, notify_sent_by_me=True)
    WebhookEvent.objects.all().delete()
    message = messaging.message_send_text(
        instance=hooked, phone="5521998765432", text="oi"
    )
    messaging.message_send(message_id=message.pk)

    body = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload
    assert body["type"] == "message.received"
    data = body["data"]
    assert data["from_me"] is True
    assert data["message_id"] == message.message_id
    assert (data["from"], data["to"]) == ("+5511912345678", "+5521998765432")
    assert (data["kind"], data["text"]) == ("text", "oi")


def test_without_notify_sent_by_me_a_sent_message_is_not_announced_as_received(
    live_zapi,
):
    _send(live_zapi)

    assert not WebhookEvent.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()
    assert WebhookEvent.objects.filter(kind=EventKind.MESSAGE_SENT).count() == 1


def test_notify_sent_by_me_needs_a_received_url(live_zapi):
    services.webhook_endpoints_save(
        instance=live_zapi,
        values={EventKind.MESSAGE_RECEIVED.value: ("", True)},
        notify_sent_by_me=True,
    )
    _send(live_zapi)

    assert not WebhookEvent.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()
    assert WebhookEvent.objects.filter(kind=EventKind.MESSAGE_SENT).count() == 1


def test_a_sent_reaction_from_me_refers_to_the_message_reacted_to(zapi_hooked, emit):
    services.webhook_endpoints_save(
        instance=zapi_hooked, values={}, notify_sent_by_me=True
    )
    sent = {
        **services.sample_data(EventKind.MESSAGE_SENT),
        "kind": "reaction",
        "text": "",
        "content": {"emoji": "❤️"},
        "reply_to": "3EB0123412341234AAAA",
    }
    emit(EventKind.MESSAGE_SENT, sent)

    body = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload
    assert_reads(body["reaction"], KIND_FIELDS["reaction"])
    assert body["reaction"]["value"] == "❤️"
    assert body["reaction"]["reactionBy"] == "5511912345678"
    assert body["reaction"]["referencedMessage"]["messageId"] == "3EB0123412341234AAAA"
    assert body["referenceMessageId"] is None


# "Enviar teste" and the guide.


def test_the_test_button_sends_the_sample_in_the_chosen_format(
    zapi_hooked, receiver, press_test
):
    response = press_test(zapi_hooked, "message.received")

    sent = _posted(receiver)
    assert receiver.received[0].verified
    assert sent["type"] == "ReceivedCallback"
    assert_reads(
        {k: v for k, v in sent.items() if k not in KIND_FIELDS}, RECEIVED_FIELDS
    )
    page = response.content.decode()
    assert "Corpo enviado" in page and "ReceivedCallback" in page


def test_the_guide_shows_one_example_of_every_zapi_type_built_by_the_builders(
    owner_client,
):
    body = owner_client.get(reverse("webhooks:docs")).content.decode()

    for type_name in (
        "ReceivedCallback",
        "DeliveryCallback",
        "MessageStatusCallback",
        "ConnectedCallback",
        "DisconnectedCallback",
        "PresenceChatCallback",
    ):
        assert f"&quot;type&quot;: &quot;{type_name}&quot;" in body, type_name
    for kind in KIND_FIELDS:
        assert f"&quot;{kind}&quot;: {{" in body, kind
    assert "&quot;error&quot;: &quot;Este número não tem WhatsApp.&quot;" in body
    assert "&quot;fromMe&quot;: true" in body
    examples = services.zapi_examples()
    for _anchor, _title, example in examples:
        assert_reads(
            {k: v for k, v in example.items() if k not in KIND_FIELDS},
            {
                "ReceivedCallback": RECEIVED_FIELDS,
                "DeliveryCallback": {**DELIVERY_FIELDS, "error": str}
                if "error" in example
                else DELIVERY_FIELDS,
                "MessageStatusCallback": STATUS_FIELDS,
                "ConnectedCallback": CONNECTED_FIELDS,
                "DisconnectedCallback": DISCONNECTED_FIELDS,
                "PresenceChatCallback": PRESENCE_FIELDS,
            }[example["type"]],
        )
    assert "Vindo da Z-API?" in body and "/update-every-webhooks" in body


# The choice in the Webhooks tab.


def _settings(instance) -> WebhookSettings:
    return services.webhook_settings_get(instance_id=instance.pk)


def test_the_tab_offers_both_formats_and_the_sent_by_me_switch(owner_client, instance):
    body = owner_client.get(
        reverse("webhooks:edit", args=[instance.pk])
    ).content.decode()

    assert "Formato dos eventos" in body
    assert 'type="radio" name="payload_format" value="plugmessage"' in body
    assert (
        'value="plugmessage"' in body
        and "checked" in body.split('value="plugmessage"')[1].split(">")[0]
    )
    assert 'type="radio" name="payload_format" value="zapi"' in body
    assert "O formato próprio da PlugMessage" in body
    assert "escolha este se o seu sistema foi feito para a Z-API" in body
    assert "Vindo da Z-API? Escolha “Z-API” aqui." in body
    assert 'name="notify_sent_by_me"' in body
    assert "Avisar também as mensagens enviadas por mim" in body


def test_the_owner_chooses_zapi_and_the_sent_by_me_switch(
    owner_client, instance, receiver
):
    url = reverse("webhooks:edit", args=[instance.pk])
    response = owner_client.post(
        url,
        {
            "payload_format": "zapi",
            "notify_sent_by_me": "on",
            "message.received-url": receiver.url,
            "message.received-enabled": "on",
        },
        follow=True,
    )

    assert "Webhooks salvos." in response.content.decode()
    settings_row = _settings(instance)
    assert (settings_row.payload_format, settings_row.notify_sent_by_me) == (
        PayloadFormat.ZAPI,
        True,
    )
    page = owner_client.get(url).content.decode()
    zapi_radio = page.split('value="zapi"')[1].split(">")[0]
    assert "checked" in zapi_radio
    assert "checked" in page.split('name="notify_sent_by_me"')[1].split(">")[0]

    owner_client.post(url, {"payload_format": "plugmessage"})
    settings_row.refresh_from_db()
    assert (settings_row.payload_format, settings_row.notify_sent_by_me) == (
        PayloadFormat.PLUGMESSAGE,
        False,
    )


def test_a_bad_format_is_explained_and_what_was_typed_is_kept(
    owner_client, instance, receiver
):
    url = reverse("webhooks:edit", args=[instance.pk])
    response = owner_client.post(
        url,
        {
            "payload_format": "xml",
            "notify_sent_by_me": "on",
            "message.sent-url": receiver.url,
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Faça uma escolha válida" in body
    assert f'value="{receiver.url}"' in body
    assert "checked" in body.split('name="notify_sent_by_me"')[1].split(">")[0]
    settings_row = _settings(instance)
    assert (settings_row.payload_format, settings_row.notify_sent_by_me) == (
        PayloadFormat.PLUGMESSAGE,
        False,
    )
    assert not WebhookEndpoint.objects.filter(instance=instance).exists()


def test_a_bad_url_keeps_the_format_that_was_chosen(owner_client, instance):
    url = reverse("webhooks:edit", args=[instance.pk])
    response = owner_client.post(
        url, {"payload_format": "zapi", "message.received-url": "nao-e-url"}
    )

    body = response.content.decode()
    assert "Informe uma URL completa" in body
    assert "checked" in body.split('value="zapi"')[1].split(">")[0]
    assert _settings(instance).payload_format == PayloadFormat.PLUGMESSAGE


def test_another_customer_gets_404_and_changes_no_format(client, other, instance):
    client.force_login(other)
    url = reverse("webhooks:edit", args=[instance.pk])

    assert client.get(url).status_code == 404
    response = client.post(url, {"payload_format": "zapi", "notify_sent_by_me": "on"})

    assert response.status_code == 404
    settings_row = _settings(instance)
    assert (settings_row.payload_format, settings_row.notify_sent_by_me) == (
        PayloadFormat.PLUGMESSAGE,
        False,
    )


def test_a_visitor_is_sent_to_login_and_changes_no_format(client, instance):
    url = reverse("webhooks:edit", args=[instance.pk])

    response = client.post(url, {"payload_format": "zapi"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert _settings(instance).payload_format == PayloadFormat.PLUGMESSAGE
