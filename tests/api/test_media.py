"""Media given as a data URI (checked in the request) or as a URL (fetched
by the worker through the webhook guard), and the schedule of delayMessage
and delayTyping."""

import contextlib
import http.server
import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from instances import messaging
from instances.messaging import Draft
from instances.models import MediaFile, Message, MessageKind, MessageStatus
from tests.api import samples
from webhooks import services as webhook_services
from webhooks.models import EventKind, WebhookEvent

pytestmark = pytest.mark.django_db


class Files:
    """A real HTTP server on 127.0.0.1 serving `routes` (path → (status,
    body, headers))."""

    def __init__(self, routes: dict):
        self.routes = routes
        self.hits = []
        files = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                files.hits.append(self.path)
                status, body, headers = files.routes.get(self.path, (404, b"", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def files(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True  # loopback allowed only in tests
    server = Files(
        {
            "/foto.png": (200, samples.PNG, {"Content-Type": "image/png"}),
            "/falso.png": (200, samples.PDF, {"Content-Type": "image/png"}),
            "/grande.png": (200, b"\x89PNG" + bytes(6 * 1024 * 1024), {}),
            "/contrato.pdf": (200, samples.PDF, {}),
            "/muda": (302, b"", {"Location": "http://169.254.169.254/"}),
        }
    )
    yield server
    server.close()


@pytest.fixture
def status_hook(live):
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    return live


def _accept(live, kind, media, **extra):
    return messaging.message_accept(
        instance=live,
        phone="5521998765432",
        draft=Draft(kind=kind, media=media, **extra),
    )


def _statuses(message) -> list[tuple[str, str]]:
    return [
        (e.payload["data"]["status"], e.payload["data"].get("error", ""))
        for e in WebhookEvent.objects.filter(kind=EventKind.MESSAGE_STATUS).order_by(
            "created_at"
        )
        if e.payload["data"]["message_id"] == str(message.pk)
    ]


def test_a_media_url_is_fetched_by_the_worker_not_the_request(
    live, files, queued_tasks
):
    message = _accept(live, MessageKind.IMAGE, files.url("/foto.png"))
    assert files.hits == []  # the request only queued it
    assert message.media is None

    messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert files.hits == ["/foto.png"]
    assert message.status == MessageStatus.SENT
    assert message.media.mime_type == "image/png"
    with message.media.file.open("rb") as stored:
        assert stored.read() == samples.PNG


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("/falso.png", MessageKind.IMAGE, "não é um arquivo de imagem"),
        ("/grande.png", MessageKind.IMAGE, "tamanho permitido"),
        ("/muda", MessageKind.IMAGE, "redireciona"),
        ("/nao-existe.png", MessageKind.IMAGE, "respondeu 404"),
    ],
)
def test_a_failed_fetch_fails_the_message_with_a_portuguese_reason_and_its_webhook(
    live, files, status_hook, queued_tasks, path, kind, reason
):
    message = _accept(live, kind, files.url(path))

    messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert reason in message.error
    assert _statuses(message) == [("failed", message.error)]


def test_a_media_url_to_a_private_address_is_refused_at_fetch_time(
    live, status_hook, queued_tasks, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    message = _accept(live, MessageKind.IMAGE, "http://127.0.0.1:9/foto.png")

    messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "rede interna" in message.error
    assert not MediaFile.objects.exists()


def test_a_document_whose_content_contradicts_its_extension_is_refused(
    client, live, queued_tasks
):
    response = client.post(
        f"/instances/{live.pk}/token/{live.token}/send-document/pdf",
        {"phone": "5521998765432", "document": samples.data_uri(samples.PNG)},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["code"] == "media_type_mismatch"
    assert not Message.objects.exists() and not MediaFile.objects.exists()


@pytest.mark.parametrize(
    ("route", "field", "data", "code"),
    [
        ("send-image", "image", samples.PDF, "unsupported_media_type"),
        ("send-audio", "audio", samples.PNG, "unsupported_media_type"),
        ("send-sticker", "sticker", samples.JPEG, "unsupported_media_type"),
        ("send-image", "image", b"MZ" + bytes(100), "unsupported_media_type"),
    ],
)
def test_the_type_is_read_from_the_content_not_the_claim(
    client, live, queued_tasks, route, field, data, code
):
    # Each claims to be what its route wants; the bytes say otherwise.
    response = client.post(
        f"/instances/{live.pk}/token/{live.token}/{route}",
        {"phone": "5521998765432", field: samples.data_uri(data, "image/png")},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert not Message.objects.exists()


def test_media_over_the_kind_limit_is_413_json_and_nothing_is_kept(
    client, live, queued_tasks
):
    big = samples.data_uri(b"\x89PNG" + bytes(5 * 1024 * 1024 + 10), "image/png")

    response = client.post(
        f"/instances/{live.pk}/token/{live.token}/send-image",
        {"phone": "5521998765432", "image": big},
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "media_too_large"
    assert "5 MB" in response.json()["error"]
    assert not Message.objects.exists() and not MediaFile.objects.exists()


def test_a_body_over_the_request_limit_is_413_json(client, live, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(
        f"/instances/{live.pk}/send-image",
        {"phone": "5521998765432", "image": samples.data_uri(bytes(2000))},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {live.token}",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_refused_send_keeps_no_media(live, queued_tasks, owner):
    from instances import services

    services.instance_disconnect(instance=live, actor_kind="customer", actor=owner)
    with pytest.raises(messaging.SendRefused):
        _accept(live, MessageKind.IMAGE, samples.data_uri(samples.PNG))
    assert not MediaFile.objects.exists()


def test_every_check_of_send_text_applies_to_media(live, queued_tasks):
    from instances import health

    health.exclusion_add(
        instance=live, phone="5521998765432", reason="pediu", source="customer"
    )
    with pytest.raises(messaging.SendRefused) as refused:
        _accept(live, MessageKind.IMAGE, samples.data_uri(samples.PNG))
    assert refused.value.code == "recipient_excluded"
    with pytest.raises(messaging.SendRefused) as refused:
        messaging.message_accept(
            instance=live,
            phone="123",
            draft=Draft(kind=MessageKind.LOCATION, content={"latitude": 1.0}),
        )
    assert refused.value.code == "invalid_phone"
    assert not Message.objects.exists()


def test_delay_message_is_handed_to_the_broker_as_a_countdown(live, queued_tasks):
    message = messaging.message_accept(
        instance=live,
        phone="5521998765432",
        draft=Draft(text="depois", delay_message=10),
    )

    messaging.messages_dispatch()

    sends = [c for name, args, c in queued_tasks if name == messaging.SEND_TASK]
    assert len(sends) == 1 and 8 <= sends[0] <= 10
    assert message.send_after > timezone.now() + timedelta(seconds=8)


def test_delay_typing_shows_typing_first_and_sends_when_it_ends(
    live, queued_tasks, django_capture_on_commit_callbacks
):
    from instances.models import SimulatedSession

    message = messaging.message_accept(
        instance=live,
        phone="5521998765432",
        draft=Draft(text="digitado", delay_typing=5),
    )

    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED  # not yet: typing
    presence = SimulatedSession.objects.get(engine_ref=live.engine_ref).presence
    assert (presence["to"], presence["presence"]) == ("+5521998765432", "composing")
    sends = [c for name, args, c in queued_tasks if name == messaging.SEND_TASK]
    assert sends and 4 <= sends[-1] <= 5

    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        messaging.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_an_expired_trial_refuses_every_kind_before_decoding(live, queued_tasks):
    from instances.models import Instance

    Instance.objects.filter(pk=live.pk).update(
        trial_ends_at=timezone.now() - timedelta(minutes=1)
    )
    live.refresh_from_db()
    for kind, media in (
        (MessageKind.IMAGE, samples.data_uri(samples.PNG)),
        (MessageKind.DOCUMENT, "https://exemplo.com.br/a.pdf"),
    ):
        with pytest.raises(messaging.SendRefused) as refused:
            _accept(live, kind, media)
        assert (refused.value.status, refused.value.code) == (402, "trial_expired")
    assert not Message.objects.exists() and not MediaFile.objects.exists()


def test_media_count_against_the_warm_up_limit(live, queued_tasks):
    from instances.models import Instance

    Instance.objects.filter(pk=live.pk).update(warmup_plan=[2])
    live.refresh_from_db()
    _accept(live, MessageKind.IMAGE, samples.data_uri(samples.PNG))
    messaging.message_accept(
        instance=live,
        phone="5521998765432",
        draft=Draft(kind=MessageKind.LOCATION, content={"latitude": 1.0}),
    )
    with pytest.raises(messaging.SendRefused) as refused:
        _accept(live, MessageKind.STICKER, samples.data_uri(samples.WEBP))
    assert refused.value.status == 429
    assert Message.objects.count() == 2
    assert MediaFile.objects.count() == 1  # the refused sticker kept nothing


def test_an_engine_that_answers_after_the_typing_still_sends_on_time(
    live, queued_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    # Evolution's sendPresence answers only once the presence has been shown.
    traveller = time_machine.travel(timezone.now(), tick=False)
    clock = traveller.start()
    started = timezone.now()

    def blocking_presence(self, session, *, to, presence, seconds):
        clock.shift(timedelta(seconds=seconds))

    monkeypatch.setattr(
        "instances.engines.simulator.SimulatorEngine.chat_presence_send",
        blocking_presence,
    )
    try:
        message = messaging.message_accept(
            instance=live,
            phone="5521998765432",
            draft=Draft(text="digitado", delay_typing=5),
        )
        with django_capture_on_commit_callbacks(execute=True):
            messaging.message_send(message_id=message.pk)
    finally:
        traveller.stop()

    message.refresh_from_db()
    assert message.send_after == started + timedelta(seconds=5)
    countdown = [c for name, args, c in queued_tasks if name == messaging.SEND_TASK]
    assert countdown == [None]  # due now: the typing already lasted 5 s
