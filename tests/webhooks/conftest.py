import pytest

from instances import services as instance_services
from tests.receiver import Receiver
from webhooks import services
from webhooks.models import EventKind, WebhookDelivery


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # The receivers of these tests live on 127.0.0.1; tests that check the
    # refusal of loopback turn this off again.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def instance(owner):
    return instance_services.instance_create(owner=owner, name="Vendas")


@pytest.fixture
def hooked(instance, receiver):
    """The instance with every event kind sent to the receiver, which knows
    the instance's secret."""
    services.webhook_endpoints_save(
        instance=instance,
        values={kind.value: (receiver.url, True) for kind in EventKind},
    )
    receiver.secrets.append(
        services.webhook_settings_get(instance_id=instance.pk).secret
    )
    return instance


@pytest.fixture
def sent_tasks(monkeypatch):
    """The names of the tasks services queue, instead of a broker."""
    sent = []
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task", lambda name, args: sent.append(name)
    )
    return sent


@pytest.fixture
def emit(hooked, django_capture_on_commit_callbacks, sent_tasks):
    """Emit an event and return its delivery after the drain the commit
    queued has run in place."""

    def emit_one(kind=EventKind.MESSAGE_RECEIVED, data=None):
        sent_tasks.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event = services.event_emit(
                instance=hooked, kind=kind, data=data or {"text": "oi"}
            )
        assert sent_tasks == [services.DRAIN_TASK]
        services.webhook_deliveries_drain()
        delivery = WebhookDelivery.objects.get(event=event)
        return delivery

    return emit_one


@pytest.fixture
def test_queue(monkeypatch):
    """The "Enviar teste" tasks asked for, as (name, args), instead of a
    broker."""
    from plugmessage import broker

    queued = []
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(broker, "_down", False)
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task",
        lambda name, args=(), **options: queued.append((name, list(args))),
    )
    return queued


@pytest.fixture
def press_test(owner_client, test_queue, django_capture_on_commit_callbacks):
    """Press "Enviar teste" with htmx ("Enviando…" at once), play the
    worker, and return the poll's answer."""
    from django.urls import reverse

    from webhooks import tasks

    def press(instance, kind):
        with django_capture_on_commit_callbacks(execute=True):
            first = owner_client.post(
                reverse("webhooks:test", args=[instance.pk, kind]),
                HTTP_HX_REQUEST="true",
            )
        assert "Enviando…" in first.content.decode()
        while test_queue:
            _name, args = test_queue.pop(0)
            tasks.webhook_test_send_task(*args)
        delivery = WebhookDelivery.objects.filter(is_test=True).latest("id")
        return owner_client.get(
            reverse("webhooks:test_result", args=[instance.pk, delivery.pk]),
            HTTP_HX_REQUEST="true",
        )

    return press
