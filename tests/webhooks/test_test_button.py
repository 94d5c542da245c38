""" "Enviar teste": the request records the test and answers "Enviando…" at
once; a task posts it; the partial polls until the answer is there."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from webhooks import services, tasks
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _press(client, instance, capture, kind="message.status"):
    with capture(execute=True):
        return client.post(reverse("webhooks:test", args=[instance.pk, kind]), **HTMX)


def _result_url(instance, delivery):
    return reverse("webhooks:test_result", args=[instance.pk, delivery.pk])


def test_the_request_answers_at_once_and_the_poll_stops_with_the_answer(
    owner_client, hooked, receiver, test_queue, django_capture_on_commit_callbacks
):
    receiver.script = [(202, b"ok", {}, 0)]
    response = _press(owner_client, hooked, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enviando…" in body and 'hx-trigger="every 2s"' in body
    assert _result_url(hooked, delivery) in body
    assert receiver.received == []  # nothing posted in the request
    assert test_queue == [(services.TEST_TASK, [delivery.pk])]

    waiting = owner_client.get(_result_url(hooked, delivery), **HTMX)
    assert waiting.status_code == 200 and "Enviando…" in waiting.content.decode()

    tasks.webhook_test_send_task(delivery.pk)
    done = owner_client.get(_result_url(hooked, delivery), **HTMX)
    assert done.status_code == 286
    text = done.content.decode()
    assert "HTTP 202" in text and " ms" in text and "Corpo enviado" in text
    assert "hx-trigger" not in text
    assert receiver.received[0].verified  # signed as every delivery
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.is_test


def test_a_second_run_of_the_task_posts_nothing_more(
    owner_client, hooked, receiver, test_queue, django_capture_on_commit_callbacks
):
    _press(owner_client, hooked, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    tasks.webhook_test_send_task(delivery.pk)
    tasks.webhook_test_send_task(delivery.pk)
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_the_drain_never_takes_a_test(
    owner_client, hooked, receiver, test_queue, django_capture_on_commit_callbacks
):
    _press(owner_client, hooked, django_capture_on_commit_callbacks)
    services.webhook_deliveries_drain()
    assert receiver.received == [] and not WebhookAttempt.objects.exists()


def test_the_result_is_404_for_another_customer_and_login_for_a_visitor(
    client, other, hooked, receiver, test_queue, django_capture_on_commit_callbacks
):
    client.force_login(hooked.owner)
    _press(client, hooked, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    url = _result_url(hooked, delivery)

    client.force_login(other)
    assert client.get(url, **HTMX).status_code == 404
    assert client.get(url).status_code == 404
    test = reverse("webhooks:test", args=[hooked.pk, "message.status"])
    assert client.post(test, **HTMX).status_code == 404
    assert WebhookDelivery.objects.count() == 1

    visitor = Client()
    page = visitor.get(url)
    assert page.status_code == 302 and page.url.startswith(reverse("account_login"))
    poll = visitor.get(url, **HTMX)
    assert poll.headers["HX-Redirect"].startswith(reverse("account_login"))
    assert visitor.post(test, **HTMX).status_code == 302
    assert WebhookDelivery.objects.count() == 1 and receiver.received == []


def test_the_result_answers_only_get_and_without_htmx_leads_to_the_tab(
    owner_client, hooked, test_queue, django_capture_on_commit_callbacks
):
    _press(owner_client, hooked, django_capture_on_commit_callbacks)
    url = _result_url(hooked, WebhookDelivery.objects.get())
    assert owner_client.post(url).status_code == 405
    page = owner_client.get(url)
    assert page.status_code == 302
    assert page.url == reverse("webhooks:edit", args=[hooked.pk])


def test_a_test_asked_for_while_the_broker_is_down_is_sent_by_the_sweep(
    owner_client,
    hooked,
    receiver,
    test_queue,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    def broker_down(name, args=(), **options):
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr("webhooks.services.current_app.send_task", broker_down)
    response = _press(owner_client, hooked, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "Enviando…" in response.content.decode()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING

    from plugmessage import broker

    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(
        "webhooks.services.current_app.send_task",
        lambda name, args=(), **options: test_queue.append((name, list(args))),
    )
    assert services.webhook_tests_resume() == 0  # its task may still come
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert services.webhook_tests_resume() == 1
    assert test_queue == [(services.TEST_TASK, [delivery.pk])]
    tasks.webhook_test_send_task(delivery.pk)
    done = owner_client.get(_result_url(hooked, delivery), **HTMX)
    assert done.status_code == 286 and "HTTP 200" in done.content.decode()


def test_a_test_never_sent_is_given_up_and_says_so(
    owner_client,
    hooked,
    receiver,
    test_queue,
    django_capture_on_commit_callbacks,
):
    _press(owner_client, hooked, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        services.webhook_tests_resume()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    poll = owner_client.get(_result_url(hooked, delivery), **HTMX)
    assert poll.status_code == 286
    assert "O teste não foi enviado. Tente de novo." in poll.content.decode()
    # Its task, late, posts nothing.
    tasks.webhook_test_send_task(delivery.pk)
    assert receiver.received == []
