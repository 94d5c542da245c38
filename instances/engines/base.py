"""The one interface between PlugMessage and a WhatsApp engine.

The rest of the code asks `instances.engines.engine_get()` for the engine chosen
by settings and never imports a concrete adapter. Engines import nothing from
views, forms or other apps; what they observe comes back as EngineEvent values
that `instances.services.engine_events_apply` turns into changes.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.utils.translation import gettext as _

# How WhatsApp's pairing behaves: the first QR code lives about a minute, each
# next one about 20 s, and it gives up after six.
FIRST_CODE_LIFETIME = timedelta(seconds=60)
NEXT_CODE_LIFETIME = timedelta(seconds=20)
CODES_BEFORE_GIVING_UP = 6
# The header carrying the shared secret on every event an engine posts.
ENGINE_EVENTS_HEADER = "X-PlugMessage-Secret"


class EngineError(Exception):
    """The engine answered, but refused or failed the request. Its text is
    the engine's own (often English, sometimes with a number in it): for the
    logs; a customer reads `engine_error_text(error)` instead."""


class EngineUnavailable(EngineError):
    """The engine could not be reached or timed out: try again later."""


class EngineRefused(EngineError):
    """The (simulated) phone refused: an expired code, another number."""


class EngineNotOnWhatsApp(EngineRefused):
    """The number a message was sent to has no WhatsApp account."""


class EngineNotConnected(EngineError):
    """The engine has no open session for the instance."""


class EngineUnsupported(EngineError):
    """The engine chosen by settings cannot do this."""

    def __init__(self, engine: str, capability: str):
        super().__init__(f"the {engine} engine does not support {capability}")
        self.capability = capability


def engine_error_text(error: EngineError, *, sending: bool = False) -> str:
    """What a customer reads for an engine's error, in Portuguese: the
    panel, the API and webhooks never show the engine's own text.
    `sending`: the error failed a message (not another request)."""
    if isinstance(error, EngineNotOnWhatsApp):
        return _("Este número não tem WhatsApp.")
    if isinstance(error, EngineNotConnected):
        return _("A instância não está conectada ao WhatsApp.")
    if isinstance(error, EngineUnavailable):
        return _("O serviço do WhatsApp não respondeu. Tente de novo em instantes.")
    if isinstance(error, EngineUnsupported):
        if sending:
            return _("O motor do WhatsApp em uso não envia este tipo de mensagem.")
        return _("O motor do WhatsApp em uso não oferece este recurso.")
    if sending:
        return _("O WhatsApp recusou esta mensagem.")
    return _("O WhatsApp recusou o pedido.")


# A phone number (or a WhatsApp id) in an engine's text: personal data.
_LONG_NUMBER = re.compile(r"\d{8,}")


def engine_error_detail(error: EngineError) -> str:
    """The engine's own text of an error, for the logs (staff read it
    there), with phone numbers masked."""
    return _LONG_NUMBER.sub("[…]", f"{error.__class__.__name__}: {error}")[:500]


@dataclass(frozen=True)
class SessionStart:
    """What the engine gave back when asked to start a connection."""

    qr_code: str = ""
    pairing_code: str = ""
    expires_at: datetime | None = None
    engine_token: str = ""


SessionState = Literal["open", "connecting", "close"]

EventKind = Literal[
    "qr_updated",
    "qr_gave_up",
    "connected",
    "disconnected",
    # Messages: `phone_number` is the contact; `extra` carries message_id and
    # status (sent, delivered, read, failed), or for a received message:
    # message_id, kind, text (or caption), sender_name, reply_to, timestamp,
    # content (per kind, see instances.inbound) and, for media, the file:
    # media={"data": bytes, "mime_type": str, "file_name": str}.
    "message_received",
    "message_status",
    # A contact typing, recording or online: `phone_number` is the contact,
    # `extra["presence"]` one of available, unavailable, composing, recording.
    "chat_presence",
]
MessageStatus = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class EngineEvent:
    kind: EventKind
    engine_ref: str
    qr_code: str = ""
    pairing_code: str = ""
    expires_at: datetime | None = None
    phone_number: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for the engine to send. `to` is E.164; `text` is the text
    of a text or link message and the caption of media; `content` holds what
    the kind carries besides (see each send method); `reply_to` is the
    engine's id of the quoted message, and `reply_to_from_me` says whether
    that message was sent by this number (WhatsApp addresses a reaction by
    both); `message_id` is the id PlugMessage assigned, which an engine that
    lets the sender choose ids uses."""

    to: str
    kind: str = "text"
    text: str = ""
    content: dict = field(default_factory=dict)
    media: bytes = b""
    media_mime: str = ""
    file_name: str = ""
    # The MediaFile the bytes came from (the in-process simulator shows it).
    media_id: str = ""
    reply_to: str = ""
    reply_to_from_me: bool = False
    message_id: str = ""


@dataclass(frozen=True)
class Device:
    """What the engine knows of the number's own WhatsApp account."""

    phone: str = ""
    name: str = ""
    about: str = ""
    picture_url: str = ""
    device_model: str = ""
    platform: str = ""
    is_business: bool = False


@dataclass(frozen=True)
class EngineSession:
    """What an engine needs to address one instance: its name there and, for
    engines that issue one, the instance's own token."""

    engine_ref: str
    engine_token: str = ""


class Engine(abc.ABC):
    name: str
    # Whether messages_send hands a whole batch over at once (one write, one
    # request); otherwise it goes one message a request, and a batch can
    # take long enough for the sender to renew its claims as it goes.
    sends_in_batches = False

    @abc.abstractmethod
    def session_start(
        self, session: EngineSession, *, phone_number: str = ""
    ) -> SessionStart:
        """Start (or restart) pairing. With `phone_number`, ask for an
        8-character pairing code instead of a QR code."""

    @abc.abstractmethod
    def session_state(self, session: EngineSession) -> SessionState: ...

    @abc.abstractmethod
    def session_logout(self, session: EngineSession) -> None:
        """End the WhatsApp session; idempotent."""

    @abc.abstractmethod
    def session_delete(self, session: EngineSession) -> None:
        """Forget the session altogether; idempotent."""

    @abc.abstractmethod
    def message_send_text(self, session: EngineSession, *, to: str, text: str) -> str:
        """Send a text message; return the engine's message id."""

    # One method per capability. Each send returns the engine's message id
    # and raises EngineUnavailable (try again) or EngineError (refused).

    def messages_send(
        self, session: EngineSession, messages: list[OutgoingMessage]
    ) -> list:
        """Send several messages of one session, in order, each by the
        method of its kind. Returns one entry per message: its id at the
        engine, or the EngineError that refused it. When the engine cannot be
        reached the list ends with that EngineUnavailable: that message and
        those after it were not sent. An engine that can send a batch in one
        request (the simulator: one write) overrides this."""
        results: list = []
        for message in messages:
            try:
                results.append(self.message_send_any(session, message))
            except EngineUnavailable as error:
                results.append(error)
                break
            except EngineError as error:
                results.append(error)
        return results

    def message_send_any(self, session: EngineSession, message: OutgoingMessage) -> str:
        """Send one message by the method of its kind."""
        method = {
            "text": self.message_send,
            "image": self.message_send_media,
            "video": self.message_send_media,
            "document": self.message_send_media,
            "sticker": self.message_send_media,
            "audio": self.message_send_audio,
            "location": self.message_send_location,
            "contact": self.message_send_contact,
            "reaction": self.message_send_reaction,
            "link": self.message_send_link,
        }[message.kind]
        return method(session, message)

    def message_send(self, session: EngineSession, message: OutgoingMessage) -> str:
        """Send a text message with its options (reply, chosen id)."""
        raise EngineUnsupported(self.name, "message_send")

    def message_send_media(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """Send an image, video, document or sticker: `media` bytes of
        `media_mime`, `text` the caption, `file_name` for documents,
        `content["view_once"]`."""
        raise EngineUnsupported(self.name, "message_send_media")

    def message_send_audio(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """Send audio; `content["ptt"]` makes it a voice note."""
        raise EngineUnsupported(self.name, "message_send_audio")

    def message_send_location(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """`content`: latitude, longitude (floats), title, address."""
        raise EngineUnsupported(self.name, "message_send_location")

    def message_send_contact(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """`content`: name, phone (E.164), business_description."""
        raise EngineUnsupported(self.name, "message_send_contact")

    def message_send_reaction(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """`content`: emoji; `reply_to` the message reacted to."""
        raise EngineUnsupported(self.name, "message_send_reaction")

    def message_send_link(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        """`text` ends with the link; `content`: url, title, description;
        `media` the preview image (may be empty)."""
        raise EngineUnsupported(self.name, "message_send_link")

    def chat_presence_send(
        self, session: EngineSession, *, to: str, presence: str, seconds: int
    ) -> None:
        """Show "composing" or "recording" to `to` for about `seconds`."""
        raise EngineUnsupported(self.name, "chat_presence_send")

    def phone_exists(self, session: EngineSession, *, phone: str) -> tuple[bool, str]:
        """Whether `phone` (E.164) has WhatsApp; with its LID when known."""
        raise EngineUnsupported(self.name, "phone_exists")

    def message_read(self, session: EngineSession, *, phone: str, message_id: str):
        """Mark a received message as read (blue ticks)."""
        raise EngineUnsupported(self.name, "message_read")

    def message_delete(
        self, session: EngineSession, *, phone: str, message_id: str, from_me: bool
    ) -> None:
        """Delete a message for everyone."""
        raise EngineUnsupported(self.name, "message_delete")

    def profile_name_set(self, session: EngineSession, *, name: str) -> None:
        raise EngineUnsupported(self.name, "profile_name_set")

    def profile_about_set(self, session: EngineSession, *, about: str) -> None:
        raise EngineUnsupported(self.name, "profile_about_set")

    def profile_picture_set(
        self, session: EngineSession, *, image: bytes, mime_type: str
    ) -> None:
        raise EngineUnsupported(self.name, "profile_picture_set")

    def device_get(self, session: EngineSession) -> Device:
        raise EngineUnsupported(self.name, "device_get")

    def session_restart(self, session: EngineSession) -> None:
        """Restart the connection of an open session, keeping it logged in."""
        raise EngineUnsupported(self.name, "session_restart")

    def events_from_webhook(self, payload: dict) -> list[EngineEvent]:
        """Translate one inbound webhook body of this engine into events."""
        return []

    def tick(self) -> list[EngineEvent]:
        """Periodic work of an engine that has no process of its own (the
        simulator rotates its QR codes here)."""
        return []
