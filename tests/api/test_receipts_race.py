"""Receipts that race: the engine's "delivered" and "read" of the same
message arrive at the same moment on two connections. Every step must be
announced once, in order (PostgreSQL: the row lock is what orders them)."""

import pytest
from django.db import connection

from instances import messaging, services
from instances.messaging import Draft
from instances.models import Instance, Message, MessageStatus
from tests.api.conftest import receipt, status_steps
from tests.helpers import at_the_same_moment
from webhooks import services as webhook_services
from webhooks.models import EventKind

MESSAGES = 40


@pytest.mark.django_db(transaction=True)
def test_racing_receipts_announce_delivered_then_read_once_each(live, queued_tasks):
    if connection.vendor != "postgresql":
        pytest.skip("receipts race on PostgreSQL (make test with DATABASE_URL)")
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[1000])
    live.refresh_from_db()
    messages = []
    for n in range(MESSAGES):
        message = messaging.message_accept(
            instance=live, phone="5521998765432", draft=Draft(text=f"m{n}")
        )
        messaging.message_send(message_id=message.pk)
        message.refresh_from_db()
        messages.append(message)

    def applying(message, status):
        return lambda: services.engine_events_apply([receipt(live, message, status)])

    for message in messages:
        # "read" first in the list: it often wins the race.
        _results, errors = at_the_same_moment(
            [applying(message, "read"), applying(message, "delivered")]
        )
        assert errors == []

    for message in messages:
        steps = status_steps(message)
        assert steps == ["sent", "delivered", "read"], (message.pk, steps)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.READ}
