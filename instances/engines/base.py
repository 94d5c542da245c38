"""The one interface between PlugMessage and a WhatsApp engine.

The rest of the code asks `instances.engines.engine_get()` for the engine chosen
by settings and never imports a concrete adapter. Engines import nothing from
views, forms or other apps; what they observe comes back as EngineEvent values
that `instances.services.engine_events_apply` turns into changes.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# How WhatsApp's pairing behaves: the first QR code lives about a minute, each
# next one about 20 s, and it gives up after six.
FIRST_CODE_LIFETIME = timedelta(seconds=60)
NEXT_CODE_LIFETIME = timedelta(seconds=20)
CODES_BEFORE_GIVING_UP = 6
# The header carrying the shared secret on every event an engine posts.
ENGINE_EVENTS_HEADER = "X-PlugMessage-Secret"


class EngineError(Exception):
    """The engine answered, but refused or failed the request."""


class EngineUnavailable(EngineError):
    """The engine could not be reached or timed out: try again later."""


class EngineRefused(EngineError):
    """The (simulated) phone refused: an expired code, another number."""


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
    # text (received) or message_id and status (sent, delivered, read, failed).
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
class EngineSession:
    """What an engine needs to address one instance: its name there and, for
    engines that issue one, the instance's own token."""

    engine_ref: str
    engine_token: str = ""


class Engine(abc.ABC):
    name: str

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

    def events_from_webhook(self, payload: dict) -> list[EngineEvent]:
        """Translate one inbound webhook body of this engine into events."""
        return []

    def tick(self) -> list[EngineEvent]:
        """Periodic work of an engine that has no process of its own (the
        simulator rotates its QR codes here)."""
        return []
