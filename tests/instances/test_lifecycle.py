import re
from pathlib import Path

import pytest

from instances import lifecycle
from instances.models import ActorKind, InstanceEvent, InstanceState
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db
S = InstanceState
ROOT = Path(__file__).resolve().parents[2]


def test_every_state_has_its_transitions_declared():
    assert set(lifecycle.TRANSITIONS) == set(S.values)
    for targets in lifecycle.TRANSITIONS.values():
        assert targets <= set(S.values)


def test_a_transition_moves_the_state_and_records_who_and_why(owner):
    instance = InstanceFactory(owner=owner)

    lifecycle.transition(
        instance=instance,
        to_state=S.WAITING_SCAN,
        cause="Conexão solicitada",
        actor_kind=ActorKind.CUSTOMER,
        actor=owner,
        qr_code="abc",
    )

    instance.refresh_from_db()
    assert instance.state == S.WAITING_SCAN
    assert instance.qr_code == "abc"
    event = InstanceEvent.objects.get(instance=instance)
    assert (event.from_state, event.to_state, event.cause) == (
        S.CREATED,
        S.WAITING_SCAN,
        "Conexão solicitada",
    )
    assert (event.actor_kind, event.actor) == (ActorKind.CUSTOMER, owner)
    assert event.created_at is not None


def test_a_transition_not_in_the_table_is_refused_and_changes_nothing(owner):
    instance = InstanceFactory(owner=owner)

    with pytest.raises(lifecycle.TransitionNotAllowed):
        lifecycle.transition(instance=instance, to_state=S.CONNECTED, cause="x")

    instance.refresh_from_db()
    assert instance.state == S.CREATED
    assert not InstanceEvent.objects.exists()


def test_the_transition_reads_the_current_row_not_a_stale_object(owner):
    instance = InstanceFactory(owner=owner)
    stale = type(instance).objects.get(pk=instance.pk)
    lifecycle.transition(instance=instance, to_state=S.WAITING_SCAN, cause="x")

    lifecycle.transition(
        instance=stale, to_state=S.CONNECTED, cause="y", phone_number="+5511987654321"
    )

    assert stale.state == S.CONNECTED
    assert list(
        InstanceEvent.objects.order_by("id").values_list("from_state", flat=True)
    ) == [
        S.CREATED,
        S.WAITING_SCAN,
    ]


def test_nothing_outside_the_lifecycle_writes_the_state():
    writes = re.compile(r"\.state\s*=[^=]|[(,\s]state\s*=\s*(S|InstanceState)\.")
    offenders = []
    for app in (
        "accounts",
        "instances",
        "webhooks",
        "billing",
        "support",
        "plugmessage",
    ):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "lifecycle.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if writes.search(line) and "filter(" not in line:
                    offenders.append(
                        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                    )
    assert offenders == []
