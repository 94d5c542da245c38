"""Every URL of an instance: 404 for another customer, login for a visitor."""

import pytest
from django.urls import reverse

from instances.models import Instance, InstanceState

pytestmark = pytest.mark.django_db

# (url name, method, data) for every view that takes an instance.
INSTANCE_URLS = [
    ("instances:detail", "get", None),
    ("instances:qr", "get", None),
    ("instances:connect", "post", {}),
    ("instances:pair", "get", None),
    ("instances:pair", "post", {"phone_number": "11987654321"}),
    ("instances:disconnect", "get", None),
    ("instances:disconnect", "post", {}),
    ("instances:delete", "get", None),
    ("instances:delete", "post", {}),
    ("instances:token", "get", None),
    ("instances:token", "post", {}),
    ("instances:edit", "get", None),
    ("instances:edit", "post", {"name": "Tomada"}),
    ("webhooks:edit", "get", None),
]


def _call(client, name, method, data, instance):
    url = reverse(name, args=[instance.pk])
    return (
        getattr(client, method)(url, data)
        if data is not None
        else getattr(client, method)(url)
    )


@pytest.mark.parametrize(("name", "method", "data"), INSTANCE_URLS)
def test_another_customer_gets_404_and_changes_nothing(
    client, other, instance, name, method, data
):
    before = Instance.objects.values().get(pk=instance.pk)
    client.force_login(other)

    response = _call(client, name, method, data, instance)

    assert response.status_code == 404
    assert Instance.objects.values().get(pk=instance.pk) == before


@pytest.mark.parametrize(("name", "method", "data"), INSTANCE_URLS)
def test_an_anonymous_visitor_is_sent_to_login(client, instance, name, method, data):
    before = Instance.objects.values().get(pk=instance.pk)

    response = _call(client, name, method, data, instance)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Instance.objects.values().get(pk=instance.pk) == before


@pytest.mark.parametrize(("name", "method", "data"), INSTANCE_URLS)
def test_the_owner_is_served(owner_client, instance, name, method, data):
    response = _call(owner_client, name, method, data, instance)

    assert response.status_code in (200, 204, 286, 302)
    if response.status_code == 302:
        assert not response.url.startswith(reverse("account_login"))


def test_an_unknown_instance_is_404(owner_client):
    response = owner_client.get(
        reverse("instances:detail", args=["00000000-0000-4000-8000-000000000000"])
    )
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["instances:list", "instances:create"])
def test_the_list_and_create_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_list_shows_only_the_customers_own_instances(
    owner_client, instance, other_instance
):
    body = owner_client.get(reverse("instances:list")).content.decode()

    assert instance.name in body
    assert other_instance.name not in body
    assert str(other_instance.pk) not in body


def test_the_waiting_state_is_what_the_fixture_builds(instance):
    assert instance.state == InstanceState.WAITING_SCAN
