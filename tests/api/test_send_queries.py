"""What one accepted send costs the database, and that the cheap way keeps
every check: the token lookup also reads the exclusion list."""

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.services import client_token_create, client_token_enable
from instances import health
from instances.models import DailySends, Instance, Message

pytestmark = pytest.mark.django_db

# One accepted send, once today's count exists: the lookup (token,
# Client-Token owner and exclusion list in one query), then the count and the
# write in a transaction (its savepoint in a test).
QUERIES = {"postgresql": 5, "sqlite": 5}


def _send(client, instance, phone="5521998765432", **headers):
    return client.post(
        f"/instances/{instance.pk}/send-text",
        {"phone": phone, "text": "Olá!"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {instance.token}",
        **headers,
    )


def test_one_accepted_send_takes_a_fixed_number_of_queries(
    client, live, queued_tasks, django_assert_num_queries
):
    assert _send(client, live).status_code == 202  # today's count is created
    with django_assert_num_queries(QUERIES[connection.vendor]):
        response = _send(client, live)
    assert response.status_code == 202
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.to, message.text, message.status) == (
        "+5521998765432",
        "Olá!",
        "queued",
    )
    assert DailySends.objects.get(instance=live).count == 2


def test_the_zapi_route_takes_as_many(
    client, live, queued_tasks, django_assert_num_queries
):
    url = f"/instances/{live.pk}/token/{live.token}/send-text"
    body = {"phone": "5521998765432", "message": "Olá!"}
    assert client.post(url, body, content_type="application/json").status_code == 200
    with django_assert_num_queries(QUERIES[connection.vendor]):
        response = client.post(url, body, content_type="application/json")
    assert set(response.json()) == {"zaapId", "messageId", "id"}


def test_an_excluded_number_is_refused_from_what_the_lookup_read(
    client, live, queued_tasks, django_assert_num_queries
):
    health.exclusion_add(
        instance=live, phone="5521998765432", reason="", source="customer"
    )
    with django_assert_num_queries(1):
        response = _send(client, live)
    assert (response.status_code, response.json()["code"]) == (
        422,
        "recipient_excluded",
    )
    # Another number of the same instance is not excluded.
    assert _send(client, live, phone="5521998760000").status_code == 202
    assert list(Message.objects.values_list("to", flat=True)) == ["+5521998760000"]


def test_a_bad_token_is_401_before_a_bad_number_is_422(client, live, queued_tasks):
    response = client.post(
        f"/instances/{live.pk}/send-text",
        {"phone": "123", "text": "Olá!"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer errado",
    )
    assert response.status_code == 401
    response = _send(client, live, phone="123")
    assert (response.status_code, response.json()["code"]) == (422, "invalid_phone")
    assert not Message.objects.exists()


def test_the_client_token_is_still_required_when_turned_on(client, live, queued_tasks):
    token = client_token_create(user=live.owner)
    client_token_enable(user=live.owner, enabled=True)
    assert _send(client, live).status_code == 401
    assert _send(client, live, HTTP_CLIENT_TOKEN=token).status_code == 202


def test_the_warm_up_limit_holds_on_every_path(client, live, queued_tasks):
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[3])
    statuses = [_send(client, live).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    assert Message.objects.count() == 3
    assert DailySends.objects.get(instance=live).count == 3


def test_a_new_day_starts_a_new_count(client, live, queued_tasks):
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[1])
    assert _send(client, live).status_code == 202
    assert _send(client, live).status_code == 429
    with time_machine.travel(timezone.now() + timezone.timedelta(days=1)):
        assert _send(client, live).status_code == 202
    assert sorted(DailySends.objects.values_list("count", flat=True)) == [1, 1]
