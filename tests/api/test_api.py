"""The instance API: both route shapes, the token rules and every error."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from instances import messaging, services
from instances.engines.base import EngineEvent
from instances.models import (
    Instance,
    Message,
    MessageStatus,
    SimulatedMessage,
)
from webhooks import services as webhook_services
from webhooks.models import EventKind, WebhookEvent

pytestmark = pytest.mark.django_db


def _bearer(instance):
    return {"HTTP_AUTHORIZATION": f"Bearer {instance.token}"}


def _both(instance, action):
    """The same action on the route with the token in the path and on the
    recommended one with the Bearer header."""
    return [
        (f"/instances/{instance.pk}/token/{instance.token}/{action}", {}),
        (f"/instances/{instance.pk}/{action}", _bearer(instance)),
    ]


def test_status_answers_on_both_routes_each_in_its_shape(client, live):
    (token_url, _none), (bearer_url, headers) = _both(live, "status")
    body = client.get(bearer_url, **headers).json()
    assert (body["state"], body["phone"], body["connected"]) == (
        "connected",
        "+5511987654321",
        True,
    )
    assert client.get(token_url).json() == {
        "connected": True,
        "error": "You are already connected.",
        "smartphoneConnected": True,
    }


@pytest.mark.parametrize("token", ["", "errado", "x" * 40])
def test_a_wrong_token_is_401(client, live, token):
    response = client.get(
        f"/instances/{live.pk}/status", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "Token inválido."}
    assert (
        client.get(f"/instances/{live.pk}/token/{token or 'x'}/status").status_code
        == 401
    )


def test_no_authorization_header_is_401(client, live):
    assert client.get(f"/instances/{live.pk}/status").status_code == 401


def test_a_token_of_another_instance_is_404(client, live, other):
    others = services.instance_create(owner=other, name="Outra")
    for url, headers in _both(live, "status"):
        response = client.get(url.replace(str(live.pk), str(others.pk)), **headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_an_old_token_stops_working_at_once(client, live):
    old = live.token
    services.instance_token_regenerate(instance=live)
    assert client.get(f"/instances/{live.pk}/token/{old}/status").status_code == 401
    assert (
        client.get(f"/instances/{live.pk}/token/{live.token}/status").status_code == 200
    )


def test_send_text_accepts_and_queues(
    client, live, queued_tasks, django_capture_on_commit_callbacks
):
    for url, headers in _both(live, "send-text"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url,
                {"phone": "(21) 99876-5432", "message": "Olá!"},
                content_type="application/json",
                **headers,
            )
        body = response.json()
        if headers:
            assert response.status_code == 202
            assert (body["to"], body["status"]) == ("+5521998765432", "queued")
        else:
            assert response.status_code == 200
            assert set(body) == {"zaapId", "messageId", "id"}
    assert Message.objects.filter(instance=live).count() == 2
    # The first accept asks for a dispatch now and one at the end of its
    # window; the second, within the window, asks nothing. The dispatch
    # queues one send task for both messages, oldest first.
    sends = [
        (name, countdown)
        for name, _args, countdown in queued_tasks
        if name.startswith("instances.")
    ]
    window = messaging.DISPATCH_WINDOW + messaging.DISPATCH_MARGIN
    assert sends == [(messaging.DISPATCH_TASK, None), (messaging.DISPATCH_TASK, window)]
    assert messaging.messages_dispatch() == 2
    batches = [
        args[0] for name, args, *_ in queued_tasks if name == messaging.SEND_BATCH_TASK
    ]
    assert batches == [
        [
            str(pk)
            for pk in Message.objects.order_by("created_at").values_list(
                "pk", flat=True
            )
        ]
    ]
    assert messaging.messages_dispatch() == 0


def test_a_send_after_a_dispatch_began_asks_for_another(
    live, queued_tasks, monkeypatch
):
    def dispatches():
        return [name for name, *_ in queued_tasks if name == messaging.DISPATCH_TASK]

    first = messaging.message_send_text(instance=live, phone="5521998765432", text="1")
    messaging.messages_dispatch_request()  # now and at the end of the window
    messaging.messages_dispatch_request()  # within the window: nothing
    assert len(dispatches()) == 2
    assert messaging.messages_dispatch() == 1  # clears the pending mark
    # Another web process (no window of its own) accepts after the dispatch
    # began: the mark is gone, so it asks again.
    monkeypatch.setattr(messaging, "_dispatch_covers_until", 0.0)
    second = messaging.message_send_text(instance=live, phone="5521998765432", text="2")
    messaging.messages_dispatch_request()
    assert len(dispatches()) == 4
    assert messaging.messages_dispatch() == 1
    sent = [
        args[0] for name, args, _c in queued_tasks if name == messaging.SEND_BATCH_TASK
    ]
    assert sent == [[str(first.pk)], [str(second.pk)]]


def test_an_accept_that_finds_the_mark_set_asks_nothing(live, queued_tasks):
    # Another process set the mark: the dispatch it queued has not started
    # (a dispatch clears the mark as it starts), so it will see this message.
    cache.add(messaging.DISPATCH_PENDING, 1, timeout=10)
    messaging.message_send_text(instance=live, phone="5521998765432", text="1")
    messaging.messages_dispatch_request()
    assert queued_tasks == []


def test_within_its_window_an_accept_makes_no_round_trip(
    live, queued_tasks, monkeypatch
):
    messaging.messages_dispatch_request()

    def unexpected(*args, **kwargs):
        raise AssertionError("the cache was asked within the window")

    monkeypatch.setattr(messaging.cache, "add", unexpected)
    messaging.message_send_text(instance=live, phone="5521998765432", text="1")
    messaging.messages_dispatch_request()
    monkeypatch.setattr(
        messaging, "_dispatch_covers_until", messaging.time.monotonic() - 1
    )
    with pytest.raises(AssertionError, match="within the window"):
        messaging.messages_dispatch_request()


def test_send_text_takes_text_or_message(client, live, queued_tasks):
    response = client.post(
        f"/instances/{live.pk}/send-text",
        {"phone": "5521998765432", "text": "Com text"},
        content_type="application/json",
        **_bearer(live),
    )
    assert response.status_code == 202
    assert Message.objects.get().text == "Com text"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "123", "text": "oi"}, 422, "invalid_phone"),
        ({"phone": "5521998765432", "text": "x" * 4097}, 413, "text_too_long"),
        ({"phone": "5521998765432", "text": "   "}, 422, "empty_text"),
        ({"text": "sem telefone"}, 422, None),
    ],
)
def test_bad_sends_are_refused_and_nothing_is_queued(
    client, live, queued_tasks, body, status, code
):
    response = client.post(
        f"/instances/{live.pk}/send-text",
        body,
        content_type="application/json",
        **_bearer(live),
    )
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
        assert response.json()["message"]
    assert not Message.objects.exists()
    assert queued_tasks == []


def test_a_disconnected_instance_refuses_with_409(client, live, queued_tasks, owner):
    services.instance_disconnect(instance=live, actor_kind="customer", actor=owner)
    response = client.post(
        f"/instances/{live.pk}/send-text",
        {"phone": "5521998765432", "text": "oi"},
        content_type="application/json",
        **_bearer(live),
    )
    assert (response.status_code, response.json()["code"]) == (
        409,
        "instance_not_connected",
    )
    assert not Message.objects.exists()


def test_an_ended_trial_refuses_with_402(client, live, queued_tasks):
    Instance.objects.filter(pk=live.pk).update(
        trial_ends_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.post(
        f"/instances/{live.pk}/send-text",
        {"phone": "5521998765432", "text": "oi"},
        content_type="application/json",
        **_bearer(live),
    )
    assert (response.status_code, response.json()["code"]) == (402, "trial_expired")
    assert not Message.objects.exists()


def test_a_sent_message_goes_sent_delivered_read_each_with_its_webhook(
    client, live, queued_tasks, monkeypatch
):
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={
            EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True),
            EventKind.MESSAGE_SENT.value: ("https://cliente.test/h", True),
        },
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        response = client.post(
            f"/instances/{live.pk}/send-text",
            {"phone": "5521998765432", "text": "oi"},
            content_type="application/json",
            **_bearer(live),
        )
        message_id = response.json()["id"]
        messaging.message_send(message_id=message_id)
        clock.move_to(start + timedelta(seconds=1))
        services.engine_tick()
        clock.move_to(start + timedelta(seconds=3))
        services.engine_tick()

    statuses = [
        e.payload["data"]["status"]
        for e in WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS).order_by(
            "created_at"
        )
    ]
    assert statuses == ["sent", "delivered", "read"]
    assert WebhookEvent.objects.filter(kind=EventKind.MESSAGE_SENT).count() == 1
    for url, headers in _both(live, f"messages/{message_id}"):
        assert client.get(url, **headers).json()["status"] == MessageStatus.READ


def test_receipts_out_of_order_announce_every_step_once_in_order(live, queued_tasks):
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    receipt = lambda status: EngineEvent(  # noqa: E731
        "message_status",
        live.engine_ref,
        phone_number=message.to,
        extra={"message_id": message.engine_message_id, "status": status},
    )
    services.engine_events_apply(
        [receipt("read"), receipt("delivered"), receipt("failed")]
    )

    statuses = [
        e.payload["data"]["status"]
        for e in WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS).order_by(
            "created_at"
        )
    ]
    # "read" came first: it announces the "delivered" it implies, then
    # itself; the late "delivered" and "failed" change nothing.
    assert statuses == ["sent", "delivered", "read"]
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_a_late_receipt_never_moves_a_message_back(live, queued_tasks):
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    receipts = [(message.engine_message_id, "read")]
    assert messaging.message_receipts_apply(instance=live, receipts=receipts) == set()
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    announced = WebhookEvent.objects.count()
    assert announced == 3  # sent, delivered, read

    receipts = [(message.engine_message_id, "delivered")]
    assert messaging.message_receipts_apply(instance=live, receipts=receipts) == set()
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert WebhookEvent.objects.count() == announced  # nothing announced


def test_a_message_of_another_instance_is_404(client, live, other, queued_tasks):
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    others = services.instance_create(owner=other, name="Outra")
    response = client.get(
        f"/instances/{others.pk}/messages/{message.pk}",
        HTTP_AUTHORIZATION=f"Bearer {others.token}",
    )
    assert response.status_code == 404


def test_qr_code_and_image_while_waiting(client, owner):
    waiting = services.instance_connect(
        instance=services.instance_create(owner=owner, name="QR"), actor_kind="customer"
    )
    (token_url, _none), (bearer_url, headers) = _both(waiting, "qr-code")
    body = client.get(bearer_url, **headers).json()
    assert body["qr_code"] == waiting.qr_code
    assert body["qr_png_base64"] and body["qr_svg_base64"]
    # Z-API's clients read the image from `value`, as a data URI.
    value = client.get(token_url).json()["value"]
    assert value.startswith("data:image/png;base64,")
    assert base64.b64decode(value.split(",", 1)[1]).startswith(b"\x89PNG")
    (token_url, _none), (bearer_url, headers) = _both(waiting, "qr-code/image")
    response = client.get(bearer_url, **headers)
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert client.get(token_url).json()["value"] == value


def test_no_qr_image_once_connected(client, live):
    response = client.get(f"/instances/{live.pk}/qr-code/image", **_bearer(live))
    assert (response.status_code, response.json()["code"]) == (404, "no_qr_code")


def test_phone_code_and_disconnect(client, owner):
    instance = services.instance_create(owner=owner, name="Código")
    response = client.get(
        f"/instances/{instance.pk}/phone-code/5511987654321", **_bearer(instance)
    )
    assert response.status_code == 200
    assert len(response.json()["pairing_code"]) == 8
    assert (
        client.get(
            f"/instances/{instance.pk}/phone-code/123", **_bearer(instance)
        ).status_code
        == 422
    )

    instance.refresh_from_db()
    response = client.post(f"/instances/{instance.pk}/disconnect", **_bearer(instance))
    assert (response.status_code, response.json()["state"]) == (200, "disconnected")
    again = client.post(f"/instances/{instance.pk}/token/{instance.token}/disconnect")
    assert again.status_code == 409


def test_the_docs_page_has_the_guide_and_needs_no_login(owner_client):
    client = Client()
    body = owner_client.get("/api/docs").content.decode()
    assert "Primeiros passos" in body
    assert "Authorization: Bearer" in body
    assert 'id="referencia"' in body
    assert "cdn" not in body.lower()
    # Like every peer's docs, readable before signing up.
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/instances/{instance_id}/send-text" in schema["paths"]
    assert "/instances/{instance_id}/token/{token}/send-text" in schema["paths"]


def test_a_body_that_is_not_json_gets_the_same_error_shape(client, live):
    response = client.post(
        f"/instances/{live.pk}/send-text",
        "{nope",
        content_type="application/json",
        **_bearer(live),
    )
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message"}


def test_a_message_is_sent_once_even_if_two_tasks_run(live, queued_tasks):
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    messaging.message_send(message_id=message.pk)
    messaging.message_send(message_id=message.pk)

    assert SimulatedMessage.objects.count() == 1


def test_a_message_whose_task_was_lost_is_queued_again(live, queued_tasks):
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    assert messaging.messages_queued_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert messaging.messages_queued_sweep() == 1
    assert (
        "instances.tasks.message_send_task",
        [str(message.pk)],
        None,
    ) in queued_tasks
    messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_message_queued_for_an_hour_fails_instead_of_waiting_forever(
    live, queued_tasks
):
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        messaging.messages_queued_sweep()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "1 hora" in message.error
