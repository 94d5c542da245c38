"""What one accepted send costs the database, and that the cheap way keeps
every check: the token lookup also reads the exclusion list, and on
PostgreSQL the warm-up count and the message are one statement."""

from functools import partial

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.services import client_token_create, client_token_enable
from instances import health, messaging
from instances.messaging import Draft
from instances.models import DailySends, Instance, Message
from tests.helpers import at_the_same_moment

pytestmark = pytest.mark.django_db

# One accepted send, once today's count exists: on PostgreSQL the lookup
# (token, Client-Token owner and exclusion list in one query) and one
# statement counting the send and writing the message; elsewhere the lookup,
# then the count and the write in a transaction (its savepoint in a test).
QUERIES = {"postgresql": 2, "sqlite": 5}


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


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the single statement is PostgreSQL's (make test with DATABASE_URL)"
        )


def test_the_single_statement_writes_the_message_as_the_orm_would(
    live, queued_tasks, postgresql
):
    messaging.message_accept(
        instance=live, phone="5521998765432", draft=Draft(text="primeiro")
    )
    draft = Draft(
        text="segundo",
        content={"a": [1, "b"]},
        reply_to="3EB0AAAA",
        delay_message=5,
        delay_typing=3,
    )
    message = messaging.message_accept(
        instance=live, phone="5521998765432", draft=draft
    )
    assert not message._state.adding
    stored = Message.objects.get(pk=message.pk)
    for field in Message._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(message, field.attname), (
            field.name
        )
    assert stored.send_after > stored.created_at


def test_the_single_statement_inserts_nothing_without_a_count_or_room(live, postgresql):
    message = messaging._message_new(live, "+5521998765432", "oi")
    assert not health.warmup_take_inserting(live, message)  # no count yet today
    DailySends.objects.create(instance=live, day=timezone.localdate(), count=20)
    assert not health.warmup_take_inserting(live, message)  # the limit: 20
    assert not Message.objects.exists()
    assert DailySends.objects.get(instance=live).count == 20


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_sends_in_one_statement_each_stop_at_the_limit(
    live, postgresql
):
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[20])
    live.refresh_from_db()
    send = partial(
        messaging.message_send_text, instance=live, phone="5521998765432", text="oi"
    )
    send()  # today's count exists: every send below takes the single statement
    sent, refused = at_the_same_moment([send for _ in range(30)])

    assert len(sent) == 19
    assert [error.status for error in refused] == [429] * 11
    assert Message.objects.filter(instance=live).count() == 20
    assert DailySends.objects.get(instance=live).count == 20
