"""The built-in WhatsApp simulator (the default engine).

It behaves like WhatsApp's pairing from the panel's point of view: real QR codes
that rotate (the first lives 60 s, each next one 20 s) and a give-up after six
codes, or an 8-character pairing code. Each QR encodes the URL of the
simulated-phone page, where a person "scans" it by choosing a number. All its
state is in the database (SimulatedSession), so every process agrees.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from instances.engines.base import (
    CODES_BEFORE_GIVING_UP,
    FIRST_CODE_LIFETIME,
    NEXT_CODE_LIFETIME,
    Device,
    Engine,
    EngineError,
    EngineEvent,
    EngineNotConnected,
    EngineNotOnWhatsApp,
    EngineRefused,
    EngineSession,
    OutgoingMessage,
    SessionStart,
    SessionState,
)
from instances.models import SimulatedMessage, SimulatedSession
from plugmessage.locks import lock_rows

# Receipts of each kind (delivered, read) one tick reports at most.
RECEIPTS_PER_TICK = 2000
# Letters and digits WhatsApp uses in pairing codes, without look-alikes.
PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ23456789"

Status = SimulatedSession.Status


def _vcard(name: str, phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return (
        f"BEGIN:VCARD\nVERSION:3.0\nN:;{name};;;\nFN:{name}\n"
        f"TEL;type=CELL;waid={digits}:+{digits}\nEND:VCARD"
    )


def code_valid_until(started_at: datetime, index: int) -> datetime:
    return started_at + FIRST_CODE_LIFETIME + NEXT_CODE_LIFETIME * index


def gives_up_at(started_at: datetime) -> datetime:
    return code_valid_until(started_at, CODES_BEFORE_GIVING_UP - 1)


def code_index_at(started_at: datetime, now: datetime) -> int:
    elapsed = now - started_at
    if elapsed < FIRST_CODE_LIFETIME:
        return 0
    return 1 + int((elapsed - FIRST_CODE_LIFETIME) / NEXT_CODE_LIFETIME)


class SimulatorEngine(Engine):
    name = "simulator"
    sends_in_batches = True  # one write for the whole batch

    def qr_content(self, code: str) -> str:
        return settings.SITE_URL + reverse("instances:simulator_scan", args=[code])

    def session_start(
        self, session: EngineSession, *, phone_number: str = ""
    ) -> SessionStart:
        if SimulatedSession.objects.filter(
            engine_ref=session.engine_ref, status=Status.OPEN
        ).exists():
            raise EngineError("the session is already open")
        now = timezone.now()
        code = secrets.token_urlsafe(18)
        pairing_code = (
            "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))
            if phone_number
            else ""
        )
        SimulatedSession.objects.update_or_create(
            engine_ref=session.engine_ref,
            defaults={
                "status": Status.QR,
                "started_at": now,
                "code_index": 0,
                "code": code,
                "pairing_code": pairing_code,
                "pairing_phone": phone_number,
                "phone_number": "",
            },
        )
        if pairing_code:
            return SessionStart(pairing_code=pairing_code, expires_at=gives_up_at(now))
        return SessionStart(
            qr_code=self.qr_content(code), expires_at=code_valid_until(now, 0)
        )

    def session_state(self, session: EngineSession) -> SessionState:
        row = SimulatedSession.objects.filter(engine_ref=session.engine_ref).first()
        if row is None or row.status == Status.CLOSED:
            return "close"
        return "open" if row.status == Status.OPEN else "connecting"

    def session_logout(self, session: EngineSession) -> None:
        SimulatedSession.objects.filter(engine_ref=session.engine_ref).update(
            status=Status.CLOSED, code="", pairing_code="", phone_number=""
        )

    def session_delete(self, session: EngineSession) -> None:
        SimulatedSession.objects.filter(engine_ref=session.engine_ref).delete()

    def message_send_text(self, session: EngineSession, *, to: str, text: str) -> str:
        return self.message_send(session, OutgoingMessage(to=to, text=text))

    def messages_send(
        self, session: EngineSession, messages: list[OutgoingMessage]
    ) -> list:
        """The simulated WhatsApp "sends": it keeps each message in the
        conversation with the id the sender chose, as WhatsApp Web does, a
        batch in one write. The same message handed over twice is kept once
        (its id is unique)."""
        if self.session_state(session) != "open":
            return [EngineNotConnected("session is not open") for _message in messages]
        results: list = []
        rows = []
        for message in messages:
            if not self.number_exists(message.to):
                results.append(EngineNotOnWhatsApp("Phone number does not exist"))
                continue
            message_id = message.message_id or f"SIM{secrets.token_hex(8).upper()}"
            rows.append(self._outgoing_row(session, message, message_id))
            results.append(message_id)
        SimulatedMessage.objects.bulk_create(rows, ignore_conflicts=True)
        return results

    def _record(self, session: EngineSession, message: OutgoingMessage) -> str:
        """One message, as messages_send keeps a batch."""
        (result,) = self.messages_send(session, [message])
        if isinstance(result, EngineError):
            raise result
        return result

    def _outgoing_row(
        self, session: EngineSession, message: OutgoingMessage, message_id: str
    ) -> SimulatedMessage:
        return SimulatedMessage(
            engine_ref=session.engine_ref,
            message_id=message_id,
            to=message.to,
            kind=message.kind,
            text=message.text,
            content={
                **message.content,
                **({"file_name": message.file_name} if message.file_name else {}),
            },
            media_id=message.media_id or None,
            reply_to=message.reply_to,
        )

    message_send = _record
    message_send_media = _record
    message_send_audio = _record
    message_send_location = _record
    message_send_contact = _record
    message_send_reaction = _record
    message_send_link = _record

    def number_exists(self, phone: str) -> bool:
        """Every valid number is on the simulated WhatsApp but those listed in
        SIMULATOR_ABSENT_NUMBERS."""
        digits = phone.lstrip("+")
        return digits not in settings.SIMULATOR_ABSENT_NUMBERS

    def chat_presence_send(
        self, session: EngineSession, *, to: str, presence: str, seconds: int
    ) -> None:
        if self.session_state(session) != "open":
            raise EngineNotConnected("session is not open")
        SimulatedSession.objects.filter(engine_ref=session.engine_ref).update(
            presence={
                "to": to,
                "presence": presence,
                "until": (timezone.now() + timedelta(seconds=seconds)).isoformat(),
            }
        )

    def phone_exists(self, session: EngineSession, *, phone: str) -> tuple[bool, str]:
        if self.session_state(session) != "open":
            raise EngineNotConnected("session is not open")
        exists = self.number_exists(phone)
        return exists, (f"{int(phone.lstrip('+')) % 10**14}@lid" if exists else "")

    def message_read(self, session: EngineSession, *, phone: str, message_id: str):
        if self.session_state(session) != "open":
            raise EngineNotConnected("session is not open")
        SimulatedMessage.objects.filter(
            engine_ref=session.engine_ref, message_id=message_id, inbound=True
        ).update(status="read")

    def message_delete(
        self, session: EngineSession, *, phone: str, message_id: str, from_me: bool
    ) -> None:
        if self.session_state(session) != "open":
            raise EngineNotConnected("session is not open")
        SimulatedMessage.objects.filter(
            engine_ref=session.engine_ref, message_id=message_id, inbound=not from_me
        ).update(status="deleted")

    def _profile_update(self, session: EngineSession, **changes) -> None:
        row = SimulatedSession.objects.filter(
            engine_ref=session.engine_ref, status=Status.OPEN
        ).first()
        if row is None:
            raise EngineNotConnected("session is not open")
        row.profile = {**row.profile, **changes}
        row.save(update_fields=["profile"])

    def profile_name_set(self, session: EngineSession, *, name: str) -> None:
        self._profile_update(session, name=name)

    def profile_about_set(self, session: EngineSession, *, about: str) -> None:
        self._profile_update(session, about=about)

    def profile_picture_set(
        self, session: EngineSession, *, image: bytes, mime_type: str
    ) -> None:
        self._profile_update(session, picture_set_at=timezone.now().isoformat())

    def device_get(self, session: EngineSession) -> Device:
        row = SimulatedSession.objects.filter(
            engine_ref=session.engine_ref, status=Status.OPEN
        ).first()
        if row is None:
            raise EngineNotConnected("session is not open")
        return Device(
            phone=row.phone_number,
            name=row.profile.get("name", ""),
            about=row.profile.get("about", ""),
            device_model="Simulador PlugMessage",
            platform="android",
            is_business=False,
        )

    def session_restart(self, session: EngineSession) -> None:
        if self.session_state(session) != "open":
            raise EngineNotConnected("session is not open")

    def tick(self) -> list[EngineEvent]:
        """Rotate the QR code of every pending session whose code expired, give
        up on those past the sixth code, and report sent messages delivered and
        then read. Idempotent for a given moment."""
        now = timezone.now()
        events = self._receipts(now)
        for row in SimulatedSession.objects.filter(status=Status.QR):
            # Conditional updates: of two ticks running at once, one reports.
            current = SimulatedSession.objects.filter(
                pk=row.pk, status=Status.QR, code_index=row.code_index
            )
            if now >= gives_up_at(row.started_at):
                if current.update(status=Status.CLOSED, code="", pairing_code=""):
                    events.append(EngineEvent("qr_gave_up", row.engine_ref))
                continue
            index = code_index_at(row.started_at, now)
            if row.pairing_code or index <= row.code_index:
                continue
            row.code = secrets.token_urlsafe(18)
            if not current.update(code_index=index, code=row.code):
                continue
            events.append(
                EngineEvent(
                    "qr_updated",
                    row.engine_ref,
                    qr_code=self.qr_content(row.code),
                    expires_at=code_valid_until(row.started_at, index),
                )
            )
        return events

    def _receipts(self, now: datetime) -> list[EngineEvent]:
        events = []
        # When a simulated recipient's phone reports a sent message
        # delivered, then read (settings; the pipeline benchmark sets 0).
        steps = (
            (
                "sent",
                "delivered",
                timedelta(seconds=settings.SIMULATOR_DELIVERED_AFTER),
            ),
            ("delivered", "read", timedelta(seconds=settings.SIMULATOR_READ_AFTER)),
        )
        for before, after, delay in steps:
            # Taken with SKIP LOCKED: of two ticks at once, one reports each.
            with transaction.atomic():
                due = lock_rows(
                    SimulatedMessage.objects.filter(
                        status=before, sent_at__lte=now - delay, inbound=False
                    )
                    .order_by("pk")
                    .values_list("pk", "engine_ref", "to", "message_id")[
                        :RECEIPTS_PER_TICK
                    ],
                    skip_locked=True,
                )
                SimulatedMessage.objects.filter(
                    pk__in=[pk for pk, *_rest in due], status=before
                ).update(status=after)
            events.extend(
                EngineEvent(
                    "message_status",
                    engine_ref,
                    phone_number=to,
                    extra={"message_id": message_id, "status": after},
                )
                for _pk, engine_ref, to, message_id in due
            )
        return events

    # The simulated phone.

    def phone_send_message(
        self,
        engine_ref: str,
        from_number: str,
        text: str = "",
        *,
        kind: str = "text",
        content: dict | None = None,
        media: dict | None = None,
        reply_to: str = "",
        sender_name: str = "",
    ) -> EngineEvent:
        """A contact with `from_number` sends the instance's number a message
        of `kind`: `text` (or a caption), `content` as the kind needs it
        (location: latitude, longitude, name, address; contact: name, phone;
        reaction: emoji, reaction_to), `media` {"data", "mime_type",
        "file_name"} for files. The simulated WhatsApp keeps it in the
        conversation and reports it as a "message_received" event."""
        if not SimulatedSession.objects.filter(
            engine_ref=engine_ref, status=Status.OPEN
        ).exists():
            raise EngineRefused("A instância não está conectada.")
        message_id = f"SIMIN{secrets.token_hex(8).upper()}"
        content = dict(content or {})
        if kind == "reaction":
            reply_to = content.get("reaction_to", "") or reply_to
            # Whether the reacted-to message is one the instance sent.
            content["reaction_to_from_me"] = SimulatedMessage.objects.filter(
                engine_ref=engine_ref, message_id=reply_to, inbound=False
            ).exists()
        if kind == "contact" and not content.get("vcard"):
            content["vcard"] = _vcard(content.get("name", ""), content.get("phone", ""))
        file_name = (media or {}).get("file_name", "")
        SimulatedMessage.objects.create(
            engine_ref=engine_ref,
            message_id=message_id,
            to="+" + from_number.lstrip("+"),
            inbound=True,
            kind=kind,
            text=text,
            content={**content, **({"file_name": file_name} if file_name else {})},
            reply_to=reply_to,
        )
        return EngineEvent(
            "message_received",
            engine_ref,
            phone_number=from_number,
            extra={
                "message_id": message_id,
                "kind": kind,
                "text": text,
                "sender_name": sender_name,
                "reply_to": reply_to,
                "timestamp": timezone.now(),
                "content": content,
                **({"media": media} if media else {}),
            },
        )

    def phone_session_for_code(self, code: str) -> SimulatedSession | None:
        now = timezone.now()
        row = SimulatedSession.objects.filter(status=Status.QR, code=code).first()
        if row is None or row.pairing_code:
            return None
        if now >= code_valid_until(row.started_at, row.code_index):
            return None
        return row

    def phone_scan(self, code: str, phone_number: str) -> EngineEvent:
        """A phone with `phone_number` scanned the QR code `code`."""
        row = self.phone_session_for_code(code)
        if row is None:
            raise EngineRefused("Este QR Code expirou ou já foi usado.")
        return self._open(row, phone_number)

    def phone_enter_pairing_code(
        self, pairing_code: str, phone_number: str
    ) -> EngineEvent:
        """A phone with `phone_number` typed `pairing_code` in WhatsApp."""
        cleaned = pairing_code.replace("-", "").replace(" ", "").upper()
        row = SimulatedSession.objects.filter(
            status=Status.QR, pairing_code=cleaned
        ).first()
        if row is None or timezone.now() >= gives_up_at(row.started_at):
            raise EngineRefused("Código inválido ou expirado.")
        if row.pairing_phone != phone_number:
            raise EngineRefused("Este código foi gerado para outro número de telefone.")
        return self._open(row, phone_number)

    def _open(self, row: SimulatedSession, phone_number: str) -> EngineEvent:
        row.status = Status.OPEN
        row.phone_number = phone_number
        row.code = row.pairing_code = ""
        row.save(update_fields=["status", "phone_number", "code", "pairing_code"])
        return EngineEvent("connected", row.engine_ref, phone_number=phone_number)
