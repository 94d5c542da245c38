"""Messages contacts send to an instance's number, of every kind.

An engine reports each one as a "message_received" EngineEvent whose `extra`
carries message_id, kind, text (the text, or the caption of media),
sender_name, reply_to, timestamp, content (what the kind carries besides, see
`_content_of`) and, for media, the file itself: extra["media"] =
{"data": bytes, "mime_type": str, "file_name": str}. Here that becomes one
ReceivedMessage, stored once per WhatsApp id with its media in storage, and
the data of the message.received webhook.
"""

from __future__ import annotations

import logging
import math
import mimetypes
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from instances import media
from instances.models import (
    MEDIA_KINDS,
    Instance,
    MediaFile,
    Message,
    MessageKind,
    ReceivedMessage,
)
from instances.phones import phone_display, phone_from_engine

logger = logging.getLogger(__name__)

K = MessageKind


def fields_from_event(extra: dict) -> dict:
    """The keyword arguments of received_message_record, from the `extra` of
    a "message_received" EngineEvent (engines that say less, such as one that
    only reports text, give a text message)."""
    return {
        "message_id": str(extra.get("message_id") or ""),
        "kind": str(extra.get("kind") or K.TEXT),
        "text": str(extra.get("text") or ""),
        "sender_name": str(extra.get("sender_name") or ""),
        "reply_to": str(extra.get("reply_to") or ""),
        "content": extra.get("content")
        if isinstance(extra.get("content"), dict)
        else {},
        "media": extra.get("media") if isinstance(extra.get("media"), dict) else None,
        "received_at": _moment(extra.get("timestamp")),
    }


def received_message_record(
    *,
    instance: Instance,
    phone: str,
    message_id: str,
    kind: str = K.TEXT,
    text: str = "",
    sender_name: str = "",
    reply_to: str = "",
    content: dict | None = None,
    media: dict | None = None,
    received_at: datetime | None = None,
) -> tuple[ReceivedMessage, bool]:
    """Store what the contact `phone` (E.164) sent, once per WhatsApp id.

    Returns (message, created). When the instance already has a message with
    this id (engines repeat events), nothing is written and created is False,
    so the caller announces nothing. Media bytes are checked as a send's are
    (the type read from the content, the size per kind) and stored; a file
    that fails the check, or that the engine did not deliver, is recorded
    without media and with content["download_error"] saying why. Atomic; of
    two deliveries of the same message at once, the unique constraint keeps
    one and the other discards its file."""
    kind = kind if kind in K.values else K.TEXT
    if not message_id:
        # Without an id there is nothing to recognise a repeat by.
        message_id = f"PM{secrets.token_hex(8).upper()}"
        logger.info("a received message without an id for %s", instance.pk)
    existing = ReceivedMessage.objects.filter(
        instance=instance, message_id=message_id
    ).first()
    if existing is not None:
        return existing, False
    content = content or {}
    stored, download_error = _media_keep(instance, kind, media, content)
    kept = _content_of(
        instance,
        kind,
        content,
        text=text,
        file_name=stored.file_name if stored else _file_name_given(media, content),
    )
    if download_error:
        kept["download_error"] = download_error
    try:
        with transaction.atomic():
            received = ReceivedMessage.objects.create(
                instance=instance,
                message_id=message_id[:80],
                phone=phone,
                sender_name=sender_name.strip()[:100],
                kind=kind,
                text=text,
                content=kept,
                media=stored,
                reply_to=_known_as(instance, reply_to)[0][:80] if reply_to else "",
                received_at=received_at or timezone.now(),
            )
    except IntegrityError:
        if stored is not None:
            _discard(stored)
        return ReceivedMessage.objects.get(
            instance=instance, message_id=message_id
        ), False
    return received, True


def received_message_event_data(
    received: ReceivedMessage, *, opted_out: bool = False
) -> dict:
    """The data of the message.received webhook (both payload formats are
    built from it): the message, who sent it, when, its content, and for
    media a download link that needs no login and expires."""
    data = {
        "message_id": received.message_id,
        "from": received.phone,
        "text": received.text,
        "kind": received.kind,
        "from_me": False,
        "sender_name": received.sender_name,
        "timestamp": received.received_at.isoformat(),
    }
    if received.reply_to:
        data["reply_to"] = received.reply_to
    if opted_out:
        data["opted_out"] = True
    if received.media is not None:
        data["media"] = {
            "url": media.media_link(received.media, kind=received.kind),
            "mime_type": received.media.mime_type,
            "file_name": received.media.file_name,
            "size": received.media.size,
        }
    data["content"] = dict(received.content)
    return data


# What each kind keeps.


def _content_of(
    instance: Instance, kind: str, given: dict, *, text: str, file_name: str
) -> dict:
    """The content of a kind in the webhook's terms, whatever extra keys or
    loose types the engine sent:
    image, video: caption?, view_once?, width?, height?, seconds?
    audio: ptt, seconds
    document: file_name, title?, page_count?
    location: latitude, longitude, name?, address?, url?
    contact: name, phone, vcard
    reaction: emoji, reaction_to, reaction_to_from_me
    sticker, text: nothing; link: url?, title?, description?"""
    content: dict = {}
    if kind in (K.IMAGE, K.VIDEO):
        if text:
            content["caption"] = text
        if "view_once" in given:
            content["view_once"] = bool(given["view_once"])
        for key in ("width", "height", "seconds"):
            if _int(given.get(key)) is not None:
                content[key] = _int(given[key])
    elif kind == K.AUDIO:
        content = {
            "ptt": bool(given.get("ptt")),
            "seconds": _int(given.get("seconds")) or 0,
        }
    elif kind == K.DOCUMENT:
        content["file_name"] = file_name
        if given.get("title"):
            content["title"] = str(given["title"])[:300]
        if _int(given.get("page_count")) is not None:
            content["page_count"] = _int(given["page_count"])
    elif kind == K.LOCATION:
        content = {
            "latitude": _float(given.get("latitude")),
            "longitude": _float(given.get("longitude")),
        }
        for key in ("name", "address", "url"):
            if given.get(key):
                content[key] = str(given[key])[:500]
    elif kind == K.CONTACT:
        content = _contact(given)
    elif kind == K.REACTION:
        reaction_to, from_me = _known_as(instance, str(given.get("reaction_to") or ""))
        content = {
            "emoji": str(given.get("emoji") or "")[:20],
            "reaction_to": reaction_to,
            "reaction_to_from_me": from_me or bool(given.get("reaction_to_from_me")),
        }
    elif kind == K.LINK:
        for key in ("url", "title", "description"):
            if given.get(key):
                content[key] = str(given[key])[:1000]
    return content


def _contact(given: dict) -> dict:
    name = str(given.get("name") or "").strip()[:100]
    raw = str(given.get("phone") or "")
    try:
        phone = phone_from_engine(raw)
    except ValidationError:
        phone = raw[:30]
    vcard = str(given.get("vcard") or "") or vcard_make(name=name, phone=phone)
    return {"name": name, "phone": phone, "vcard": vcard[:5000]}


def vcard_make(*, name: str, phone: str) -> str:
    """A contact card as WhatsApp writes one (waid: the number's digits)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    shown = phone_display(phone) if phone.startswith("+") else phone
    return (
        "BEGIN:VCARD\nVERSION:3.0\n"
        f"N:;{name};;;\nFN:{name}\n"
        f"TEL;type=CELL;waid={digits}:{shown}\n"
        "END:VCARD"
    )


def _known_as(instance: Instance, engine_id: str) -> tuple[str, bool]:
    """The id the customer knows a quoted or reacted-to message by, and
    whether the instance sent it: a message sent through the API is known by
    the id PlugMessage gave it, whatever the engine calls it."""
    if not engine_id:
        return "", False
    sent = (
        Message.objects.filter(instance=instance)
        .filter(Q(engine_message_id=engine_id) | Q(message_id=engine_id))
        .values_list("message_id", flat=True)
        .first()
    )
    return (sent, True) if sent else (engine_id, False)


# The file.


def _file_name_given(given: dict | None, content: dict) -> str:
    name = str((given or {}).get("file_name") or content.get("file_name") or "")
    return name.replace("/", "_").replace("\\", "_").strip()[:200]


def _media_keep(
    instance: Instance, kind: str, given: dict | None, content: dict
) -> tuple[MediaFile | None, str]:
    """Check and store the file of a media message: (stored, "") or (None,
    why it was not kept)."""
    if kind not in MEDIA_KINDS:
        return None, ""
    data = (given or {}).get("data") or b""
    if not isinstance(data, bytes) or not data:
        return None, _("O WhatsApp não entregou o arquivo desta mensagem.")
    file_name = _file_name_given(given, content)
    extension = file_name.rsplit(".", 1)[1] if "." in file_name else ""
    if not extension and kind == K.DOCUMENT:
        claimed = str((given or {}).get("mime_type") or "").split(";")[0].strip()
        extension = (mimetypes.guess_extension(claimed) or "").lstrip(".")
    try:
        checked = media.media_check(
            data, kind=kind, file_name=file_name, extension=extension
        )
    except media.MediaRefused as refused:
        logger.info("received %s of %s not kept: %s", kind, instance.pk, refused.code)
        return None, refused.message
    if not checked.file_name:
        checked = replace(
            checked,
            file_name=media.DEFAULT_NAMES[kind]
            + media.extension_for(checked.mime_type),
        )
    return media.media_store(instance=instance, media=checked), ""


def _discard(stored: MediaFile) -> None:
    stored.file.delete(save=False)
    stored.delete()


# Loose values from engines.


def _int(value) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _float(value) -> float:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _moment(value) -> datetime | None:
    """A datetime, or seconds (or WhatsApp's milliseconds) since the epoch."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    number = _int(value)
    if not number:
        return None
    if number > 10**11:
        number //= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
