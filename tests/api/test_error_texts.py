"""No English or engine text reaches a customer: a message the engine
refuses fails with a Portuguese sentence (the message's status in the API,
its webhook), the engine's own words go to the log for staff, and
django-ninja's validation errors are said in Portuguese, in the API's
documented shape (Z-API's `error` included on the token routes)."""

import json
import logging

import pytest
from django.test import RequestFactory
from ninja.errors import HttpError

from instances import messaging
from instances.api import core
from instances.engines.base import EngineError, EngineNotOnWhatsApp
from instances.engines.simulator import SimulatorEngine
from instances.messaging import Draft
from instances.models import Message, MessageStatus
from webhooks import services as webhook_services
from webhooks.models import EventKind, WebhookEvent

pytestmark = pytest.mark.django_db

EVOLUTION_REFUSAL = 'Evolution 400: instance requires property "text"'


class _Refusing(SimulatorEngine):
    """Refuses every message the way the Evolution adapter reports it."""

    def messages_send(self, session, messages):
        return [EngineError(EVOLUTION_REFUSAL) for _message in messages]


@pytest.fixture
def status_hook(live):
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    return live


def _send(live, phone: str) -> Message:
    message = messaging.message_accept(
        instance=live, phone=phone, draft=Draft(text="Seu pedido saiu")
    )
    messaging.messages_send(message_ids=[str(message.pk)])
    message.refresh_from_db()
    return message


def _failed_webhook_error(message) -> str:
    event = WebhookEvent.objects.get(
        kind=EventKind.MESSAGE_STATUS,
        payload__data__message_id=str(message.pk),
        payload__data__status="failed",
    )
    return event.payload["data"]["error"]


def test_a_message_the_engine_refuses_fails_in_portuguese_and_the_log_keeps_why(
    client, status_hook, queued_tasks, monkeypatch, caplog
):
    monkeypatch.setattr(messaging, "engine_get", lambda: _Refusing())
    caplog.set_level(logging.WARNING, logger="instances.messaging")

    message = _send(status_hook, "5521998765432")

    assert message.status == MessageStatus.FAILED
    assert message.error == "O WhatsApp recusou esta mensagem."
    assert _failed_webhook_error(message) == message.error
    answer = client.get(
        f"/instances/{status_hook.pk}/messages/{message.pk}",
        HTTP_AUTHORIZATION=f"Bearer {status_hook.token}",
    ).json()
    assert answer["error"] == "O WhatsApp recusou esta mensagem."
    # Staff find the engine's own words in the log, by the message's id.
    assert EVOLUTION_REFUSAL in caplog.text
    assert str(message.pk) in caplog.text


def test_a_number_without_whatsapp_is_said_in_portuguese_and_masked_in_the_log(
    client, status_hook, queued_tasks, caplog
):
    caplog.set_level(logging.WARNING, logger="instances.messaging")

    # The simulated WhatsApp has no account for this number.
    message = _send(status_hook, "5511900000000")

    assert message.status == MessageStatus.FAILED
    assert message.error == "Este número não tem WhatsApp."
    assert _failed_webhook_error(message) == "Este número não tem WhatsApp."
    assert "Phone number does not exist" in caplog.text


def test_the_log_of_a_refusal_does_not_carry_the_number(
    status_hook, queued_tasks, monkeypatch, caplog
):
    class _Evolution(SimulatorEngine):
        def messages_send(self, session, messages):
            return [
                EngineNotOnWhatsApp(
                    "Evolution 400: the number 5521998765432 is not on WhatsApp"
                )
            ]

    monkeypatch.setattr(messaging, "engine_get", lambda: _Evolution())
    caplog.set_level(logging.WARNING, logger="instances.messaging")

    message = _send(status_hook, "5521998765432")

    assert message.error == "Este número não tem WhatsApp."
    assert "is not on WhatsApp" in caplog.text
    assert "5521998765432" not in caplog.text


@pytest.mark.parametrize("route", ["bearer", "token"])
def test_a_request_the_engine_refuses_is_answered_in_portuguese(
    client, live, monkeypatch, route
):
    def refuse(**kwargs):
        raise EngineError("Evolution 400: Bad Request: jid is not valid")

    monkeypatch.setattr(messaging, "message_read", refuse)
    body = {"phone": "5521998765432", "messageId": "3EB0C431D5A1B2C3D4E5"}
    if route == "bearer":
        response = client.post(
            f"/instances/{live.pk}/read-message",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {live.token}",
        )
    else:
        response = client.post(
            f"/instances/{live.pk}/token/{live.token}/read-message",
            body,
            content_type="application/json",
        )

    assert response.status_code == 409
    answer = response.json()
    assert answer["code"] == "engine_refused"
    assert answer["message"] == "O WhatsApp recusou o pedido."
    if route == "token":
        assert answer["error"] == answer["message"]
    assert "Evolution" not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"phone": ["5521998765432"], "message": 3},
            "Pedido inválido: phone tem um tipo de valor não aceito; "
            "message deve ser um texto.",
        ),
        ({"message": "Oi"}, "Pedido inválido: informe phone."),
        (
            {"phone": "5521998765432", "message": "Oi", "delayMessage": 99},
            "Pedido inválido: delayMessage deve ser no máximo 15.",
        ),
        ("", "Pedido inválido: o corpo deve ser um objeto JSON."),
    ],
)
def test_validation_errors_are_said_in_portuguese_naming_the_field_sent(
    client, live, queued_tasks, body, says
):
    response = client.post(
        f"/instances/{live.pk}/token/{live.token}/send-text",
        json.dumps(body) if body != "" else "",
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": says,
        "code": "invalid_request",
        "message": says,
    }
    # pydantic's type tags and English never reach the client.
    for english in ("str", "int", "Input should", "Field required"):
        assert english not in says


def test_a_query_error_names_the_parameter(client, live):
    response = client.get(
        f"/instances/{live.pk}/queue?pageSize=0",
        HTTP_AUTHORIZATION=f"Bearer {live.token}",
    )

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_request",
        "message": "Pedido inválido: pageSize deve ser no mínimo 1.",
    }


def test_django_ninjas_own_http_errors_are_answered_in_portuguese():
    request = RequestFactory().post("/instances/x/send-text")

    response = core._http_error(request, HttpError(403, "CSRF check Failed"))

    assert response.status_code == 403
    assert json.loads(response.content) == {
        "code": "error",
        "message": "O pedido não pôde ser atendido (HTTP 403).",
    }
