"""The contract's update-webhook-* routes, on both route shapes: they set the
URLs the Webhooks tab shows, refuse what its guard refuses, and leave the
payload format alone."""

import pytest
from django.urls import reverse

from instances import services
from webhooks import services as webhook_services
from webhooks.models import EventKind, PayloadFormat, WebhookEndpoint

pytestmark = pytest.mark.django_db

HOOK = "http://127.0.0.1:8799/hooks"
PRIVATE = "https://10.20.30.40/hooks"

ROUTES = [
    ("update-webhook-received", EventKind.MESSAGE_RECEIVED),
    ("update-webhook-delivery", EventKind.MESSAGE_SENT),
    ("update-webhook-message-status", EventKind.MESSAGE_STATUS),
    ("update-webhook-connected", EventKind.CONNECTED),
    ("update-webhook-disconnected", EventKind.DISCONNECTED),
    ("update-webhook-chat-presence", EventKind.CHAT_PRESENCE),
]


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # HOOK lives on 127.0.0.1; private addresses stay refused.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def instance(owner):
    return services.instance_create(owner=owner, name="Vendas")


def _shapes(instance, route):
    """The route with the token in the path, and with the Bearer header."""
    return [
        ("token", f"/instances/{instance.pk}/token/{instance.token}/{route}", {}),
        (
            "bearer",
            f"/instances/{instance.pk}/{route}",
            {"HTTP_AUTHORIZATION": f"Bearer {instance.token}"},
        ),
    ]


def _put(client, url, headers, body):
    return client.put(url, body, content_type="application/json", **headers)


def _url(instance, kind) -> str | None:
    endpoint = WebhookEndpoint.objects.filter(instance=instance, kind=kind).first()
    return endpoint.url if endpoint else None


def _tab_value(owner_client, instance, kind) -> str:
    """The value of the kind's URL field as the Webhooks tab shows it."""
    page = owner_client.get(reverse("webhooks:edit", args=[instance.pk]))
    return page.context["form"][f"{kind}-url"].value()


def _settings(instance):
    return webhook_services.webhook_settings_get(instance_id=instance.pk)


@pytest.mark.parametrize(("route", "kind"), ROUTES, ids=[r for r, _k in ROUTES])
def test_each_route_sets_the_url_the_tab_shows_on_both_shapes(
    client, owner_client, instance, route, kind
):
    for shape, url, headers in _shapes(instance, route):
        hook = f"{HOOK}/{shape}"
        response = _put(client, url, headers, {"value": hook})

        assert response.status_code == 200, response.content
        assert response.json() == {"value": True}
        assert _url(instance, kind) == hook
        assert _tab_value(owner_client, instance, kind) == hook
        endpoint = WebhookEndpoint.objects.get(instance=instance, kind=kind)
        assert endpoint.enabled
    others = [k for k in EventKind.values if k != kind]
    assert not WebhookEndpoint.objects.filter(
        instance=instance, kind__in=others
    ).exists()


@pytest.mark.parametrize(
    "route",
    [route for route, _kind in ROUTES]
    + ["update-webhook-received-delivery", "update-every-webhooks"],
)
def test_a_private_address_is_refused_with_the_reason_and_nothing_saved(
    client, instance, route
):
    for shape, url, headers in _shapes(instance, route):
        response = _put(client, url, headers, {"value": PRIVATE})

        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_webhook_url"
        assert "rede interna ou reservada" in body["message"]
        if shape == "token":
            assert body["error"] == body["message"]
        else:
            assert "error" not in body
    assert not WebhookEndpoint.objects.filter(instance=instance).exists()
    assert _settings(instance).notify_sent_by_me is False


def test_an_address_that_is_not_a_url_or_not_https_is_refused(
    client, instance, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    for value in ("nao-e-url", "http://1.1.1.1/hooks", HOOK):
        (_shape, url, headers), _bearer = _shapes(instance, "update-webhook-received")
        response = _put(client, url, headers, {"value": value})
        assert response.status_code == 422, value
        assert response.json()["code"] == "invalid_webhook_url"
    assert not WebhookEndpoint.objects.filter(instance=instance).exists()


def test_an_empty_value_clears_the_url(client, owner_client, instance):
    webhook_services.webhook_endpoints_save(
        instance=instance, values={EventKind.MESSAGE_STATUS.value: (HOOK, True)}
    )
    for _shape, url, headers in _shapes(instance, "update-webhook-message-status"):
        response = _put(client, url, headers, {"value": ""})
        assert response.json() == {"value": True}
        assert _url(instance, EventKind.MESSAGE_STATUS) == ""
        assert _tab_value(owner_client, instance, EventKind.MESSAGE_STATUS) == ""


def test_received_delivery_sets_the_received_url_and_turns_sent_by_me_on(
    client, instance
):
    for shape, url, headers in _shapes(instance, "update-webhook-received-delivery"):
        webhook_services.webhook_endpoints_save(
            instance=instance, values={}, notify_sent_by_me=False
        )
        response = _put(client, url, headers, {"value": f"{HOOK}/{shape}"})

        assert response.json() == {"value": True}
        assert _url(instance, EventKind.MESSAGE_RECEIVED) == f"{HOOK}/{shape}"
        assert _settings(instance).notify_sent_by_me is True
    assert WebhookEndpoint.objects.filter(instance=instance).count() == 1


def test_every_webhooks_sets_all_six_and_the_sent_by_me_flag_when_given(
    client, owner_client, instance
):
    (_t, token_url, token_headers), (_b, bearer_url, bearer_headers) = _shapes(
        instance, "update-every-webhooks"
    )
    response = _put(
        client, token_url, token_headers, {"value": HOOK, "notifySentByMe": True}
    )

    assert response.json() == {"value": True}
    for kind in EventKind.values:
        assert _url(instance, kind) == HOOK
        assert _tab_value(owner_client, instance, kind) == HOOK
    assert _settings(instance).notify_sent_by_me is True

    # Without notifySentByMe the flag stays as it was.
    _put(client, bearer_url, bearer_headers, {"value": f"{HOOK}/b"})
    assert {_url(instance, kind) for kind in EventKind.values} == {f"{HOOK}/b"}
    assert _settings(instance).notify_sent_by_me is True
    _put(client, bearer_url, bearer_headers, {"value": "", "notifySentByMe": False})
    assert {_url(instance, kind) for kind in EventKind.values} == {""}
    assert _settings(instance).notify_sent_by_me is False


def test_notify_sent_by_me_takes_value_or_notify_sent_by_me(client, instance):
    (_t, token_url, token_headers), (_b, bearer_url, bearer_headers) = _shapes(
        instance, "update-notify-sent-by-me"
    )

    assert _put(client, token_url, token_headers, {"value": True}).json() == {
        "value": True
    }
    assert _settings(instance).notify_sent_by_me is True
    _put(client, bearer_url, bearer_headers, {"value": False})
    assert _settings(instance).notify_sent_by_me is False
    # Z-API's own page sends the flag as notifySentByMe.
    _put(client, token_url, token_headers, {"notifySentByMe": True})
    assert _settings(instance).notify_sent_by_me is True

    refused = _put(client, bearer_url, bearer_headers, {})
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_request"
    assert _settings(instance).notify_sent_by_me is True


def test_the_routes_never_change_the_payload_format(client, instance):
    webhook_services.webhook_endpoints_save(
        instance=instance, values={}, payload_format=PayloadFormat.ZAPI
    )
    for route in [r for r, _k in ROUTES] + [
        "update-webhook-received-delivery",
        "update-every-webhooks",
    ]:
        for _shape, url, headers in _shapes(instance, route):
            assert _put(client, url, headers, {"value": HOOK}).status_code == 200
    for _shape, url, headers in _shapes(instance, "update-notify-sent-by-me"):
        assert _put(client, url, headers, {"value": True}).status_code == 200

    assert _settings(instance).payload_format == PayloadFormat.ZAPI
    webhook_services.webhook_endpoints_save(
        instance=instance, values={}, payload_format=PayloadFormat.PLUGMESSAGE
    )
    for _shape, url, headers in _shapes(instance, "update-every-webhooks"):
        _put(client, url, headers, {"value": HOOK})
    assert _settings(instance).payload_format == PayloadFormat.PLUGMESSAGE


def test_a_url_set_through_the_api_clears_a_disabled_state(client, instance):
    webhook_services.webhook_endpoints_save(
        instance=instance, values={EventKind.CONNECTED.value: (HOOK, False)}
    )
    endpoint = WebhookEndpoint.objects.get(instance=instance)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_reason="410", disabled_at="2026-01-01T00:00Z"
    )
    (_shape, url, headers), _bearer = _shapes(instance, "update-webhook-connected")
    _put(client, url, headers, {"value": f"{HOOK}/novo"})

    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.url == f"{HOOK}/novo"


def test_a_wrong_token_is_401_and_another_instances_token_is_404(
    client, instance, other
):
    elsewhere = services.instance_create(owner=other, name="Outra")
    wrong = _put(
        client,
        f"/instances/{instance.pk}/token/errado/update-webhook-received",
        {},
        {"value": HOOK},
    )
    foreign = _put(
        client,
        f"/instances/{instance.pk}/update-webhook-received",
        {"HTTP_AUTHORIZATION": f"Bearer {elsewhere.token}"},
        {"value": HOOK},
    )
    anonymous = _put(
        client, f"/instances/{instance.pk}/update-every-webhooks", {}, {"value": HOOK}
    )

    assert (wrong.status_code, foreign.status_code, anonymous.status_code) == (
        401,
        404,
        401,
    )
    assert not WebhookEndpoint.objects.exists()


def test_the_routes_answer_only_put(client, instance):
    for _shape, url, headers in _shapes(instance, "update-webhook-received"):
        assert client.get(url, **headers).status_code == 405
        assert (
            client.post(
                url, {"value": HOOK}, content_type="application/json", **headers
            ).status_code
            == 405
        )
    assert not WebhookEndpoint.objects.exists()


def test_the_routes_are_in_the_api_docs_on_both_shapes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for route in [r for r, _k in ROUTES] + [
        "update-webhook-received-delivery",
        "update-every-webhooks",
        "update-notify-sent-by-me",
    ]:
        assert "put" in paths[f"/instances/{{instance_id}}/{route}"]
        assert "put" in paths[f"/instances/{{instance_id}}/token/{{token}}/{route}"]
