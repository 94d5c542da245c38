"""The token-in-path routes as a Z-API client calls them: for every core
route of ../shared/zapi-contract.md, the request it sends and every field
and type of the answer it reads."""

import base64

import pytest

from accounts.services import client_token_create, client_token_enable
from instances import messaging, services
from instances.engines import engine_get
from instances.models import Message, MessageKind, MessageStatus, SimulatedMessage
from tests.api import samples

pytestmark = pytest.mark.django_db


def _url(instance, route: str) -> str:
    return f"/instances/{instance.pk}/token/{instance.token}/{route}"


def _post(client, instance, route, body, **headers):
    return client.post(
        _url(instance, route), body, content_type="application/json", **headers
    )


def _assert_sent(response) -> dict:
    """Z-API's send answer: 200 {zaapId, messageId, id}, all strings, id the
    same as messageId."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"zaapId", "messageId", "id"}
    assert all(isinstance(value, str) and value for value in body.values())
    assert body["id"] == body["messageId"]
    message = Message.objects.get(message_id=body["messageId"])
    assert body["zaapId"] == message.zaap_id
    return body


SENDS = [
    ("send-text", {"message": "Olá!"}, MessageKind.TEXT),
    (
        "send-image",
        {"image": samples.data_uri(samples.PNG, "image/png"), "caption": "Foto"},
        MessageKind.IMAGE,
    ),
    ("send-audio", {"audio": samples.data_uri(samples.OGG)}, MessageKind.AUDIO),
    (
        "send-video",
        {"video": samples.data_uri(samples.MP4), "caption": "Vídeo"},
        MessageKind.VIDEO,
    ),
    (
        "send-document/pdf",
        {"document": samples.data_uri(samples.PDF), "fileName": "Proposta"},
        MessageKind.DOCUMENT,
    ),
    (
        "send-link",
        {
            "message": "Veja https://plugmessage.com.br",
            "image": samples.data_uri(samples.JPEG),
            "linkUrl": "https://plugmessage.com.br",
            "title": "PlugMessage",
            "linkDescription": "API de WhatsApp",
        },
        MessageKind.LINK,
    ),
    (
        "send-location",
        {
            "title": "Escritório",
            "address": "Av. Paulista, 1000",
            "latitude": "-23.5614",
            "longitude": "-46.6559",
        },
        MessageKind.LOCATION,
    ),
    (
        "send-contact",
        {"contactName": "Ana", "contactPhone": "5521998765432"},
        MessageKind.CONTACT,
    ),
    (
        "send-sticker",
        {"sticker": samples.data_uri(samples.WEBP)},
        MessageKind.STICKER,
    ),
]


@pytest.mark.parametrize(("route", "fields", "kind"), SENDS)
def test_each_send_answers_as_z_api_and_queues_its_kind(
    client, live, queued_tasks, route, fields, kind
):
    response = _post(
        client, live, route, {"phone": "5521998765432", "delayMessage": 2, **fields}
    )

    body = _assert_sent(response)
    message = Message.objects.get(message_id=body["messageId"])
    assert (message.kind, message.to, message.status) == (
        kind,
        "+5521998765432",
        MessageStatus.QUEUED,
    )
    assert message.send_after is not None


def test_the_bearer_route_takes_the_same_body_and_answers_in_its_own_shape(
    client, live, queued_tasks
):
    response = client.post(
        f"/instances/{live.pk}/send-image",
        {"phone": "5521998765432", "image": samples.data_uri(samples.PNG)},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {live.token}",
    )

    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["status"], body["to"]) == (
        "image",
        "queued",
        "+5521998765432",
    )
    assert body["message_id"] == Message.objects.get().message_id


def test_a_reply_and_a_reaction_carry_the_message_they_answer(
    client, live, queued_tasks
):
    first = _assert_sent(
        _post(client, live, "send-text", {"phone": "5521998765432", "message": "1"})
    )
    reply = _assert_sent(
        _post(
            client,
            live,
            "send-text",
            {
                "phone": "5521998765432",
                "message": "2",
                "messageId": first["messageId"],
            },
        )
    )
    reaction = _assert_sent(
        _post(
            client,
            live,
            "send-reaction",
            {
                "phone": "5521998765432",
                "reaction": "👍",
                "messageId": first["messageId"],
            },
        )
    )

    assert (
        Message.objects.get(message_id=reply["messageId"]).reply_to
        == (first["messageId"])
    )
    reacted = Message.objects.get(message_id=reaction["messageId"])
    assert (reacted.content["emoji"], reacted.reply_to) == ("👍", first["messageId"])


def test_every_kind_reaches_the_simulator_with_its_content_and_the_same_id(
    client, live, queued_tasks
):
    answers = [
        _assert_sent(_post(client, live, route, {"phone": "5521998765432", **fields}))
        for route, fields, _kind in SENDS
    ]
    for answer in answers:
        message = Message.objects.get(message_id=answer["messageId"])
        messaging.message_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT, message.error
        # WhatsApp's id is the one the answer gave: receipts match it.
        assert message.engine_message_id == answer["messageId"]

    phone = {m.kind: m for m in SimulatedMessage.objects.all()}
    assert phone["image"].media.mime_type == "image/png"
    assert phone["image"].text == "Foto"
    assert phone["document"].content["file_name"] == "Proposta.pdf"
    assert phone["audio"].media.mime_type == "audio/ogg"
    assert phone["location"].content["latitude"] == pytest.approx(-23.5614)
    assert phone["contact"].content == {
        "name": "Ana",
        "phone": "+5521998765432",
        "business_description": "",
    }
    assert phone["link"].content["url"] == "https://plugmessage.com.br"
    assert phone["sticker"].media.mime_type == "image/webp"


def test_status_answers_connected_error_and_smartphone_connected(client, live, owner):
    body = client.get(_url(live, "status")).json()
    assert body == {
        "connected": True,
        "error": "You are already connected.",
        "smartphoneConnected": True,
    }
    services.instance_disconnect(instance=live, actor_kind="customer", actor=owner)
    body = client.get(_url(live, "status")).json()
    assert body == {
        "connected": False,
        "error": "You are not connected.",
        "smartphoneConnected": False,
    }


def test_qr_code_starts_a_connection_and_answers_the_image_in_value(client, owner):
    instance = services.instance_create(owner=owner, name="Nova")

    for route in ("qr-code", "qr-code/image"):
        response = client.get(_url(instance, route))
        assert response.status_code == 200
        value = response.json()["value"]
        assert isinstance(value, str)
        assert value.startswith("data:image/png;base64,")
        assert base64.b64decode(value.split(",", 1)[1]).startswith(b"\x89PNG")
    instance.refresh_from_db()
    assert instance.state == "waiting_scan"


def test_qr_code_of_a_connected_instance_says_so(client, live):
    assert client.get(_url(live, "qr-code/image")).json() == {
        "value": None,
        "connected": True,
    }


def test_phone_code_answers_the_code_in_value_and_code(client, owner):
    instance = services.instance_create(owner=owner, name="Código")

    body = client.get(_url(instance, "phone-code/5511987654321")).json()

    assert set(body) == {"value", "code"}
    assert isinstance(body["value"], str) and len(body["value"]) == 8
    assert body["code"] == body["value"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_disconnect_by_get_or_post_answers_value_true(client, live, method):
    response = getattr(client, method)(_url(live, "disconnect"))

    assert (response.status_code, response.json()) == (200, {"value": True})
    live.refresh_from_db()
    assert live.state == "disconnected"


def test_restart_by_get_answers_value_true_and_keeps_the_number(client, live):
    response = client.get(_url(live, "restart"))

    assert (response.status_code, response.json()) == (200, {"value": True})
    live.refresh_from_db()
    assert live.state == "connected"


def test_phone_exists_answers_an_object(client, live, settings):
    settings.SIMULATOR_ABSENT_NUMBERS = ["5521900000000"]

    yes = client.get(_url(live, "phone-exists/5521998765432")).json()
    no = client.get(_url(live, "phone-exists/5521900000000")).json()

    assert yes["exists"] is True
    assert yes["phone"] == "5521998765432"
    assert isinstance(yes["lid"], str)
    assert (no["exists"], no["lid"]) == (False, None)


def test_device_answers_z_api_fields(client, live):
    client.put(
        _url(live, "profile-name"), {"value": "Loja"}, content_type="application/json"
    )
    body = client.get(_url(live, "device")).json()

    assert body["phone"] == "5511987654321"
    assert body["name"] == "Loja"
    assert isinstance(body["about"], str)
    assert set(body["device"]) == {"sessionName", "device_model"}
    assert body["originalDevice"] in ("iphone", "smbi", "android", "smba")
    assert isinstance(body["sessionId"], int)
    assert isinstance(body["isBusiness"], bool)
    assert "imgUrl" in body


def test_profile_routes_set_the_profile_and_answer_value_true(client, live):
    picture = samples.data_uri(samples.PNG, "image/png")
    for route, value in (
        ("profile-name", "Loja da Ana"),
        ("profile-description", "Atendimento das 8h às 18h"),
        ("profile-picture", picture),
    ):
        response = client.put(
            _url(live, route), {"value": value}, content_type="application/json"
        )
        assert (response.status_code, response.json()) == (200, {"value": True})
    live.refresh_from_db()
    assert live.profile_name == "Loja da Ana"
    assert live.profile_about == "Atendimento das 8h às 18h"
    assert live.profile_picture.mime_type == "image/png"


def test_a_profile_name_too_long_is_refused_with_error(client, live):
    response = client.put(
        _url(live, "profile-name"), {"value": "x" * 26}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]


def test_read_message_and_delete_answer_204(client, live, queued_tasks):
    sent = _assert_sent(
        _post(client, live, "send-text", {"phone": "5521998765432", "message": "x"})
    )
    messaging.message_send(
        message_id=Message.objects.get(message_id=sent["messageId"]).pk
    )
    # The simulated phone keeps what the contact sends in its conversation.
    inbound = engine_get().phone_send_message(live.engine_ref, "5521998765432", "oi")

    read = _post(
        client,
        live,
        "read-message",
        {"phone": "5521998765432", "messageId": inbound.extra["message_id"]},
    )
    deleted = client.delete(
        _url(live, "messages")
        + f"?messageId={sent['messageId']}&phone=5521998765432&owner=true"
    )

    assert (read.status_code, deleted.status_code) == (204, 204)
    assert (
        SimulatedMessage.objects.get(message_id=inbound.extra["message_id"]).status
        == "read"
    )
    assert SimulatedMessage.objects.get(message_id=sent["messageId"]).status == (
        "deleted"
    )


def test_the_queue_lists_in_pascal_case_and_removes(client, live, queued_tasks):
    answers = [
        _assert_sent(
            _post(
                client,
                live,
                "send-text",
                {"phone": "5521998765432", "message": f"fila {n}", "delayTyping": 3},
            )
        )
        for n in range(3)
    ]

    items = client.get(_url(live, "queue") + "?page=1&pageSize=10").json()
    assert isinstance(items, list) and len(items) == 3
    first = items[0]
    assert set(first) == {
        "_id",
        "DelayMessage",
        "Message",
        "IsTrial",
        "InstanceId",
        "Phone",
        "ZaapId",
        "DelayTyping",
        "MessageId",
        "Created",
    }
    assert (first["Message"], first["Phone"], first["DelayTyping"]) == (
        "fila 0",
        "5521998765432",
        3,
    )
    assert first["MessageId"] == answers[0]["messageId"]
    assert isinstance(first["Created"], int) and isinstance(first["IsTrial"], bool)
    assert client.get(_url(live, "queue/count")).json() == {"count": 3}

    removed = client.delete(_url(live, f"queue/{answers[0]['zaapId']}"))
    assert removed.status_code == 200
    assert client.delete(_url(live, "queue")).json() == {"value": True, "removed": 2}
    assert client.get(_url(live, "queue")).json() == []
    assert (
        Message.objects.filter(status=MessageStatus.FAILED).count() == 3
    )  # each announced as failed, never sent
    again = client.delete(_url(live, f"queue/{answers[0]['zaapId']}"))
    assert again.status_code == 404 and again.json()["error"]


def test_errors_carry_error_beside_code_and_message(client, live, owner):
    services.instance_disconnect(instance=live, actor_kind="customer", actor=owner)

    response = _post(
        client, live, "send-text", {"phone": "5521998765432", "message": "x"}
    )

    assert response.status_code == 409
    body = response.json()
    assert (
        body["error"]
        == body["message"]
        == ("A instância não está conectada ao WhatsApp.")
    )
    assert body["code"] == "instance_not_connected"


def test_a_phone_sent_as_a_json_number_is_taken(client, live, queued_tasks):
    _assert_sent(
        _post(client, live, "send-text", {"phone": 5521998765432, "message": "oi"})
    )


def test_delay_out_of_range_is_refused_and_nothing_is_queued(
    client, live, queued_tasks
):
    response = _post(
        client,
        live,
        "send-text",
        {"phone": "5521998765432", "message": "x", "delayMessage": 16},
    )
    assert response.status_code == 422
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("post", "exclusions", {"phone": "5521998765432", "reason": "a\x00"}),
        ("put", "profile-name", {"value": "Loja\x00"}),
        ("put", "update-webhook-received", {"value": "https://a.com.br/\x00"}),
        ("get", "phone-exists/55219987\x0065432", None),
        ("delete", "messages?messageId=a%00&phone=5521998765432", None),
    ],
)
def test_a_nul_anywhere_is_422_on_every_route(client, live, method, route, body):
    kwargs = {"content_type": "application/json"} if body is not None else {}
    args = (body,) if body is not None else ()
    response = getattr(client, method)(_url(live, route), *args, **kwargs)

    assert response.status_code == 422, response.content
    assert response.json()["code"] in ("invalid_text", "invalid_request")


def test_a_nul_character_is_refused_with_422_not_500(client, live, queued_tasks):
    for route, fields in (
        ("send-text", {"message": "a\x00b"}),
        ("send-contact", {"contactName": "A\x00", "contactPhone": "5521998765432"}),
        ("send-location", {"title": "\x00", "latitude": "1", "longitude": "1"}),
    ):
        response = _post(client, live, route, {"phone": "5521998765432", **fields})
        assert response.status_code == 422, route
    assert not Message.objects.exists()


class TestClientToken:
    def test_when_on_every_call_without_it_is_401_on_both_shapes(self, client, live):
        token = client_token_create(user=live.owner)
        client_token_enable(user=live.owner, enabled=True)

        for url, headers in (
            (_url(live, "status"), {}),
            (
                f"/instances/{live.pk}/status",
                {"HTTP_AUTHORIZATION": f"Bearer {live.token}"},
            ),
        ):
            refused = client.get(url, **headers)
            wrong = client.get(url, HTTP_CLIENT_TOKEN="errado", **headers)
            right = client.get(url, HTTP_CLIENT_TOKEN=token, **headers)
            assert (refused.status_code, wrong.status_code, right.status_code) == (
                401,
                401,
                200,
            )
            assert refused.json()["code"] == "client_token_required"
        assert client.get(_url(live, "status")).json()["error"]

    def test_off_by_default_calls_without_it_work(self, client, live):
        client_token_create(user=live.owner)
        assert client.get(_url(live, "status")).status_code == 200


def test_the_paged_queue_walks_every_message_once(client, live, queued_tasks):
    sent = [
        _assert_sent(
            _post(
                client,
                live,
                "send-text",
                {"phone": "5521998765432", "message": f"m{n}", "delayMessage": 5},
            )
        )["messageId"]
        for n in range(5)
    ]

    seen, state, pages = [], None, 0
    while True:
        body = _post(client, live, "queue", {"pageSize": 2, "pagingState": state})
        assert body.status_code == 200
        page = body.json()
        assert set(page) == {"messages", "pagingState", "hasMore"}
        seen += [m["MessageId"] for m in page["messages"]]
        pages += 1
        if not page["hasMore"]:
            assert page["pagingState"] is None
            break
        state = page["pagingState"]
    assert (seen, pages) == (sent, 3)
    bad = _post(client, live, "queue", {"pagingState": "nao-e-meu"})
    assert bad.status_code == 422 and bad.json()["error"]
