"""Evolution API v2 (2.3.x) adapter, over httpx.

Each PlugMessage instance is an Evolution instance named by its `engine_ref`;
the token Evolution issues at creation (`hash`) is kept as that instance's
`apikey`. The global key creates instances and fetches the media of inbound
messages (events carry no instance token). Evolution posts its events to
PlugMessage's /motor/eventos/ with a shared-secret header.

What Evolution does that a caller would not expect, and what this adapter
does about it (sources in tests/instances/fixtures/evolution/NOTES.md):
- connect may answer `{"count": 0}` (no QR yet): the start carries no code and
  the QR arrives later in a `qrcode.updated` event;
- a pairing code may not be there yet, or never for a QR session that began
  without the number: connect is asked again, a bounded number of times;
- logout answers before the session is closed: the adapter waits until
  connectionState says "close" before a new session starts;
- some errors come back as HTTP 200 with `{"error": true}`: treated as errors;
- the QR limit is announced twice (qrcode "limit", then connection "refused"):
  only the second becomes a give-up;
- a connection closes with a reason only for 401, 402, 403 and 406; any other
  code (440 among them) is reconnected silently;
- `messages.update` also reports received messages: only ours are receipts;
- contacts may be addressed by LID (`@lid`): the phone is taken from
  `remoteJidAlt`/`senderPn`, and what has none is skipped with a log line;
- `open` does not promise that sends work: a failed send is reported as such;
- timeouts and 5xx: EngineUnavailable, so callers leave the instance unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from collections.abc import Callable

import httpx
from django.conf import settings
from django.urls import reverse

from instances.engines.base import (
    ENGINE_EVENTS_HEADER,
    Device,
    Engine,
    EngineError,
    EngineEvent,
    EngineNotConnected,
    EngineNotOnWhatsApp,
    EngineSession,
    EngineUnavailable,
    EngineUnsupported,
    OutgoingMessage,
    SessionStart,
    SessionState,
)

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Media is converted (images by sharp, voice notes by ffmpeg) and uploaded to
# WhatsApp before Evolution answers.
MEDIA_TIMEOUT = httpx.Timeout(90.0, connect=5.0)

# Not SEND_MESSAGE: Evolution emits it only for messages sent through its own
# API (sendMessageWithTyping), that is PlugMessage's own sends, whose ids the
# send's answer already gave; with base64 on it would post every sent file
# back. Messages sent from the phone arrive as MESSAGES_UPSERT with fromMe.
SUBSCRIBED_EVENTS = [
    "QRCODE_UPDATED",
    "CONNECTION_UPDATE",
    "LOGOUT_INSTANCE",
    "MESSAGES_UPSERT",
    "MESSAGES_UPDATE",
    "PRESENCE_UPDATE",
]
# The only reasons Evolution closes on (it reconnects on every other code
# without a word): WhatsApp's connect-failure codes, as the customer should
# read them.
CLOSE_REASONS = {
    401: "O WhatsApp desconectou este aparelho (removido em Aparelhos conectados)",
    402: "O WhatsApp suspendeu este número temporariamente",
    403: "O WhatsApp encerrou o acesso deste número (conta restrita ou "
    "desconectada no celular principal)",
    406: "O WhatsApp encerrou a sessão deste número (conta banida ou "
    "desconectada por motivo não informado)",
}

# Evolution's (Baileys') message statuses, in PlugMessage's words.
STATUSES = {
    "SERVER_ACK": "sent",
    "DELIVERY_ACK": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "ERROR": "failed",
}

# How many connect answers are read for a pairing code, and the pause between.
PAIRING_CODE_TRIES = 3
PAIRING_CODE_PAUSE = 2.0
# How long a logout is waited for (connectionState polls, and the pause).
LOGOUT_WAIT_POLLS = 10
LOGOUT_WAIT_PAUSE = 0.5

# The name WhatsApp keeps with a video; Evolution takes the type from it.
VIDEO_EXTENSIONS = {"video/mp4": "mp4", "video/3gpp": "3gp", "video/quicktime": "mov"}
# Inbound message types, in PlugMessage's kinds.
MESSAGE_KINDS = {
    "conversation": "text",
    "extendedTextMessage": "text",
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
    "locationMessage": "location",
    "contactMessage": "contact",
    "contactsArrayMessage": "contact",
    "reactionMessage": "reaction",
}
MEDIA_KINDS = {"image", "video", "audio", "document", "sticker"}
# Envelopes WhatsApp puts around a message.
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
PHONE_JID = "@s.whatsapp.net"


class EvolutionNotFound(EngineError):
    pass


class EvolutionNameInUse(EngineError):
    pass


def _message(body) -> str:
    """Evolution's reason, which comes as a string, a list of strings, a list
    of lists or a list of objects."""
    if not isinstance(body, dict):
        return str(body)[:200]
    response = body.get("response")
    message = response.get("message") if isinstance(response, dict) else None
    if message is None:
        message = body.get("message", "")
    return _flatten(message)[:200]


def _not_on_whatsapp(body) -> bool:
    """Whether Evolution refused a send because the number has no WhatsApp
    (its answer lists the number with exists: false)."""
    response = body.get("response") if isinstance(body, dict) else None
    message = response.get("message") if isinstance(response, dict) else None
    return isinstance(message, list) and any(
        isinstance(part, dict) and part.get("exists") is False for part in message
    )


def _flatten(message) -> str:
    if isinstance(message, list):
        return "; ".join(part for part in map(_flatten, message) if part)
    if isinstance(message, dict):
        if message.get("exists") is False:
            number = message.get("number") or message.get("jid", "")
            return f"the number {number} is not on WhatsApp"
        return json.dumps(message, ensure_ascii=False)
    return "" if message is None else str(message)


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone.split("@")[0] if ch.isdigit())


def _jid(phone: str) -> str:
    return f"{_digits(phone)}{PHONE_JID}"


def _is_phone_jid(jid) -> bool:
    return isinstance(jid, str) and jid.endswith(PHONE_JID)


def _phone_jid(key: dict) -> str:
    """The contact's phone JID: the chat's own, or for a chat addressed by LID
    the alternative Baileys 7 (`remoteJidAlt`) or 6 (`senderPn`) gives."""
    for jid in (key.get("remoteJid"), key.get("remoteJidAlt"), key.get("senderPn")):
        if _is_phone_jid(jid):
            return jid
    return ""


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _vcard_phone(vcard: str) -> str:
    """The number of a contact card: WhatsApp's `waid`, else the first TEL."""
    found = re.search(r"waid=(\d{8,15})", vcard)
    if found:
        return "+" + found.group(1)
    for line in vcard.splitlines():
        if line.upper().split(";")[0].split(".")[-1].startswith("TEL"):
            digits = _digits(line.rsplit(":", 1)[-1])
            if 8 <= len(digits) <= 15:
                return "+" + digits
    return ""


def _unwrap(message: dict) -> tuple[dict, bool]:
    """The message inside WhatsApp's envelopes, and whether one of them was
    a view-once envelope."""
    view_once = False
    for _ in range(len(WRAPPERS)):
        for wrapper in WRAPPERS:
            inner = (message.get(wrapper) or {}).get("message")
            if isinstance(inner, dict):
                message = inner
                view_once = view_once or wrapper.startswith("viewOnce")
                break
        else:
            break
    return message, view_once


class EvolutionEngine(Engine):
    name = "evolution"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        self.api_key = api_key if api_key is not None else settings.EVOLUTION_API_KEY
        self.client = httpx.Client(
            base_url=base_url or settings.EVOLUTION_API_URL,
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))

    def _request(
        self,
        method: str,
        path: str,
        *,
        apikey: str,
        timeout: httpx.Timeout = TIMEOUT,
        **kwargs,
    ) -> dict | list:
        try:
            response = self.client.request(
                method, path, headers={"apikey": apikey}, timeout=timeout, **kwargs
            )
        except httpx.TimeoutException as error:
            raise EngineUnavailable(f"Evolution timed out: {error}") from error
        except httpx.TransportError as error:
            raise EngineUnavailable(f"Evolution unreachable: {error}") from error
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 500:
            raise EngineUnavailable(
                f"Evolution {response.status_code}: {_message(body)}"
            )
        if response.status_code == 404:
            raise EvolutionNotFound(_message(body))
        if response.status_code == 403 and "already in use" in _message(body):
            raise EvolutionNameInUse(_message(body))
        if response.status_code >= 400:
            text = f"Evolution {response.status_code}: {_message(body)}"
            if _not_on_whatsapp(body):
                raise EngineNotOnWhatsApp(text)
            if "not connected" in text.lower():
                raise EngineNotConnected(text)
            raise EngineError(text)
        if not isinstance(body, dict | list):
            raise EngineError(
                f"Evolution answered something that is not JSON: {body!r:.200}"
            )
        if isinstance(body, dict) and body.get("error") is True:
            # Evolution wraps some failures in an HTTP 200.
            raise EngineError(f"Evolution error: {_message(body)}")
        return body

    def _key(self, session: EngineSession) -> str:
        return session.engine_token or self.api_key

    def _call(self, session: EngineSession, method: str, route: str, **kwargs):
        """A route of the instance, as `<group>/<action>`, with its token."""
        return self._request(
            method,
            f"/{route}/{session.engine_ref}",
            apikey=self._key(session),
            **kwargs,
        )

    # The session.

    def _create(self, session: EngineSession) -> str:
        """Create the instance at Evolution; return its token. If it exists
        already (a create whose answer was lost), go on with the global key,
        which Evolution accepts for every instance."""
        try:
            body = self._create_request(session)
        except EvolutionNameInUse:
            return ""
        token = body.get("hash", "")
        if isinstance(token, dict):  # Evolution v1 shape
            token = token.get("apikey", "")
        return token

    def _create_request(self, session: EngineSession) -> dict:
        return self._request(
            "POST",
            "/instance/create",
            apikey=self.api_key,
            json={
                "instanceName": session.engine_ref,
                "integration": "WHATSAPP-BAILEYS",
                "qrcode": False,
                "webhook": {
                    "enabled": True,
                    "url": settings.SITE_URL + reverse("engine_events"),
                    "headers": {ENGINE_EVENTS_HEADER: settings.ENGINE_EVENTS_SECRET},
                    "byEvents": False,
                    # The bytes of received media ride in the event itself.
                    "base64": True,
                    "events": SUBSCRIBED_EVENTS,
                },
            },
        )

    def session_start(
        self, session: EngineSession, *, phone_number: str = ""
    ) -> SessionStart:
        token = session.engine_token or self._create(session)
        session = EngineSession(session.engine_ref, token)
        params = {"number": phone_number} if phone_number else None
        try:
            body = self._connect(session, params)
        except EvolutionNotFound:
            # Evolution removes idle instances on its own: create it again.
            token = self._create(EngineSession(session.engine_ref))
            session = EngineSession(session.engine_ref, token)
            body = self._connect(session, params)
        if "instance" in body:
            # Evolution holds an open session PlugMessage does not know about:
            # close it so the customer gets a fresh code.
            self._close_before_connecting(session)
            body = self._connect(session, params)
        if phone_number:
            body = self._pairing_code_wait(session, params, body)
        return SessionStart(
            qr_code=body.get("code") or "",
            pairing_code=(body.get("pairingCode") or "") if phone_number else "",
            engine_token=token,
        )

    def _connect(self, session: EngineSession, params: dict | None) -> dict:
        return self._call(session, "GET", "instance/connect", params=params)

    def _pairing_code_wait(
        self, session: EngineSession, params: dict, body: dict
    ) -> dict:
        """Connect answers before Baileys has asked WhatsApp for the code (it
        waits a fixed 2 s): ask again until it is there. A QR session that
        began without the number (`pairingCode: null` beside a QR) keeps
        answering with its QR until it ends, so it is closed once first."""
        closed_qr_session = False
        for _ in range(PAIRING_CODE_TRIES - 1):
            if body.get("pairingCode"):
                return body
            if (
                body.get("code")
                and "pairingCode" in body
                and body["pairingCode"] is None
                and not closed_qr_session
            ):
                self._close_before_connecting(session)
                closed_qr_session = True
            else:
                self._sleep(PAIRING_CODE_PAUSE)
            body = self._connect(session, params)
        if body.get("pairingCode"):
            return body
        raise EngineError(
            f"Evolution gave no pairing code in {PAIRING_CODE_TRIES} tries"
        )

    def _close_before_connecting(self, session: EngineSession) -> None:
        self._logout(session)
        if not self._wait_closed(session):
            raise EngineUnavailable("Evolution has not closed the previous session yet")

    def session_state(self, session: EngineSession) -> SessionState:
        try:
            body = self._call(session, "GET", "instance/connectionState")
        except EvolutionNotFound:
            return "close"
        state = (body.get("instance") or {}).get("state")
        return state if state in ("open", "connecting") else "close"

    def _wait_closed(self, session: EngineSession) -> bool:
        """Evolution answers a logout before Baileys has closed the socket
        (the logout is not awaited): wait, bounded, until it says "close"."""
        for poll in range(LOGOUT_WAIT_POLLS):
            if poll:
                self._sleep(LOGOUT_WAIT_PAUSE)
            if self.session_state(session) == "close":
                return True
        return False

    def _logout(self, session: EngineSession) -> bool:
        """Ask Evolution to log out; False when there was nothing to log out."""
        try:
            self._call(session, "DELETE", "instance/logout")
        except EvolutionNotFound:
            return False
        except EngineUnavailable:
            raise
        except EngineError as error:
            # Logging out a session that is not connected is not a failure.
            if "not connected" not in str(error).lower():
                raise
            return False
        return True

    def session_logout(self, session: EngineSession) -> None:
        if self._logout(session) and not self._wait_closed(session):
            logger.warning(
                "evolution session %s still open after logout", session.engine_ref
            )

    def session_delete(self, session: EngineSession) -> None:
        try:
            self._call(session, "DELETE", "instance/delete")
        except EvolutionNotFound:
            return

    def session_restart(self, session: EngineSession) -> None:
        self._call(session, "POST", "instance/restart")

    # Sending. Every send answers with the prepared message; `key.id` is
    # WhatsApp's id, which receipts (`keyId`) refer to. Evolution lets no
    # caller choose the id, so OutgoingMessage.message_id is not sent.

    def _send(
        self,
        session: EngineSession,
        route: str,
        body: dict,
        *,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> str:
        answer = self._call(
            session, "POST", f"message/{route}", json=body, timeout=timeout
        )
        message_id = (
            (answer.get("key") or {}).get("id") if isinstance(answer, dict) else None
        )
        if not message_id:
            raise EngineError("Evolution accepted the message without an id")
        return message_id

    @staticmethod
    def _addressed(message: OutgoingMessage, **fields) -> dict:
        body = {"number": _digits(message.to), **fields}
        if message.reply_to:
            # Evolution finds the quoted message in its own store by id.
            body["quoted"] = {"key": {"id": message.reply_to}}
        return body

    def message_send_text(self, session: EngineSession, *, to: str, text: str) -> str:
        return self.message_send(session, OutgoingMessage(to=to, text=text))

    def message_send(self, session: EngineSession, message: OutgoingMessage) -> str:
        return self._send(
            session, "sendText", self._addressed(message, text=message.text)
        )

    def message_send_link(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        # Evolution builds the preview itself from the page (Baileys fetches
        # its title, description and image); it takes none from the caller.
        text = message.text
        url = message.content.get("url", "")
        if url and url not in text:
            text = f"{text}\n{url}".strip()
        return self._send(
            session, "sendText", self._addressed(message, text=text, linkPreview=True)
        )

    def message_send_media(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        if message.content.get("view_once"):
            # sendMedia has no view-once option: sent plainly, the photo would
            # stay in the chat, which is what the sender asked not to happen.
            raise EngineUnsupported(self.name, "view_once")
        media = base64.b64encode(message.media).decode()
        if message.kind == "sticker":
            # Evolution turns the image into WebP itself; a WebP is sent as it
            # is, which keeps an animated sticker animated.
            return self._send(
                session,
                "sendSticker",
                self._addressed(
                    message,
                    sticker=media,
                    notConvertSticker=message.media_mime == "image/webp",
                ),
                timeout=MEDIA_TIMEOUT,
            )
        if message.kind not in ("image", "video", "document"):
            raise EngineUnsupported(self.name, f"media of kind {message.kind}")
        fields = {"mediatype": message.kind, "mimetype": message.media_mime}
        if message.text:
            fields["caption"] = message.text
        # Evolution takes the type from the file name when there is one, and
        # names a nameless video "video.mp4"; an image it re-encodes as JPEG.
        if message.kind == "video":
            extension = VIDEO_EXTENSIONS.get(message.media_mime, "mp4")
            fields["fileName"] = message.file_name or f"video.{extension}"
        elif message.kind == "document":
            fields["fileName"] = message.file_name or "documento"
        fields["media"] = media
        return self._send(
            session,
            "sendMedia",
            self._addressed(message, **fields),
            timeout=MEDIA_TIMEOUT,
        )

    def message_send_audio(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        if message.content.get("view_once"):
            raise EngineUnsupported(self.name, "view_once")
        media = base64.b64encode(message.media).decode()
        if message.content.get("ptt"):
            # A voice note: Evolution converts it to Opus with ffmpeg. It
            # drops `quoted` on this route, so a voice note never quotes.
            return self._send(
                session,
                "sendWhatsAppAudio",
                {"number": _digits(message.to), "audio": media, "encoding": True},
                timeout=MEDIA_TIMEOUT,
            )
        return self._send(
            session,
            "sendMedia",
            self._addressed(
                message, mediatype="audio", mimetype=message.media_mime, media=media
            ),
            timeout=MEDIA_TIMEOUT,
        )

    def message_send_location(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        content = message.content
        return self._send(
            session,
            "sendLocation",
            self._addressed(
                message,
                latitude=float(content["latitude"]),
                longitude=float(content["longitude"]),
                # Both are required by Evolution's schema, empty or not.
                name=content.get("title") or "",
                address=content.get("address") or "",
            ),
        )

    def message_send_contact(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        content = message.content
        phone = content.get("phone", "")
        contact = {
            "fullName": content.get("name", ""),
            # Without it Evolution writes a whole JID into the card's waid.
            "wuid": _digits(phone),
            "phoneNumber": phone,
        }
        if content.get("business_description"):
            contact["organization"] = content["business_description"]
        # Evolution's sendContact takes no `quoted`.
        return self._send(
            session,
            "sendContact",
            {"number": _digits(message.to), "contact": [contact]},
        )

    def message_send_reaction(
        self, session: EngineSession, message: OutgoingMessage
    ) -> str:
        if not message.reply_to:
            raise EngineError("a reaction needs the message it reacts to")
        return self._send(
            session,
            "sendReaction",
            {
                "key": {
                    "remoteJid": _jid(message.to),
                    "fromMe": message.reply_to_from_me,
                    "id": message.reply_to,
                },
                "reaction": message.content.get("emoji", ""),
            },
        )

    # Chats, the number and its profile.

    def chat_presence_send(
        self, session: EngineSession, *, to: str, presence: str, seconds: int
    ) -> None:
        # Evolution answers only when the presence has been shown for
        # `delay` ms (then it sends "paused"): the request lasts that long.
        self._call(
            session,
            "POST",
            "chat/sendPresence",
            json={"number": _digits(to), "presence": presence, "delay": seconds * 1000},
            timeout=httpx.Timeout(TIMEOUT.read + seconds, connect=TIMEOUT.connect),
        )

    def phone_exists(self, session: EngineSession, *, phone: str) -> tuple[bool, str]:
        answer = self._call(
            session, "POST", "chat/whatsappNumbers", json={"numbers": [_digits(phone)]}
        )
        for entry in answer if isinstance(answer, list) else []:
            if isinstance(entry, dict):
                jid = entry.get("jid") or ""
                # `lid` in the answer is only the marker "lid"; the LID itself
                # is there when Evolution knows the contact by it.
                return entry.get("exists") is True, jid if jid.endswith("@lid") else ""
        raise EngineError("Evolution answered whatsappNumbers without the number")

    def message_read(self, session: EngineSession, *, phone: str, message_id: str):
        if not phone:
            raise EngineError("Evolution needs the chat's number to mark a read")
        # Evolution drops, without a word, keys whose remoteJid is not a JID.
        self._call(
            session,
            "POST",
            "chat/markMessageAsRead",
            json={
                "readMessages": [
                    {"remoteJid": _jid(phone), "fromMe": False, "id": message_id}
                ]
            },
        )

    def message_delete(
        self, session: EngineSession, *, phone: str, message_id: str, from_me: bool
    ) -> None:
        if not phone:
            raise EngineError("Evolution needs the chat's number to delete")
        self._call(
            session,
            "DELETE",
            "chat/deleteMessageForEveryone",
            json={"id": message_id, "remoteJid": _jid(phone), "fromMe": from_me},
        )

    def profile_name_set(self, session: EngineSession, *, name: str) -> None:
        self._call(session, "POST", "chat/updateProfileName", json={"name": name})

    def profile_about_set(self, session: EngineSession, *, about: str) -> None:
        if not about.strip():
            # Evolution's schema refuses an empty status.
            raise EngineError("Evolution cannot clear the profile's about text")
        self._call(session, "POST", "chat/updateProfileStatus", json={"status": about})

    def profile_picture_set(
        self, session: EngineSession, *, image: bytes, mime_type: str
    ) -> None:
        # Evolution restarts the connection after it (reloadConnection).
        self._call(
            session,
            "POST",
            "chat/updateProfilePicture",
            json={"picture": base64.b64encode(image).decode()},
            timeout=MEDIA_TIMEOUT,
        )

    def device_get(self, session: EngineSession) -> Device:
        # chat/fetchProfile without a number reads the instance wrongly in
        # 2.3.x (no name, no picture): the number, name and picture come from
        # fetchInstances, the about text and business flag from fetchProfile
        # asked for that number.
        rows = self._request(
            "GET",
            "/instance/fetchInstances",
            apikey=self._key(session),
            params={"instanceName": session.engine_ref},
        )
        row = next(
            (
                row
                for row in (rows if isinstance(rows, list) else [])
                if isinstance(row, dict) and row.get("name") == session.engine_ref
            ),
            None,
        )
        if row is None:
            raise EngineError("Evolution does not know this instance")
        if row.get("connectionStatus") != "open":
            raise EngineNotConnected("session is not open")
        phone = _digits(row.get("ownerJid") or "")
        profile = (
            self._call(session, "POST", "chat/fetchProfile", json={"number": phone})
            if phone
            else {}
        )
        about = profile.get("status")
        if isinstance(about, dict):  # Baileys 7: {status, setAt}
            about = about.get("status")
        return Device(
            phone=f"+{phone}" if phone else "",
            name=row.get("profileName") or "",
            about=about if isinstance(about, str) else "",
            picture_url=row.get("profilePicUrl") or profile.get("picture") or "",
            is_business=profile.get("isBusiness") is True,
        )

    # Events.

    def events_from_webhook(self, payload: dict) -> list[EngineEvent]:
        kind = str(payload.get("event", "")).lower().replace("_", ".")
        ref = str(payload.get("instance") or "")
        data = payload.get("data") or {}
        if not ref or not isinstance(data, dict):
            return []
        if kind == "qrcode.updated":
            qrcode = data.get("qrcode")
            if qrcode and qrcode.get("code"):
                return [
                    EngineEvent(
                        "qr_updated",
                        ref,
                        qr_code=qrcode["code"],
                        pairing_code=qrcode.get("pairingCode") or "",
                    )
                ]
            # The "QR code limit reached" message: Evolution follows it with
            # connection.update "refused", which is the one give-up.
            return []
        if kind == "connection.update":
            return self._connection_update(ref, data, payload)
        if kind == "messages.upsert":
            return self._upserted(ref, data)
        if kind == "messages.update":
            return self._updated(ref, data)
        if kind == "presence.update":
            return self._presences(ref, data)
        # logout.instance: Evolution emits it on the same path as the close
        # that follows it (the close carries the reason), so it adds nothing.
        # send.message: PlugMessage's own sends (see SUBSCRIBED_EVENTS), from
        # instances subscribed before it was left out.
        return []

    def _connection_update(self, ref: str, data: dict, payload: dict):
        state = data.get("state")
        if state == "open":
            number = data.get("wuid") or payload.get("sender") or ""
            return (
                [EngineEvent("connected", ref, phone_number=number)] if number else []
            )
        if state == "refused":
            return [EngineEvent("qr_gave_up", ref)]
        if state == "close":
            reason = CLOSE_REASONS.get(data.get("statusReason"), "")
            return [EngineEvent("disconnected", ref, reason=reason)]
        return []

    def _upserted(self, ref: str, data: dict) -> list[EngineEvent]:
        key = data.get("key") or {}
        message_id = key.get("id")
        if not message_id:
            return []
        chat = str(key.get("remoteJid") or "")
        if chat.endswith(("@g.us", "@broadcast", "@newsletter")):
            return []
        phone = _phone_jid(key)
        if not phone:
            logger.info(
                "evolution message %s: no phone for its LID, skipped", message_id
            )
            return []
        if key.get("fromMe"):
            # Sent from the phone or another linked device (Evolution's own
            # sends never come back here): it left this number.
            return [
                EngineEvent(
                    "message_status",
                    ref,
                    phone_number=phone,
                    extra={"message_id": message_id, "status": "sent"},
                )
            ]
        received = self._received(ref, data)
        if received is None:
            logger.info(
                "evolution message %s of type %s not handled",
                message_id,
                data.get("messageType"),
            )
            return []
        return [
            EngineEvent(
                "message_received",
                ref,
                phone_number=phone,
                extra={"message_id": message_id, **received},
            )
        ]

    def _received(self, ref: str, data: dict) -> dict | None:
        """What a received message says: its kind, text (or caption), sender
        name, the message it replies to, what its kind carries, and its media."""
        message, view_once = _unwrap(data.get("message") or {})
        type_ = data.get("messageType")
        if type_ not in MESSAGE_KINDS or type_ not in message:
            type_ = next((name for name in MESSAGE_KINDS if name in message), None)
        if type_ is None:
            return None
        kind = MESSAGE_KINDS[type_]
        body = message.get(type_)
        body = body if isinstance(body, dict) else {}
        context = data.get("contextInfo") or body.get("contextInfo") or {}
        text, content = "", {}
        if kind == "text":
            text = message.get("conversation") or body.get("text") or ""
        elif kind in ("image", "video"):
            text = body.get("caption") or ""
            content = {
                "caption": text,
                "view_once": view_once or body.get("viewOnce") is True,
                "width": _int(body.get("width")),
                "height": _int(body.get("height")),
                "seconds": _int(body.get("seconds")),
            }
        elif kind == "audio":
            content = {
                "ptt": body.get("ptt") is True,
                "seconds": _int(body.get("seconds")),
            }
        elif kind == "document":
            text = body.get("caption") or ""
            content = {
                "file_name": body.get("fileName") or "",
                "title": body.get("title") or "",
                "page_count": _int(body.get("pageCount")),
            }
        elif kind == "sticker":
            content = {
                "animated": body.get("isAnimated") is True,
                "width": _int(body.get("width")),
                "height": _int(body.get("height")),
            }
        elif kind == "location":
            content = {
                "latitude": _float(body.get("degreesLatitude")),
                "longitude": _float(body.get("degreesLongitude")),
                "name": body.get("name") or "",
                "address": body.get("address") or "",
                "url": body.get("url") or "",
            }
        elif kind == "contact":
            card = body
            if type_ == "contactsArrayMessage":  # only the first card is kept
                card = next(iter(body.get("contacts") or []), {})
            vcard = card.get("vcard") or ""
            content = {
                "name": card.get("displayName") or "",
                "phone": _vcard_phone(vcard),
                "vcard": vcard,
            }
        elif kind == "reaction":
            reacted = body.get("key") or {}
            content = {
                "emoji": body.get("text") or "",
                "reaction_to": reacted.get("id") or "",
                "reaction_to_from_me": reacted.get("fromMe") is True,
            }
        received = {
            "kind": kind,
            "text": text,
            "sender_name": data.get("pushName") or "",
            "reply_to": context.get("stanzaId") or "",
            "content": content,
        }
        if kind in MEDIA_KINDS:
            media = self._media(ref, data, body)
            if media is not None:
                received["media"] = media
        return received

    def _media(self, ref: str, data: dict, body: dict) -> dict | None:
        """The bytes of a received file: from the event (webhook base64) or,
        when Evolution left them out, asked of chat/getBase64FromMediaMessage.
        An outage is raised (Evolution posts the event again on a 5xx); a
        refusal leaves the message without its file, with a log line."""
        message = data.get("message") or {}
        encoded = message.get("base64")
        mime_type = body.get("mimetype") or ""
        if not encoded:
            try:
                answer = self._request(
                    "POST",
                    f"/chat/getBase64FromMediaMessage/{ref}",
                    apikey=self.api_key,
                    json={
                        "message": {"key": data.get("key"), "message": message},
                        "convertToMp4": False,
                    },
                    timeout=MEDIA_TIMEOUT,
                )
            except EngineUnavailable:
                raise
            except EngineError as error:
                logger.warning(
                    "evolution media of %s not fetched: %s",
                    (data.get("key") or {}).get("id"),
                    error,
                )
                return None
            answer = answer if isinstance(answer, dict) else {}
            encoded = answer.get("base64")
            mime_type = mime_type or answer.get("mimetype") or ""
        try:
            raw = base64.b64decode(encoded or "", validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not raw:
            logger.warning(
                "evolution media of %s came empty", (data.get("key") or {}).get("id")
            )
            return None
        return {
            "data": raw,
            "mime_type": mime_type,
            "file_name": body.get("fileName") or "",
        }

    def _updated(self, ref: str, data: dict) -> list[EngineEvent]:
        if data.get("fromMe") is False:
            # Evolution also reports the status of received messages (read
            # on the phone, say): only receipts of ours are news.
            return []
        status = STATUSES.get(str(data.get("status", "")).upper())
        message_id = data.get("keyId")
        if not status or not message_id:
            return []
        jid = data.get("remoteJid")
        if not _is_phone_jid(jid):
            # A LID chat: the receipt still finds our message by its id.
            logger.info("evolution receipt of %s without a phone number", message_id)
            jid = ""
        return [
            EngineEvent(
                "message_status",
                ref,
                phone_number=jid,
                extra={"message_id": message_id, "status": status},
            )
        ]

    def _presences(self, ref: str, data: dict) -> list[EngineEvent]:
        chat = str(data.get("id") or "")
        if chat.endswith("@g.us"):
            return []
        events = []
        for jid, seen in (data.get("presences") or {}).items():
            if not isinstance(seen, dict):
                continue
            phone = chat if _is_phone_jid(chat) else jid if _is_phone_jid(jid) else ""
            if not phone:
                logger.info("evolution presence from a LID without its phone: skipped")
                continue
            events.append(
                EngineEvent(
                    "chat_presence",
                    ref,
                    phone_number=phone,
                    extra={"presence": str(seen.get("lastKnownPresence", ""))},
                )
            )
        return events
