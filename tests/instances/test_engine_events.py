"""What the panel does with events the engine sends at awkward moments."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from instances import services
from instances.engines import engine_get
from instances.engines.base import EngineEvent, SessionStart
from instances.models import InstanceState, SimulatedSession

pytestmark = pytest.mark.django_db
S = InstanceState


def _status(instance):
    return SimulatedSession.objects.get(engine_ref=instance.engine_ref).status


def test_a_late_connection_after_giving_up_is_closed_at_the_engine(instance):
    services.engine_events_apply([EngineEvent("qr_gave_up", instance.engine_ref)])
    SimulatedSession.objects.filter(engine_ref=instance.engine_ref).update(
        status="open"
    )

    services.engine_events_apply(
        [EngineEvent("connected", instance.engine_ref, phone_number="5511987654321")]
    )

    instance.refresh_from_db()
    assert (instance.state, instance.phone_number) == (S.DISCONNECTED, "")
    assert _status(instance) == "closed"


def test_a_different_number_on_a_connected_instance_ends_the_session(connected):
    services.engine_events_apply(
        [EngineEvent("connected", connected.engine_ref, phone_number="5521998765432")]
    )

    connected.refresh_from_db()
    assert connected.state == S.DISCONNECTED
    assert "outro número" in connected.events.first().cause
    assert _status(connected) == "closed"


def test_one_bad_event_does_not_lose_the_others(instance, other_instance, connect):
    bad = EngineEvent("connected", instance.engine_ref, phone_number="")
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    good = engine_get().phone_scan(code, "5511987654321")

    services.engine_events_apply([bad, good])

    instance.refresh_from_db()
    assert instance.state == S.CONNECTED


def test_a_number_phonenumbers_does_not_know_is_kept_as_the_engine_saw_it(instance):
    services.engine_events_apply(
        [
            EngineEvent(
                "connected",
                instance.engine_ref,
                phone_number="5599912345@s.whatsapp.net",
            )
        ]
    )
    instance.refresh_from_db()
    assert (instance.state, instance.phone_number) == (S.CONNECTED, "+5599912345")


def test_the_sweep_leaves_a_refused_scan_and_its_reason_alone(owner, other, connect):
    first = services.instance_connect(
        instance=services.instance_create(owner=owner, name="A"), actor_kind="customer"
    )
    connect(first, "5511987654321")
    second = services.instance_connect(
        instance=services.instance_create(owner=other, name="B"), actor_kind="customer"
    )
    refused = connect(second, "5511987654321")

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        services.instances_waiting_sweep()

    refused.refresh_from_db()
    assert "já está conectado" in refused.connect_error


def test_connecting_while_the_phone_connects_is_a_clear_error(
    instance, connect, monkeypatch
):
    # The engine answers after the phone already connected the instance.
    stale = type(instance).objects.get(pk=instance.pk)
    connect(instance)
    stale.state = S.DISCONNECTED  # what the page saw before the scan
    monkeypatch.setattr("instances.services.engine_get", lambda: AnsweringEngine())

    with pytest.raises(services.InstanceError):
        services.instance_connect(instance=stale, actor_kind="customer")

    instance.refresh_from_db()
    assert instance.state == S.CONNECTED


def test_an_anonymous_htmx_poll_sends_the_tab_to_login(client, instance):
    response = client.get(
        reverse("instances:qr", args=[instance.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))


class AnsweringEngine:
    """An engine that hands out a code whatever the state."""

    def session_start(self, session, *, phone_number=""):
        return SessionStart(qr_code="codigo")
