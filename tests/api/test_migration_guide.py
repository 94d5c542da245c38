"""Documentação › Migrar do Z-API: public, and its tables come from the
API's own routes."""

import pytest
from django.urls import reverse

from instances.api import guide

pytestmark = pytest.mark.django_db

CORE = [
    ("POST", "/send-text"),
    ("POST", "/send-image"),
    ("POST", "/send-audio"),
    ("POST", "/send-video"),
    ("POST", "/send-document/{extension}"),
    ("POST", "/send-link"),
    ("POST", "/send-location"),
    ("POST", "/send-contact"),
    ("POST", "/send-reaction"),
    ("POST", "/send-sticker"),
    ("GET", "/phone-exists/{phone}"),
    ("GET", "/status"),
    ("GET", "/qr-code"),
    ("GET", "/qr-code/image"),
    ("GET", "/phone-code/{phone}"),
    ("GET", "/disconnect"),
    ("GET", "/restart"),
    ("POST", "/read-message"),
    ("DELETE", "/messages"),
    ("GET", "/queue"),
    ("DELETE", "/queue"),
    ("DELETE", "/queue/{zaap_id}"),
    ("GET", "/device"),
    ("PUT", "/profile-name"),
    ("PUT", "/profile-description"),
    ("PUT", "/profile-picture"),
]


def test_the_route_table_lists_every_route_of_the_contract():
    listed = {(r.method, r.path) for r in guide.compatible_routes()}
    assert set(CORE) <= listed
    send = next(r for r in guide.compatible_routes() if r.path == "/send-text")
    assert (send.summary, send.success, send.in_zapi) == ("Enviar texto", "200", True)
    exclusions = next(r for r in guide.compatible_routes() if r.path == "/exclusions")
    assert exclusions.in_zapi is False


def test_a_visitor_reads_the_guide_without_logging_in(client):
    response = client.get(reverse("instances:docs_migrate_zapi"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Troque só o endereço" in body
    assert "http://testserver/instances/" in body
    for _method, path in CORE:
        assert f"<code>{path}</code>" in body, path
    for zapi_type, _event, route in guide.WEBHOOK_TYPES:
        assert f"<code>{zapi_type}</code>" in body
        assert f"<code>PUT /{route}</code>" in body
    assert "O que é diferente" in body


def test_the_api_docs_link_to_the_guide(owner_client):
    body = owner_client.get(reverse("api:openapi-view")).content.decode()
    assert reverse("instances:docs_migrate_zapi") in body


def test_the_webhooks_guide_is_public_and_points_to_the_migration_guide(client):
    response = client.get(reverse("webhooks:docs"))

    assert response.status_code == 200
    assert reverse("instances:docs_migrate_zapi") in response.content.decode()
