from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HTMX_STOP_POLLING

from instances import services
from instances.engines.simulator import CODES_BEFORE_GIVING_UP
from instances.models import Instance, InstanceEvent, InstanceState, SimulatedSession
from tests.helpers import at_the_same_moment

pytestmark = pytest.mark.django_db
S = InstanceState
HTMX = {"HTTP_HX_REQUEST": "true"}


def _poll(client, instance, version=None):
    url = reverse("instances:qr", args=[instance.pk])
    return client.get(url, {"v": version} if version else {}, **HTMX)


def test_a_poll_renders_the_qr_fragment_that_keeps_polling(owner_client, instance):
    response = _poll(owner_client, instance)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card qr-panel" id="qr-panel"')
    assert 'hx-trigger="every 2s"' in body
    assert f"v={instance.poll_version}" in body
    assert '<svg class="qr"' in body
    assert 'id="state-badge"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body


def test_an_unchanged_poll_is_an_empty_204(owner_client, instance):
    response = _poll(owner_client, instance, instance.poll_version)

    assert response.status_code == 204
    assert response.content == b""


def test_an_unchanged_poll_costs_no_query_and_no_engine_call(
    owner_client, instance, django_assert_num_queries, monkeypatch
):
    _poll(owner_client, instance)  # the full path stores the poll's entry
    monkeypatch.setattr(
        "instances.services.engine_get", lambda: pytest.fail("engine called")
    )
    monkeypatch.setattr(
        "instances.views.engine_get", lambda: pytest.fail("engine called")
    )

    with django_assert_num_queries(0):
        response = _poll(owner_client, instance, instance.poll_version)

    assert response.status_code == 204
    # The answer depends on who asks.
    assert "Cookie" in response["Vary"]


def test_once_connected_the_poll_shows_conectado_and_stops(
    owner_client, instance, connect
):
    version = instance.poll_version
    connect(instance)

    response = _poll(owner_client, instance, version)

    assert response.status_code == HTMX_STOP_POLLING == 286
    body = response.content.decode()
    assert "Conectado" in body
    assert "+55 11 98765-4321" in body
    assert "hx-trigger" not in body
    # Histórico is swapped in with it, the new step on top.
    assert 'id="history" hx-swap-oob="true"' in body
    assert body.index("QR Code lido") > body.index('id="history"')


def test_the_qr_rotates_like_whatsapps_and_then_gives_up(owner, owner_client):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        instance = services.instance_connect(
            instance=services.instance_create(owner=owner, name="Vendas"),
            actor_kind="customer",
        )
        codes = [instance.qr_code]
        assert instance.qr_expires_at == start + timedelta(seconds=60)

        clock.move_to(start + timedelta(seconds=59))
        services.engine_tick()
        instance.refresh_from_db()
        assert instance.qr_code == codes[0]

        expected_expiry = start + timedelta(seconds=60)
        for _ in range(CODES_BEFORE_GIVING_UP - 1):
            clock.move_to(expected_expiry + timedelta(seconds=1))
            services.engine_tick()
            services.engine_tick()  # idempotent: a second tick changes nothing
            instance.refresh_from_db()
            expected_expiry += timedelta(seconds=20)
            assert instance.state == S.WAITING_SCAN
            assert instance.qr_expires_at == expected_expiry
            codes.append(instance.qr_code)

        assert len(set(codes)) == CODES_BEFORE_GIVING_UP == 6
        page = _poll(owner_client, instance).content.decode()
        assert "muda em" in page

        clock.move_to(start + timedelta(seconds=160))
        services.engine_tick()

    instance.refresh_from_db()
    assert instance.state == S.DISCONNECTED
    assert instance.qr_code == ""
    assert (
        SimulatedSession.objects.get(engine_ref=instance.engine_ref).status == "closed"
    )
    response = _poll(owner_client, instance, codes[-1])
    assert response.status_code == 286
    body = response.content.decode()
    assert "Gerar novo QR Code" in body
    assert "hx-trigger" not in body
    assert instance.events.first().cause == "O QR Code expirou sem ser lido"


def test_an_expired_code_cannot_be_scanned(owner, instance, client):
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        page = client.post(
            reverse("instances:simulator_scan", args=[code]),
            {"phone_number": "11987654321"},
        )
    assert "expirou" in page.content.decode()
    instance.refresh_from_db()
    assert instance.state == S.WAITING_SCAN


def test_the_sweep_gives_up_on_a_qr_the_engine_forgot(instance):
    SimulatedSession.objects.filter(engine_ref=instance.engine_ref).delete()
    with time_machine.travel(instance.qr_expires_at + timedelta(seconds=61)):
        assert services.instances_waiting_sweep() == 1
        assert services.instances_waiting_sweep() == 0
    instance.refresh_from_db()
    assert instance.state == S.DISCONNECTED
    assert "Gere um novo" in instance.connect_error


def test_closing_the_page_leaves_the_session_alone(owner_client, connected):
    # Nothing a page does on unload reaches the engine: a poll is read-only.
    for _ in range(3):
        _poll(owner_client, connected)
    assert (
        SimulatedSession.objects.get(engine_ref=connected.engine_ref).status == "open"
    )
    connected.refresh_from_db()
    assert connected.state == S.CONNECTED


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_give_up_once_on_postgresql(instance):
    if connection.vendor != "postgresql":
        pytest.skip("locks and concurrency are tested on PostgreSQL (DATABASE_URL)")
    Instance.objects.filter(pk=instance.pk).update(
        qr_expires_at=timezone.now() - timedelta(hours=1)
    )

    results, errors = at_the_same_moment([services.instances_waiting_sweep] * 2)

    assert errors == []
    assert sum(results) == 1
    instance.refresh_from_db()
    assert instance.state == S.DISCONNECTED
    assert (
        InstanceEvent.objects.filter(
            instance=instance, from_state=S.WAITING_SCAN, to_state=S.DISCONNECTED
        ).count()
        == 1
    )
    session = SimulatedSession.objects.get(engine_ref=instance.engine_ref)
    assert session.status == SimulatedSession.Status.CLOSED
