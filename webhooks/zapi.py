"""Webhook bodies in Z-API's shapes, for instances whose Webhooks tab chose
the "Z-API" format: integrations written for Z-API read them unchanged
(../shared/zapi-contract.md, "Webhook payloads").

Each builder takes the `data` PlugMessage's own event carries (see
`services.sample_data`) and the instance (its `pk` and `phone_number`; no
import of the instances app), and returns the whole body to post. They are
called when the event is emitted, so the stored payload is exactly what is
posted, signed, retried, logged and replayed.

Choices where the contract leaves room:
- Phone numbers are digits only (country code first, no "+"); `momment` is
  milliseconds since 1970.
- The `messageId` of a message the instance sent is the id in WhatsApp's
  format that the send answer gave (`whatsapp_message_id`), never
  PlugMessage's UUID; `zaapId` is the queue id.
- A failed send is announced as a DeliveryCallback with `error` (what Z-API
  clients read on their delivery URL), not as a MessageStatusCallback. So in
  this format a failed message.status goes to the message.sent URL
  (`kind_for`); the event kinds stay PlugMessage's.
- A received message sent by the instance itself (notifySentByMe) has
  `fromMe` true, `phone` the contact's number and `status` "SENT".
"""

from datetime import UTC, datetime

from django.utils import timezone

RECEIVED = "ReceivedCallback"
DELIVERY = "DeliveryCallback"
MESSAGE_STATUS = "MessageStatusCallback"
CONNECTED = "ConnectedCallback"
DISCONNECTED = "DisconnectedCallback"
PRESENCE_CHAT = "PresenceChatCallback"

# PlugMessage's message statuses in Z-API's words.
STATUSES = {"sent": "SENT", "delivered": "RECEIVED", "read": "READ", "played": "PLAYED"}
PRESENCES = {"UNAVAILABLE", "AVAILABLE", "COMPOSING", "PAUSED", "RECORDING"}
DISCONNECTED_ERROR = "Device has been disconnected"
SEND_FAILED_ERROR = "Message could not be sent"


def digits(phone) -> str:
    return "".join(c for c in str(phone or "") if c.isdigit())


def momment(at: datetime | None = None) -> int:
    return int((at or timezone.now()).timestamp() * 1000)


def _momment_of(iso: str | None, now: datetime | None) -> int:
    """The moment an ISO-8601 timestamp names, or now when it names none."""
    if iso:
        try:
            at = datetime.fromisoformat(str(iso))
        except ValueError:
            at = None
        if at is not None:
            if timezone.is_naive(at):
                at = at.replace(tzinfo=UTC)
            return momment(at)
    return momment(now)


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def is_failed_send(kind: str, data: dict) -> bool:
    return kind == "message.status" and data.get("status") == "failed"


def kind_for(kind: str, data: dict) -> str:
    """Which PlugMessage kind (and so which URL) the Z-API body of this event
    is delivered as: a failed send is a DeliveryCallback, read on the
    delivery (message.sent) URL; everything else keeps its kind."""
    return "message.sent" if is_failed_send(kind, data) else kind


def payload(*, instance, kind: str, data: dict, now: datetime | None = None) -> dict:
    """The Z-API body of a PlugMessage event of `kind`."""
    if kind == "message.received":
        return received_callback(instance=instance, data=data, now=now)
    if kind == "message.sent" or is_failed_send(kind, data):
        return delivery_callback(instance=instance, data=data, now=now)
    if kind == "message.status":
        return message_status_callback(instance=instance, data=data, now=now)
    if kind == "instance.connected":
        return connected_callback(instance=instance, data=data, now=now)
    if kind == "instance.disconnected":
        return disconnected_callback(instance=instance, data=data, now=now)
    if kind == "chat.presence":
        return presence_chat_callback(instance=instance, data=data, now=now)
    raise ValueError(f"no Z-API callback for {kind!r}")


# One builder per Z-API type.


def received_callback(*, instance, data: dict, now: datetime | None = None) -> dict:
    """ReceivedCallback: a message in a chat, with the object of its kind
    (`text`, `image`, `audio`, `video`, `document`, `location`, `contact`,
    `reaction` or `sticker`)."""
    from_me = bool(data.get("from_me", False))
    phone = digits(data.get("to") if from_me else data.get("from"))
    sender_name = "" if from_me else str(data.get("sender_name") or "")
    at = _momment_of(data.get("timestamp"), now)
    body = {
        "type": RECEIVED,
        "instanceId": str(instance.pk),
        "messageId": str(data.get("message_id") or ""),
        "phone": phone,
        "fromMe": from_me,
        "momment": at,
        "status": "SENT" if from_me else "RECEIVED",
        "chatName": sender_name or phone,
        "senderName": sender_name,
        "senderPhoto": None,
        "photo": None,
        "broadcast": False,
        "isGroup": False,
        "isNewsletter": False,
        "isEdit": False,
        "isStatusReply": False,
        "waitingMessage": False,
        "connectedPhone": digits(instance.phone_number),
        "senderLid": "",
        "participantPhone": None,
        "participantLid": None,
        "referenceMessageId": data.get("reply_to") or None,
        "messageExpirationSeconds": 0,
    }
    kind = data.get("kind") or "text"
    build = _KIND_OBJECTS.get(kind, _text)
    key = kind if kind in _KIND_OBJECTS and kind != "link" else "text"
    body[key] = build(data, at=at, phone=phone, instance=instance)
    return body


def _media(data: dict) -> tuple[str, str, dict]:
    media = data.get("media") or {}
    return str(media.get("url") or ""), str(media.get("mime_type") or ""), media


def _caption(data: dict) -> str:
    content = data.get("content") or {}
    return str(content.get("caption") or data.get("text") or "")


def _text(data: dict, **_context) -> dict:
    text = {"message": str(data.get("text") or "")}
    content = data.get("content") or {}
    if data.get("kind") == "link":
        text |= {
            "title": str(content.get("title") or ""),
            "description": str(content.get("description") or ""),
            "url": str(content.get("url") or ""),
            "thumbnailUrl": "",
        }
    return text


def _image(data: dict, **_context) -> dict:
    url, mime_type, _ = _media(data)
    content = data.get("content") or {}
    return {
        "imageUrl": url,
        "thumbnailUrl": url,
        "caption": _caption(data),
        "mimeType": mime_type or "image/jpeg",
        "width": _int(content.get("width")),
        "height": _int(content.get("height")),
        "viewOnce": bool(content.get("view_once", False)),
        "downloadError": not url,
    }


def _audio(data: dict, **_context) -> dict:
    url, mime_type, _ = _media(data)
    content = data.get("content") or {}
    return {
        "audioUrl": url,
        "mimeType": mime_type or "audio/ogg; codecs=opus",
        "seconds": _int(content.get("seconds")),
        "ptt": bool(content.get("ptt", False)),
        "viewOnce": bool(content.get("view_once", False)),
    }


def _video(data: dict, **_context) -> dict:
    url, mime_type, _ = _media(data)
    content = data.get("content") or {}
    return {
        "videoUrl": url,
        "caption": _caption(data),
        "mimeType": mime_type or "video/mp4",
        "seconds": _int(content.get("seconds")),
        "viewOnce": bool(content.get("view_once", False)),
    }


def _document(data: dict, **_context) -> dict:
    url, mime_type, media = _media(data)
    content = data.get("content") or {}
    file_name = str(content.get("file_name") or media.get("file_name") or "")
    return {
        "documentUrl": url,
        "mimeType": mime_type or "application/octet-stream",
        "fileName": file_name,
        "title": str(content.get("title") or file_name),
        "pageCount": _int(content.get("page_count")),
        "thumbnailUrl": "",
    }


def _location(data: dict, **_context) -> dict:
    content = data.get("content") or {}
    return {
        "latitude": _float(content.get("latitude")),
        "longitude": _float(content.get("longitude")),
        "address": str(content.get("address") or ""),
        "url": str(content.get("url") or ""),
        "name": str(content.get("name") or ""),
        "thumbnailUrl": "",
    }


def _contact(data: dict, **_context) -> dict:
    content = data.get("content") or {}
    phone = digits(content.get("phone"))
    return {
        "displayName": str(content.get("name") or ""),
        "vCard": str(content.get("vcard") or ""),
        "phones": [phone] if phone else [],
    }


def _reaction(data: dict, *, at: int, phone: str, instance) -> dict:
    content = data.get("content") or {}
    by = digits(instance.phone_number) if data.get("from_me") else phone
    return {
        "value": str(content.get("emoji") or ""),
        "time": at,
        "reactionBy": by,
        "referencedMessage": {
            "messageId": str(content.get("reaction_to") or ""),
            "fromMe": bool(content.get("reaction_to_from_me", False)),
            "phone": phone,
            "participant": None,
        },
    }


def _sticker(data: dict, **_context) -> dict:
    url, mime_type, _ = _media(data)
    return {"stickerUrl": url, "mimeType": mime_type or "image/webp"}


_KIND_OBJECTS = {
    "text": _text,
    "link": _text,
    "image": _image,
    "audio": _audio,
    "video": _video,
    "document": _document,
    "location": _location,
    "contact": _contact,
    "reaction": _reaction,
    "sticker": _sticker,
}


def _outgoing_id(data: dict) -> str:
    """WhatsApp's id of a message the instance sent; receipts of messages not
    sent through the API carry only that id, as `message_id`."""
    return str(data.get("whatsapp_message_id") or data.get("message_id") or "")


def delivery_callback(*, instance, data: dict, now: datetime | None = None) -> dict:
    """DeliveryCallback: the outcome of a send; `error` only when it failed."""
    body = {
        "type": DELIVERY,
        "phone": digits(data.get("to")),
        "zaapId": str(data.get("zaap_id") or ""),
        "messageId": _outgoing_id(data),
        "instanceId": str(instance.pk),
        "momment": momment(now),
    }
    if data.get("status") == "failed":
        body["error"] = str(data.get("error") or SEND_FAILED_ERROR)
    return body


def message_status_callback(
    *, instance, data: dict, now: datetime | None = None
) -> dict:
    """MessageStatusCallback: a sent message reached a new status."""
    status = str(data.get("status") or "")
    return {
        "type": MESSAGE_STATUS,
        "status": STATUSES.get(status, status.upper()),
        "ids": [_outgoing_id(data)],
        "phone": digits(data.get("to")),
        "momment": momment(now),
        "instanceId": str(instance.pk),
        "isGroup": False,
        "phoneDevice": 0,
    }


def connected_callback(*, instance, data: dict, now: datetime | None = None) -> dict:
    return {
        "type": CONNECTED,
        "connected": True,
        "momment": momment(now),
        "instanceId": str(instance.pk),
        "phone": digits(data.get("phone") or instance.phone_number),
    }


def disconnected_callback(*, instance, data: dict, now: datetime | None = None) -> dict:
    return {
        "type": DISCONNECTED,
        "disconnected": True,
        "error": str(data.get("reason") or DISCONNECTED_ERROR),
        "momment": momment(now),
        "instanceId": str(instance.pk),
    }


def presence_chat_callback(
    *, instance, data: dict, now: datetime | None = None
) -> dict:
    status = str(data.get("presence") or "").upper()
    return {
        "type": PRESENCE_CHAT,
        "phone": digits(data.get("chat")),
        "status": status if status in PRESENCES else "UNAVAILABLE",
        "lastSeen": None,
        "instanceId": str(instance.pk),
    }
