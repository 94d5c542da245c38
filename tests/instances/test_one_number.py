"""Rule 2: a number is live on at most one instance in the whole system."""

import re
from functools import partial

import pytest
from django.db import connection

from instances import services
from instances.engines.base import EngineEvent
from instances.models import Instance, InstanceEvent, InstanceState, SimulatedSession
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment

S = InstanceState
NUMBER = "5511987654321"


def _waiting(owner, name):
    return services.instance_connect(
        instance=services.instance_create(owner=owner, name=name), actor_kind="customer"
    )


@pytest.mark.django_db
def test_a_scan_with_a_number_live_elsewhere_is_refused(owner, other, connect):
    first = connect(_waiting(owner, "Primeira"), NUMBER)
    second = _waiting(other, "Segunda")
    events_before = InstanceEvent.objects.filter(instance=second).count()

    refused = connect(second, NUMBER)

    # "Desconectado" everywhere, with the reason, and the attempt in Histórico.
    assert refused.state == S.DISCONNECTED
    assert refused.phone_number == ""
    assert (
        "+55 11 98765-4321 já está conectado em outra instância"
        in refused.connect_error
    )
    assert InstanceEvent.objects.filter(instance=second).count() == events_before + 1
    assert "Conexão recusada" in second.events.first().cause
    assert SimulatedSession.objects.get(engine_ref=second.engine_ref).status == "closed"
    first.refresh_from_db()
    assert (first.state, first.phone_number) == (S.CONNECTED, "+" + NUMBER)


@pytest.mark.django_db
def test_the_refusal_shows_on_the_page_with_a_way_to_retry(
    client, owner, other, connect
):
    connect(_waiting(owner, "Primeira"), NUMBER)
    second = connect(_waiting(other, "Segunda"), NUMBER)
    client.force_login(other)

    body = client.get(f"/instancias/{second.pk}/").content.decode()
    listed = client.get("/instancias/").content.decode()

    assert "já está conectado em outra instância" in body
    assert "Gerar novo QR Code" in body
    assert re.search(r'id="state-badge"[^>]*>Desconectado<', body)  # the badge
    assert "Conexão recusada" in body  # the attempt, in Histórico
    assert "Aguardando leitura" not in listed
    assert "Desconectado" in listed


@pytest.mark.django_db
def test_a_pairing_code_is_refused_for_a_number_live_elsewhere(owner, other, connect):
    connect(_waiting(owner, "Primeira"), NUMBER)
    second = services.instance_create(owner=other, name="Segunda")

    with pytest.raises(services.InstanceError, match="já está conectado em outra"):
        services.instance_connect(
            instance=second, actor_kind="customer", phone_number=NUMBER
        )

    second.refresh_from_db()
    assert (second.state, second.pairing_code) == (S.CREATED, "")
    assert not SimulatedSession.objects.filter(engine_ref=second.engine_ref).exists()


@pytest.mark.django_db
def test_the_number_is_free_again_once_disconnected(owner, other, connect):
    first = connect(_waiting(owner, "Primeira"), NUMBER)
    services.instance_disconnect(instance=first, actor_kind="customer", actor=owner)

    second = connect(_waiting(other, "Segunda"), NUMBER)

    assert second.state == S.CONNECTED
    first.refresh_from_db()
    assert first.phone_number == "+" + NUMBER  # kept as history, no longer live


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_connections_of_one_number_exactly_one_wins():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (make test with DATABASE_URL)")
    instances = [_waiting(UserFactory(), f"Concorrente {n}") for n in range(2)]
    _results, errors = at_the_same_moment(
        [
            partial(
                services.engine_events_apply,
                [EngineEvent("connected", instance.engine_ref, phone_number=NUMBER)],
            )
            for instance in instances
        ]
    )

    assert errors == []
    states = sorted(Instance.objects.values_list("state", flat=True))
    assert states == [S.CONNECTED, S.DISCONNECTED]
    assert (
        Instance.objects.filter(phone_number="+" + NUMBER, state=S.CONNECTED).count()
        == 1
    )
    loser = Instance.objects.get(state=S.DISCONNECTED)
    assert "já está conectado" in loser.connect_error
