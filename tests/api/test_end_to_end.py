"""Each kind end to end on the simulator, as a customer's system sees it:
sent through the token-in-path API → handed to the simulated WhatsApp →
delivered → read, every webhook posted (signed) to a real receiver on
127.0.0.1, in the PlugMessage format and in the Z-API format."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from instances import messaging, services
from tests.api import samples
from tests.api.test_zapi_contract import SENDS
from tests.receiver import Receiver
from webhooks import services as webhook_services
from webhooks.models import EventKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    receiver = Receiver()
    yield receiver
    receiver.close()


def _hook(instance, receiver, payload_format, notify_sent_by_me=False):
    webhook_services.webhook_endpoints_save(
        instance=instance,
        values={kind.value: (receiver.url, True) for kind in EventKind},
        payload_format=payload_format,
        notify_sent_by_me=notify_sent_by_me,
    )
    receiver.secrets.append(
        webhook_services.webhook_settings_get(instance_id=instance.pk).secret
    )


def _send_all(client, live) -> list[dict]:
    answers = []
    for route, fields, _kind in SENDS:
        response = client.post(
            f"/instances/{live.pk}/token/{live.token}/{route}",
            {"phone": "5521998765432", **fields},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        answers.append(response.json())
    return answers


def _run_the_phone(live, answers, captured):
    """The worker sends each message; the simulated phone then delivers and
    reads them (its tick, as beat drives it); the drains post every event."""
    from instances.models import Message

    with captured(execute=True):
        for answer in answers:
            messaging.message_send(
                message_id=Message.objects.get(message_id=answer["messageId"]).pk
            )
    now = timezone.now()
    for later in (2, 4):
        with (
            time_machine.travel(now + timedelta(seconds=later)),
            captured(execute=True),
        ):
            services.engine_tick()
    with time_machine.travel(now + timedelta(seconds=5)):
        # SQLite leases one delivery at a time: drain until none is left.
        while webhook_services.webhook_deliveries_drain():
            pass


def _path(url: str) -> str:
    # The link is absolute (SITE_URL); the test client takes its path.
    return urlsplit(url).path


def _bodies(receiver) -> list[dict]:
    """What the receiver got, in the order the events happened: the drains
    post from two threads, so arrival order may differ by a hair; each body
    carries its moment (`timestamp`, Z-API's `momment`) to order them by."""
    assert all(r.verified for r in receiver.received)
    bodies = [json.loads(r.body) for r in receiver.received]
    return sorted(bodies, key=lambda b: b.get("timestamp") or b.get("momment"))


def test_every_kind_sent_delivered_read_in_the_plugmessage_format(
    client, live, receiver, queued_tasks, django_capture_on_commit_callbacks
):
    _hook(live, receiver, "plugmessage")
    answers = _send_all(client, live)

    _run_the_phone(live, answers, django_capture_on_commit_callbacks)

    bodies = _bodies(receiver)
    for answer in answers:
        mine = [
            b for b in bodies if b["data"].get("whatsapp_message_id") == answer["id"]
        ]
        steps = [
            b["type"] if b["type"] == "message.sent" else b["data"]["status"]
            for b in mine
        ]
        assert sorted(steps) == sorted(["message.sent", "sent", "delivered", "read"]), (
            answer,
            steps,
        )
        statuses = [b["data"]["status"] for b in mine if b["type"] == "message.status"]
        assert statuses == ["sent", "delivered", "read"]
    image = next(
        b
        for b in bodies
        if b["type"] == "message.sent" and b["data"]["kind"] == "image"
    )
    # The link needs no login: a fresh client, as the customer's system.
    response = Client().get(_path(image["data"]["media"]["url"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.PNG


def test_every_kind_sent_delivered_read_in_the_z_api_format(
    client, live, receiver, queued_tasks, django_capture_on_commit_callbacks
):
    _hook(live, receiver, "zapi", notify_sent_by_me=True)
    answers = _send_all(client, live)

    _run_the_phone(live, answers, django_capture_on_commit_callbacks)

    bodies = _bodies(receiver)
    for answer in answers:
        delivery = [
            b
            for b in bodies
            if b["type"] == "DeliveryCallback" and b["messageId"] == answer["messageId"]
        ]
        assert len(delivery) == 1 and delivery[0]["zaapId"] == answer["zaapId"]
        assert "error" not in delivery[0]
        statuses = [
            b["status"]
            for b in bodies
            if b["type"] == "MessageStatusCallback" and answer["messageId"] in b["ids"]
        ]
        assert statuses == ["SENT", "RECEIVED", "READ"], (answer, statuses)
        mirrored = [
            b
            for b in bodies
            if b["type"] == "ReceivedCallback" and b["messageId"] == answer["messageId"]
        ]
        assert len(mirrored) == 1 and mirrored[0]["fromMe"] is True
    image = next(b for b in bodies if b["type"] == "ReceivedCallback" and "image" in b)
    response = Client().get(_path(image["image"]["imageUrl"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.PNG
