from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime

from webhooks import services
from webhooks.models import DeliveryStatus, EventKind, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def delivery(emit, receiver):
    return emit()


def _urls(instance, delivery=None, endpoint=None):
    pk = instance.pk
    urls = [
        ("get", reverse("webhooks:edit", args=[pk]), None),
        ("post", reverse("webhooks:edit", args=[pk]), {"message.received-url": ""}),
        ("post", reverse("webhooks:test", args=[pk, "message.received"]), {}),
        ("get", reverse("webhooks:secret", args=[pk]), None),
        ("post", reverse("webhooks:secret", args=[pk]), {}),
        ("post", reverse("webhooks:replay", args=[pk]), {"since": "2026-01-01T00:00"}),
        ("get", reverse("webhooks:deliveries", args=[pk]), None),
    ]
    if delivery:
        urls += [
            ("get", reverse("webhooks:delivery", args=[pk, delivery.pk]), None),
            ("post", reverse("webhooks:resend", args=[pk, delivery.pk]), {}),
        ]
    if endpoint:
        urls.append(
            ("post", reverse("webhooks:reactivate", args=[pk, endpoint.pk]), {})
        )
    return urls


def _snapshot(instance):
    return (
        list(WebhookEndpoint.objects.filter(instance=instance).values()),
        WebhookDelivery.objects.count(),
        services.webhook_settings_get(instance_id=instance.pk).secret,
    )


def test_every_url_is_404_for_another_customer_and_changes_nothing(
    client, other, hooked, delivery
):
    endpoint = WebhookEndpoint.objects.filter(instance=hooked).first()
    before = _snapshot(hooked)
    client.force_login(other)
    for method, url, data in _urls(hooked, delivery, endpoint):
        response = (
            getattr(client, method)(url, data) if data is not None else client.get(url)
        )
        assert response.status_code == 404, url
    assert _snapshot(hooked) == before


def test_every_url_sends_a_visitor_to_login(client, hooked, delivery):
    endpoint = WebhookEndpoint.objects.filter(instance=hooked).first()
    before = _snapshot(hooked)
    for method, url, data in _urls(hooked, delivery, endpoint):
        response = (
            getattr(client, method)(url, data) if data is not None else client.get(url)
        )
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url
    assert _snapshot(hooked) == before


def test_the_tab_has_a_url_and_switch_per_kind_and_the_secret(owner_client, instance):
    body = owner_client.get(
        reverse("webhooks:edit", args=[instance.pk])
    ).content.decode()

    for kind in EventKind:
        assert str(kind.label) in body
        assert f'name="{kind.value}-url"' in body
        assert f'name="{kind.value}-enabled"' in body
    assert "Usar a mesma URL para todos" in body
    secret = services.webhook_settings_get(instance_id=instance.pk).secret
    assert secret.startswith("whsec_") and secret in body
    assert "Gerar novo segredo" in body
    assert "Enviar teste" in body


def test_saving_urls_and_switches(owner_client, instance, receiver):
    url = reverse("webhooks:edit", args=[instance.pk])
    data = {
        "message.received-url": receiver.url,
        "message.received-enabled": "on",
        "instance.connected-url": receiver.url,
    }
    response = owner_client.post(url, data, follow=True)

    assert "Webhooks salvos." in response.content.decode()
    received = WebhookEndpoint.objects.get(instance=instance, kind="message.received")
    connected = WebhookEndpoint.objects.get(
        instance=instance, kind="instance.connected"
    )
    assert (received.url, received.enabled) == (receiver.url, True)
    assert (connected.url, connected.enabled) == (receiver.url, False)


def test_the_same_url_for_all(owner_client, instance, receiver):
    url = reverse("webhooks:edit", args=[instance.pk])
    data = {"use_same_url": "on", "same_url": receiver.url}
    data |= {f"{kind.value}-enabled": "on" for kind in EventKind}
    owner_client.post(url, data)

    assert set(
        WebhookEndpoint.objects.filter(instance=instance).values_list("url", flat=True)
    ) == {receiver.url}


def test_the_url_for_all_counts_only_with_its_box_on(owner_client, instance, receiver):
    """Without JavaScript the field stays editable: whatever it holds is
    ignored while "Usar a mesma URL para todos" is off."""
    url = reverse("webhooks:edit", args=[instance.pk])
    data = {"same_url": "lixo digitado", "message.received-url": receiver.url}
    response = owner_client.post(url, data, follow=True)

    assert "Webhooks salvos." in response.content.decode()
    assert WebhookEndpoint.objects.get(
        instance=instance, kind="message.received"
    ).url == (receiver.url)
    page = owner_client.get(url).content.decode()
    assert 'data-enables="id_same_url"' in page


def test_a_bad_url_is_explained_and_every_field_kept(owner_client, instance, receiver):
    url = reverse("webhooks:edit", args=[instance.pk])
    data = {"message.received-url": "nao-e-url", "message.sent-url": receiver.url}
    response = owner_client.post(url, data)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Informe uma URL completa" in body
    assert 'value="nao-e-url"' in body
    assert f'value="{receiver.url}"' in body
    assert not WebhookEndpoint.objects.filter(instance=instance).exists()


def test_the_test_button_sends_a_sample_and_shows_the_answer_inline(
    hooked, receiver, press_test
):
    receiver.script = [(201, b'{"recebido": true}', {}, 0)]
    response = press_test(hooked, "message.status")

    assert response.status_code == 286
    body = response.content.decode()
    assert "HTTP 201" in body and " ms" in body
    assert "recebido" in body
    assert receiver.received[0].verified
    delivery = WebhookDelivery.objects.get()
    assert delivery.is_test and delivery.status == DeliveryStatus.SUCCEEDED


def test_the_test_button_works_without_javascript_and_keeps_what_was_typed(
    owner_client, hooked, receiver
):
    receiver.script = [(500, b"falhou", {}, 0)]
    response = owner_client.post(
        reverse("webhooks:test", args=[hooked.pk, "message.status"]),
        {"message.sent-url": "https://ainda-nao-salvo.com.br/x"},
    )

    body = response.content.decode()
    assert "Resultado do teste" in body and "HTTP 500" in body and "falhou" in body
    assert 'value="https://ainda-nao-salvo.com.br/x"' in body


def test_testing_a_kind_without_url_says_to_save_first(owner_client, instance):
    response = owner_client.post(
        reverse("webhooks:test", args=[instance.pk, "message.status"]), **HTMX
    )
    assert "Salve uma URL" in response.content.decode()


def test_rotating_the_secret_asks_first(owner_client, instance):
    url = reverse("webhooks:secret", args=[instance.pk])
    old = services.webhook_settings_get(instance_id=instance.pk).secret
    assert "24 horas" in owner_client.get(url).content.decode()
    assert services.webhook_settings_get(instance_id=instance.pk).secret == old

    owner_client.post(url)
    row = services.webhook_settings_get(instance_id=instance.pk)
    assert row.secret != old and row.previous_secret == old


def test_the_delivery_log_filters_and_opens_a_delivery(
    owner_client, hooked, emit, receiver
):
    receiver.script = [(200, b"ok", {}, 0)]
    good = emit(kind=EventKind.MESSAGE_RECEIVED)
    receiver.script = [(500, b"quebrado", {}, 0)]
    bad = emit(kind=EventKind.CONNECTED)
    url = reverse("webhooks:deliveries", args=[hooked.pk])

    everything = owner_client.get(url).content.decode()
    assert good.event_id in everything and bad.event_id in everything
    only_pending = owner_client.get(url, {"resultado": "pending"}).content.decode()
    assert bad.event_id in only_pending and good.event_id not in only_pending
    only_received = owner_client.get(url, {"tipo": "message.received"}).content.decode()
    assert good.event_id in only_received and bad.event_id not in only_received

    detail = owner_client.get(
        reverse("webhooks:delivery", args=[hooked.pk, bad.pk])
    ).content.decode()
    assert "HTTP 500" in detail
    assert "quebrado" in detail
    assert "webhook-signature" in detail
    secret = services.webhook_settings_get(instance_id=hooked.pk).secret
    assert secret not in detail


def test_the_delivery_log_says_how_far_back_it_goes_and_shows_no_more(
    owner_client, owner, hooked, emit, settings
):
    old = emit()
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        recent = emit()
    url = reverse("webhooks:deliveries", args=[hooked.pk])

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        owner_client.force_login(owner)  # the session of a month ago expired
        page = owner_client.get(url).content.decode()
        assert "Entregas dos últimos 30 dias" in page
        assert recent.event_id in page and old.event_id not in page

        settings.RETENTION_DELIVERIES_DAYS = 0
        page = owner_client.get(url).content.decode()
        assert "últimos" not in page
        assert recent.event_id in page and old.event_id in page


def test_the_log_costs_the_same_queries_for_few_and_many(
    owner_client, hooked, emit, receiver
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("webhooks:deliveries", args=[hooked.pk])
    emit()
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for _ in range(30):
        emit()
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(few) == len(many)


def test_resending_creates_a_new_delivery_with_the_same_webhook_id(
    owner_client, delivery, sent_tasks
):
    instance_id = delivery.endpoint.instance_id
    response = owner_client.post(
        reverse("webhooks:resend", args=[instance_id, delivery.pk])
    )

    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.event_id == delivery.event_id
    assert response.url == reverse("webhooks:delivery", args=[instance_id, again.pk])


def test_reactivating_and_replaying_failures(
    owner_client, hooked, emit, receiver, monkeypatch
):
    receiver.script = [(410, b"", {}, 0)]
    failed = emit()
    endpoint = WebhookEndpoint.objects.get(pk=failed.endpoint_id)
    assert endpoint.disabled_at
    page = owner_client.get(reverse("webhooks:edit", args=[hooked.pk])).content.decode()
    assert "desativado" in page and "Reativar" in page

    owner_client.post(reverse("webhooks:reactivate", args=[hooked.pk, endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None

    response = owner_client.post(
        reverse("webhooks:replay", args=[hooked.pk]),
        {"since": localtime(failed.created_at).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    body = response.content.decode()
    assert "1 entrega com falha foi reenviada" in body
    again = owner_client.post(
        reverse("webhooks:replay", args=[hooked.pk]),
        {"since": localtime(failed.created_at).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "0 entregas com falha foram reenviadas" in again.content.decode()
    assert WebhookDelivery.objects.filter(event_id=failed.event_id).count() == 2


def test_the_docs_page_shows_every_kind_and_how_to_verify(owner_client):
    body = owner_client.get(reverse("webhooks:docs")).content.decode()
    for kind in EventKind:
        assert kind.value in body
    assert "webhook-signature" in body
    assert "from standardwebhooks import Webhook" in body
    assert 'import { Webhook } from "standardwebhooks"' in body


def test_staff_read_deliveries_in_the_admin_and_change_nothing(staff_client, delivery):
    listing = staff_client.get(reverse("admin:webhooks_webhookdelivery_changelist"))
    page = staff_client.get(
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    )

    assert listing.status_code == 200 and delivery.event_id in listing.content.decode()
    assert (
        page.status_code == 200 and "HTTP" not in "" and "200" in page.content.decode()
    )
    assert (
        staff_client.post(
            reverse("admin:webhooks_webhookdelivery_delete", args=[delivery.pk]),
            {"post": "yes"},
        ).status_code
        == 403
    )


def test_the_api_docs_page_links_the_webhooks_guide(owner_client):
    body = owner_client.get(reverse("api:openapi-view")).content.decode()
    assert reverse("webhooks:docs") in body
