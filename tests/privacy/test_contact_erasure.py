"""Apagar dados de um contato: what one instance holds about one number goes
(messages both ways, the simulator's copies, media and their files, webhook
events and deliveries), nothing else does, and the opt-out stays."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditRecord
from instances.models import (
    ExclusionEntry,
    ExclusionSource,
    MediaFile,
    Message,
    MessageStatus,
    ReceivedMessage,
    SimulatedMessage,
)
from privacy import services, tasks
from privacy.models import ContactErasure, ErasureStatus
from tests.factories import InstanceFactory
from tests.privacy.conftest import (
    CONTACT,
    delivered,
    file_exists,
    media_file,
    received,
    sent,
)
from webhooks.models import (
    DeliveryStatus,
    PayloadFormat,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db

SOMEONE_ELSE = "+5511976543210"


@pytest.fixture
def queued_tasks(monkeypatch):
    queued = []
    monkeypatch.setattr(
        "privacy.services.current_app.send_task",
        lambda name, args: queued.append((name, args)),
    )
    return queued


def erase(instance, actor, phone=CONTACT, **options) -> ContactErasure:
    erasure = services.contact_erasure_request(
        instance=instance, phone=phone, actor=actor, **options
    )
    return services.contact_erasure_run(erasure_id=erasure.pk)


def _conversation(instance, phone):
    """A conversation with `phone`: a sent image, a received text, the
    simulator's copy, and the webhook events of both."""
    image = media_file(instance)
    sent(instance, to=phone, kind="image", media=image)
    received(instance, phone=phone, media=media_file(instance))
    SimulatedMessage.objects.create(
        engine_ref=instance.engine_ref,
        message_id=f"SIM{instance.pk.hex[:8]}{phone}",
        to=phone,
        text="oi",
        media=image,
    )
    delivered(instance, data={"from": phone, "text": "Quero cancelar"})
    delivered(instance, data={"to": phone, "status": "read"})
    return image


def test_it_erases_what_the_instance_holds_about_the_number_and_nothing_else(
    instance, owner, other, django_capture_on_commit_callbacks, queued_tasks
):
    image = _conversation(instance, CONTACT)
    _conversation(instance, SOMEONE_ELSE)
    elsewhere = InstanceFactory(owner=other)
    _conversation(elsewhere, CONTACT)
    ExclusionEntry.objects.create(
        instance=instance, phone=CONTACT, source=ExclusionSource.OPT_OUT
    )

    with django_capture_on_commit_callbacks(execute=True):
        erasure = erase(instance, owner)

    assert erasure.status == ErasureStatus.DONE
    assert erasure.counts == {
        "sent": 1,
        "received": 1,
        "simulated": 1,
        "media": 2,
        "events": 2,
        "deliveries": 2,
        "engine_events": 0,
        "left": 0,
    }
    assert not Message.objects.filter(instance=instance, to=CONTACT).exists()
    assert not ReceivedMessage.objects.filter(instance=instance, phone=CONTACT).exists()
    assert not SimulatedMessage.objects.filter(
        engine_ref=instance.engine_ref, to=CONTACT
    ).exists()
    assert not MediaFile.objects.filter(pk=image.pk).exists()
    assert not file_exists(image)
    # Someone else's conversation, and the same number on another instance.
    assert Message.objects.filter(instance=instance, to=SOMEONE_ELSE).count() == 1
    assert Message.objects.filter(instance=elsewhere, to=CONTACT).count() == 1
    assert MediaFile.objects.filter(instance=instance).count() == 2
    assert WebhookEvent.objects.filter(instance=instance).count() == 2
    assert WebhookEvent.objects.filter(instance=elsewhere).count() == 2
    assert WebhookAttempt.objects.count() == 4
    # The opt-out stays; the request forgets the number but its masked form.
    assert ExclusionEntry.objects.filter(instance=instance, phone=CONTACT).exists()
    assert erasure.phone == "" and erasure.phone_masked == "+55 21 *****-5432"


def test_events_in_z_api_format_are_found_by_the_digits(instance, owner):
    delivery = delivered(instance)
    WebhookEvent.objects.filter(pk=delivery.event_id).update(
        payload={"type": "ReceivedCallback", "phone": CONTACT.lstrip("+")}
    )
    assert erase(instance, owner).counts["events"] == 1
    assert not WebhookEvent.objects.exists()
    assert PayloadFormat.ZAPI  # the format these bodies are in


def test_a_message_being_handed_to_the_engine_is_left_and_said_so(instance, owner):
    sending = sent(
        instance, status=MessageStatus.QUEUED, engine_message_id="claimed:abc"
    )
    waiting = sent(instance, status=MessageStatus.QUEUED)
    erasure = erase(instance, owner)
    assert erasure.counts["sent"] == 1 and erasure.counts["left"] == 1
    assert list(Message.objects.values_list("pk", flat=True)) == [sending.pk]
    assert not Message.objects.filter(pk=waiting.pk).exists()


def test_a_delivery_a_worker_is_posting_is_left_with_its_event(instance, owner):
    delivery = delivered(instance, status=DeliveryStatus.PENDING)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        locked_until=timezone.now() + timedelta(seconds=60)
    )
    erasure = erase(instance, owner)
    assert erasure.counts["left"] == 1
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()


def test_running_a_request_again_changes_nothing(instance, owner):
    sent(instance)
    erasure = erase(instance, owner)
    sent(instance)
    again = services.contact_erasure_run(erasure_id=erasure.pk)
    assert again.counts == erasure.counts
    assert Message.objects.count() == 1


def test_a_form_sent_twice_makes_one_request(instance, owner, queued_tasks):
    first = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=owner
    )
    second = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=owner
    )
    assert first.pk == second.pk
    assert ContactErasure.objects.count() == 1


def test_the_task_is_queued_after_commit_and_runs_the_request(
    instance, owner, queued_tasks, django_capture_on_commit_callbacks
):
    sent(instance)
    with django_capture_on_commit_callbacks(execute=True):
        erasure = services.contact_erasure_request(
            instance=instance, phone=CONTACT, actor=owner
        )
    assert queued_tasks == [(services.ERASE_TASK, [erasure.pk])]
    tasks.contact_erasure_run_task(*queued_tasks[0][1])
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.DONE
    assert not Message.objects.exists()


def test_beat_runs_a_request_whose_task_was_lost(instance, owner, queued_tasks):
    sent(instance)
    erasure = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=owner
    )
    tasks.retention_sweep_task()
    assert ContactErasure.objects.get().status == ErasureStatus.PENDING
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        tasks.retention_sweep_task()
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.DONE
    assert not Message.objects.exists()


def test_staff_erasure_needs_a_reason(instance, staff):
    with pytest.raises(ValidationError):
        services.contact_erasure_request(
            instance=instance, phone=CONTACT, actor=staff, by_staff=True, reason=" "
        )
    assert not ContactErasure.objects.exists()


def test_staff_erasure_is_audited_with_the_deletion(instance, owner, staff):
    sent(instance)
    erasure = erase(
        instance, staff, by_staff=True, reason="Pedido do titular por e-mail"
    )
    record = AuditRecord.objects.get()
    assert record.actor == staff and record.customer == owner
    assert record.action == "contact_data_erase"
    assert instance.name in record.target
    assert record.before["phone"] == "+55 21 *****-5432"
    assert CONTACT not in str(record.before) + str(record.after)
    assert record.after["erased"] == erasure.counts
    assert record.reason == "Pedido do titular por e-mail"


def test_without_its_audit_record_nothing_is_erased(
    instance, staff, monkeypatch, queued_tasks
):
    sent(instance)

    def refuse(**kwargs):
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr("privacy.services.audit_record_create", refuse)
    erasure = services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=staff, by_staff=True, reason="LGPD"
    )
    with pytest.raises(RuntimeError):
        services.contact_erasure_run(erasure_id=erasure.pk)
    assert Message.objects.count() == 1
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.PENDING and erasure.phone == CONTACT


def test_what_the_engine_posted_about_the_number_goes_too(instance, owner, settings):
    """The engine's inbox keeps raw bodies (the number, the text): the
    contact's go, so a pending one cannot bring an erased message back when
    it is applied; other contacts' and the connection's stay."""
    import json
    from pathlib import Path

    from instances import inbox
    from instances.models import EngineInboxEntry, InboxStatus

    settings.WHATSAPP_ENGINE = "instances.engines.evolution.EvolutionEngine"
    fixtures = Path(__file__).parents[1] / "instances" / "fixtures" / "evolution"

    def body(name: str, number: str | None = None) -> dict:
        payload = json.loads((fixtures / f"{name}.json").read_text())
        payload["instance"] = instance.engine_ref
        if number:
            payload["data"]["key"]["remoteJid"] = f"{number}@s.whatsapp.net"
        return payload

    now = timezone.now()
    bodies = [
        (body("event_messages_upsert", CONTACT.lstrip("+")), InboxStatus.PENDING),
        (body("event_messages_upsert", "5511912345678"), InboxStatus.APPLIED),
        (body("event_connection_open"), InboxStatus.APPLIED),
    ]
    for payload, status in bodies:
        EngineInboxEntry.objects.create(
            key=inbox.payload_key(payload),
            engine_ref=instance.engine_ref,
            payload=payload,
            status=status,
            received_at=now,
            next_attempt_at=now,
        )

    erasure = erase(instance, owner)

    assert erasure.counts["engine_events"] == 1
    kept = [entry.payload for entry in EngineInboxEntry.objects.all()]
    assert len(kept) == 2
    assert all(CONTACT.lstrip("+") not in json.dumps(p) for p in kept)
    assert inbox.inbox_drain() == 0  # nothing of the contact left to apply
    assert not ReceivedMessage.objects.filter(phone=CONTACT).exists()
