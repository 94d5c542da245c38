"""Evolution API v2 (2.3.x) adapter, over httpx.

Each PlugMessage instance is an Evolution instance named by its `engine_ref`;
the token Evolution issues at creation (`hash`) is kept as that instance's
`apikey`, so the global key is needed only to create. Evolution posts its
events to PlugMessage's /motor/eventos/ with a shared-secret header.

What Evolution's users report going wrong, and what this adapter does:
- connect may answer `{"count": 0}` (no QR yet): the start carries no code and
  the QR arrives later in a `qrcode.updated` event;
- some errors come back as HTTP 200 with `{"error": true}`: treated as errors;
- the QR limit is announced twice (qrcode "limit", then connection "refused"):
  only the second becomes a give-up;
- a connection closes with a reason only for 401, 402, 403 and 406; any other
  code (440 among them) is reconnected silently;
- `messages.update` also reports received messages: only ours are receipts;
- contacts may be addressed by LID (`@lid`): the phone is taken from
  `remoteJidAlt`/`senderPn`, and what has none is skipped with a log line;
- a pairing code may not be there yet, or never for a QR session that began
  without the number: connect is asked again, a bounded number of times;
- logout answers before the session is closed: the adapter waits until
  connectionState says "close" before a new session starts;
- `open` does not promise that sends work: a failed send is reported as such;
- timeouts and 5xx: EngineUnavailable, so callers leave the instance unchanged.
The shapes are in tests/instances/fixtures/evolution/NOTES.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from django.conf import settings
from django.urls import reverse

from instances.engines.base import (
    ENGINE_EVENTS_HEADER,
    Engine,
    EngineError,
    EngineEvent,
    EngineSession,
    EngineUnavailable,
    SessionStart,
    SessionState,
)

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# Not SEND_MESSAGE: Evolution emits it only for messages sent through its own
# API (sendMessageWithTyping), that is PlugMessage's own sends, whose ids the
# send's answer already gave. Messages sent from the phone arrive as
# MESSAGES_UPSERT with fromMe.
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


PHONE_JID = "@s.whatsapp.net"


class EvolutionNotFound(EngineError):
    pass


class EvolutionNameInUse(EngineError):
    pass


def _message(body) -> str:
    if not isinstance(body, dict):
        return str(body)[:200]
    message = (body.get("response") or {}).get("message", body.get("message", ""))
    return str(message)[:200]


def _is_phone_jid(jid) -> bool:
    return isinstance(jid, str) and jid.endswith(PHONE_JID)


def _phone_jid(key: dict) -> str:
    """The contact's phone JID: the chat's own, or for a chat addressed by LID
    the alternative Baileys 7 (`remoteJidAlt`) or 6 (`senderPn`) gives."""
    for jid in (key.get("remoteJid"), key.get("remoteJidAlt"), key.get("senderPn")):
        if _is_phone_jid(jid):
            return jid
    return ""


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

    def _request(self, method: str, path: str, *, apikey: str, **kwargs) -> dict:
        try:
            response = self.client.request(
                method, path, headers={"apikey": apikey}, **kwargs
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
            raise EngineError(f"Evolution {response.status_code}: {_message(body)}")
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
                    "base64": False,
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
        return self._request(
            "GET",
            f"/instance/connect/{session.engine_ref}",
            apikey=self._key(session),
            params=params,
        )

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
            body = self._request(
                "GET",
                f"/instance/connectionState/{session.engine_ref}",
                apikey=self._key(session),
            )
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
            self._request(
                "DELETE",
                f"/instance/logout/{session.engine_ref}",
                apikey=self._key(session),
            )
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
            self._request(
                "DELETE",
                f"/instance/delete/{session.engine_ref}",
                apikey=self._key(session),
            )
        except EvolutionNotFound:
            return

    def message_send_text(self, session: EngineSession, *, to: str, text: str) -> str:
        body = self._request(
            "POST",
            f"/message/sendText/{session.engine_ref}",
            apikey=self._key(session),
            json={"number": to.lstrip("+"), "text": text},
        )
        message_id = (body.get("key") or {}).get("id")
        if not message_id:
            raise EngineError("Evolution accepted the message without an id")
        return message_id

    def events_from_webhook(self, payload: dict) -> list[EngineEvent]:
        kind = str(payload.get("event", "")).lower().replace("_", ".")
        ref = str(payload.get("instance") or "")
        data = payload.get("data") or {}
        if not ref:
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
            state = data.get("state")
            if state == "open":
                number = data.get("wuid") or payload.get("sender") or ""
                return (
                    [EngineEvent("connected", ref, phone_number=number)]
                    if number
                    else []
                )
            if state == "refused":
                return [EngineEvent("qr_gave_up", ref)]
            if state == "close":
                reason = CLOSE_REASONS.get(data.get("statusReason"), "")
                return [EngineEvent("disconnected", ref, reason=reason)]
            return []
        if kind == "messages.upsert":
            return self._received(ref, data)
        if kind == "messages.update":
            return self._updated(ref, data)
        if kind == "presence.update":
            return self._presences(ref, data)
        # logout.instance: Evolution emits it on the same path as the close
        # that follows it (the close carries the reason), so it adds nothing.
        # send.message: PlugMessage's own sends (see SUBSCRIBED_EVENTS), from
        # instances subscribed before it was left out.
        return []

    def _received(self, ref: str, data: dict) -> list[EngineEvent]:
        key = data.get("key") or {}
        if not key.get("id"):
            return []
        chat = str(key.get("remoteJid") or "")
        if chat.endswith(("@g.us", "@broadcast", "@newsletter")):
            return []
        jid = _phone_jid(key)
        if not jid:
            logger.info(
                "evolution message %s: no phone for its LID, skipped", key["id"]
            )
            return []
        if key.get("fromMe"):
            # Sent from the phone or another linked device (Evolution's own
            # sends never come back here): it left this number.
            return [
                EngineEvent(
                    "message_status",
                    ref,
                    phone_number=jid,
                    extra={"message_id": key["id"], "status": "sent"},
                )
            ]
        message = data.get("message") or {}
        text = message.get("conversation") or (
            message.get("extendedTextMessage") or {}
        ).get("text", "")
        return [
            EngineEvent(
                "message_received",
                ref,
                phone_number=jid,
                extra={"message_id": key["id"], "text": text},
            )
        ]

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
