import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_find_instances_by_name_number_and_owner_email(
    staff_client, connected, other_instance
):
    url = reverse("admin:instances_instance_changelist")
    for query in ("Vendas", "98765", "dona@exemplo"):
        body = staff_client.get(url, {"q": query}).content.decode()
        assert "Vendas" in body, query
        assert "Do outro" not in body, query


def test_staff_filter_instances_by_state(staff_client, connected, other_instance):
    url = reverse("admin:instances_instance_changelist")
    body = staff_client.get(url, {"state__exact": "connected"}).content.decode()

    assert "Vendas" in body
    assert "Do outro" not in body


def test_the_instance_page_shows_the_timeline_and_masks_the_token(
    staff_client, connected
):
    body = staff_client.get(
        reverse("admin:instances_instance_change", args=[connected.pk])
    ).content.decode()

    assert connected.token not in body
    assert connected.token_masked in body
    assert "Instância criada" in body
    assert "QR Code lido" in body


def test_customers_cannot_open_the_instance_admin(owner_client, connected):
    response = owner_client.get(reverse("admin:instances_instance_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
