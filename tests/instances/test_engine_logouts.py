"""A logout the engine could not take (down at expiry or cancellation) is
retried until it does: no number stays live at the engine while the panel
says it is not."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from instances import logouts, services
from instances.engines.base import EngineUnavailable
from instances.engines.simulator import SimulatorEngine
from instances.models import (
    ActorKind,
    EngineLogout,
    Instance,
    InstanceState,
    SimulatedSession,
)

pytestmark = pytest.mark.django_db
S = InstanceState


@pytest.fixture
def engine_down(monkeypatch):
    """The engine refuses logouts while `down` is true."""
    real = SimulatorEngine.session_logout
    state = {"down": True, "calls": 0}

    def logout(self, session):
        state["calls"] += 1
        if state["down"]:
            raise EngineUnavailable("motor fora do ar")
        return real(self, session)

    monkeypatch.setattr(SimulatorEngine, "session_logout", logout)
    return state


def _session_status(instance) -> str:
    return SimulatedSession.objects.get(engine_ref=instance.engine_ref).status


def _expire(instance) -> None:
    Instance.objects.filter(pk=instance.pk).update(
        trial_ends_at=timezone.now() - timedelta(minutes=1)
    )
    assert services.instances_trial_expire() == 1


def test_a_logout_that_fails_at_expiry_is_retried_until_the_engine_takes_it(
    connected, engine_down
):
    _expire(connected)

    connected.refresh_from_db()
    assert connected.state == S.EXPIRED
    assert _session_status(connected) == "open"  # still live at the engine
    pending = EngineLogout.objects.get(instance=connected)
    assert "motor fora do ar" in pending.error

    # Still down: each try waits longer than the one before.
    moment = timezone.now()
    waits = []
    for _ in range(3):
        moment = pending.next_attempt_at + timedelta(seconds=1)
        with time_machine.travel(moment):
            assert logouts.logouts_retry() == 0
        before = pending.next_attempt_at
        pending.refresh_from_db()
        waits.append(pending.next_attempt_at - before)
    assert pending.attempts == 4
    assert waits == sorted(waits) and waits[0] < waits[-1]

    engine_down["down"] = False
    with time_machine.travel(pending.next_attempt_at + timedelta(seconds=1)):
        assert logouts.logouts_retry() == 1

    assert _session_status(connected) == "closed"
    assert not EngineLogout.objects.exists()


def test_a_cancelled_subscription_with_the_engine_down_is_logged_out_later(
    connected, engine_down, django_capture_on_commit_callbacks
):
    services.instance_subscription_begin(
        instance=connected, actor_kind=ActorKind.SYSTEM
    )
    connected.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.instance_subscription_end(
            instance=connected, actor_kind=ActorKind.CUSTOMER
        )
    connected.refresh_from_db()
    assert connected.state == S.CANCELLED
    assert EngineLogout.objects.filter(instance=connected).exists()

    engine_down["down"] = False
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert logouts.logouts_retry() == 1
    assert _session_status(connected) == "closed"


def test_nothing_is_recorded_when_the_logout_works(connected, engine_down):
    engine_down["down"] = False
    _expire(connected)
    assert _session_status(connected) == "closed"
    assert not EngineLogout.objects.exists()


def test_connecting_again_first_finishes_a_pending_logout(
    connected, engine_down, owner_client
):
    _expire(connected)
    services.instance_subscription_begin(
        instance=connected, actor_kind=ActorKind.SYSTEM
    )
    # Still down: the connection is refused and the logout stays pending.
    response = owner_client.post(
        reverse("instances:connect", args=[connected.pk]), follow=True
    )
    assert "indisponível" in response.content.decode()
    assert EngineLogout.objects.filter(instance=connected).exists()
    engine_down["down"] = False

    response = owner_client.post(
        reverse("instances:connect", args=[connected.pk]), follow=True
    )

    connected.refresh_from_db()
    assert connected.state == S.WAITING_SCAN, response.content.decode()[-3000:]
    assert not EngineLogout.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert logouts.logouts_retry() == 0  # nothing left to close
    assert _session_status(connected) != "closed"  # the new session lives


def test_connecting_while_a_retry_closes_the_old_session_asks_to_wait(
    connected, engine_down
):
    _expire(connected)
    services.instance_subscription_begin(
        instance=connected, actor_kind=ActorKind.SYSTEM
    )
    connected.refresh_from_db()
    EngineLogout.objects.filter(instance=connected).update(
        locked_until=timezone.now() + logouts.LEASE
    )

    with pytest.raises(services.InstanceError, match="ainda está sendo encerrada"):
        services.instance_connect(instance=connected, actor_kind=ActorKind.CUSTOMER)

    assert EngineLogout.objects.filter(instance=connected).exists()


def test_staff_see_the_pending_logouts(connected, engine_down, staff_client):
    _expire(connected)
    page = staff_client.get(reverse("admin:instances_enginelogout_changelist"))
    assert page.status_code == 200
    assert "motor fora do ar" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_connecting_while_the_trial_expires_opens_no_session(owner, monkeypatch):
    """ "Conectar" checked the trial, then the expiry task committed while
    the engine was opening the session: the instance stays "Expirado", the
    session just opened is closed again, and the customer is told why."""
    instance = services.instance_create(owner=owner, name="Fim do teste")
    Instance.objects.filter(pk=instance.pk).update(
        trial_ends_at=timezone.now() + timedelta(seconds=1)
    )
    instance.refresh_from_db()
    start = SimulatorEngine.session_start

    def start_while_the_trial_expires(self, session, **kwargs):
        started = start(self, session, **kwargs)
        with time_machine.travel(timezone.now() + timedelta(seconds=5)):
            assert services.instances_trial_expire() == 1  # commits meanwhile
        return started

    monkeypatch.setattr(SimulatorEngine, "session_start", start_while_the_trial_expires)

    with pytest.raises(services.InstanceError, match="teste grátis"):
        services.instance_connect(instance=instance, actor_kind=ActorKind.CUSTOMER)

    instance.refresh_from_db()
    assert instance.state == S.EXPIRED
    assert _session_status(instance) == "closed"


def test_an_expired_instance_reaches_a_new_session_only_through_a_subscription():
    from instances import lifecycle

    for state in (S.EXPIRED, S.CANCELLED):
        assert lifecycle.TRANSITIONS[state] == {S.DISCONNECTED}
