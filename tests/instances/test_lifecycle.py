import ast
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


def _state_writes(tree: ast.AST) -> list[int]:
    """Lines that assign `.state` or pass `state=` to a call (update, create,
    save...), other than in a filter or lookup."""
    lookups = {"filter", "exclude", "get", "get_or_create", "Q"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "state" for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in lookups:
                continue
            if any(k.arg == "state" for k in node.keywords):
                lines.append(node.lineno)
    return sorted(lines)


def test_nothing_outside_the_lifecycle_writes_the_state():
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
            for line in _state_writes(ast.parse(path.read_text())):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []


def test_the_state_write_check_catches_what_it_should():
    source = """
Instance.objects.filter(pk=1).update(state="connected")
instance.state = "connected"
Instance.objects.create(owner=o, state=S.CONNECTED)
Instance.objects.filter(state="connected").count()
"""
    assert _state_writes(ast.parse(source)) == [2, 3, 4]
