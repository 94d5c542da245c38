"""Rule 6: the 2-day trial, computed from the stored end on every use (API
sends, engine events, connecting); the beat task's side effects; subscribing
and cancelling through the lifecycle."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing import services
from billing.models import SubscriptionPeriod
from instances import services as instance_services
from instances.engines import engine_get
from instances.models import (
    ExclusionEntry,
    Instance,
    InstanceEvent,
    InstanceState,
    Message,
    SimulatedSession,
)
from instances.tasks import instance_trial_expired_email_task
from tests.billing.conftest import live_instance

pytestmark = pytest.mark.django_db


def _send(client, instance):
    return client.post(
        f"/instances/{instance.pk}/send-text",
        {"phone": "5521998765432", "text": "Olá"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {instance.token}",
    )


def _after_trial(instance):
    return time_machine.travel(instance.trial_ends_at + timedelta(seconds=1))


def test_the_api_sends_during_the_trial_and_refuses_after_it_without_the_beat_task(
    client, live
):
    with time_machine.travel(live.trial_ends_at - timedelta(minutes=1)):
        assert _send(client, live).status_code == 202
    with _after_trial(live):
        response = _send(client, live)
    assert response.status_code == 402
    assert response.json()["code"] == "trial_expired"
    live.refresh_from_db()
    assert live.state == InstanceState.CONNECTED  # the beat task has not run
    assert Message.objects.count() == 1


def test_engine_events_after_the_trial_are_dropped(live):
    with _after_trial(live):
        event = engine_get().phone_send_message(
            live.engine_ref, "5521998765432", "SAIR"
        )
        instance_services.engine_events_apply([event])
    assert not ExclusionEntry.objects.exists()


def test_a_session_that_opens_after_the_trial_is_closed_and_not_recorded(owner):
    instance = instance_services.instance_connect(
        instance=instance_services.instance_create(owner=owner, name="Tarde"),
        actor_kind="customer",
    )
    # The phone was scanned in time, but the engine reports it late.
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    (event,) = [engine_get().phone_scan(code, "5511987654321")]
    with _after_trial(instance):
        instance_services.engine_events_apply([event])
    instance.refresh_from_db()
    assert instance.state == InstanceState.WAITING_SCAN
    assert instance.phone_number == ""
    session = SimulatedSession.objects.get(engine_ref=instance.engine_ref)
    assert session.status == "closed"


def test_connecting_after_the_trial_is_refused(owner):
    instance = instance_services.instance_create(owner=owner, name="Nova")
    with (
        _after_trial(instance),
        pytest.raises(instance_services.InstanceError, match="Assine"),
    ):
        instance_services.instance_connect(instance=instance, actor_kind="customer")


def test_the_beat_task_expires_closes_the_session_and_emails_once(
    live, owner, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args: queued.append((name, args)),
    )
    subscribed = live_instance(owner, name="Assinada", number="5511912345678")
    Instance.objects.filter(pk=subscribed.pk).update(subscribed_since=timezone.now())
    with _after_trial(live), django_capture_on_commit_callbacks(execute=True):
        assert instance_services.instances_trial_expire() == 1
        assert instance_services.instances_trial_expire() == 0
    assert queued == [
        ("instances.tasks.instance_trial_expired_email_task", [str(live.pk)])
    ]
    instance_trial_expired_email_task(*queued[0][1])
    live.refresh_from_db()
    assert live.state == InstanceState.EXPIRED
    assert SimulatedSession.objects.get(engine_ref=live.engine_ref).status == "closed"
    event = InstanceEvent.objects.filter(instance=live).latest("created_at")
    assert (event.to_state, event.cause) == ("expired", "O teste grátis terminou")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert "terminou" in mail.outbox[0].subject
    assert f"/boletos/assinar/{live.pk}/" in mail.outbox[0].body
    subscribed.refresh_from_db()
    assert subscribed.state == InstanceState.CONNECTED


def test_subscribing_needs_billing_data(live, owner):
    with pytest.raises(services.BillingError, match="dados de cobrança"):
        services.subscription_start(instance=live, actor=owner)
    assert not SubscriptionPeriod.objects.exists()


def test_a_subscribed_instance_works_after_the_trial(client, live, owner, profile):
    services.subscription_start(instance=live, actor=owner)
    with _after_trial(live):
        assert _send(client, live).status_code == 202
        assert instance_services.instances_trial_expire() == 0
    period = SubscriptionPeriod.objects.get()
    assert (period.instance_uuid, period.ended_at) == (live.pk, None)
    with pytest.raises(services.BillingError, match="já está assinada"):
        services.subscription_start(instance=live, actor=owner)


def test_an_expired_instance_is_usable_again_after_subscribing(live, owner, profile):
    with _after_trial(live):
        instance_services.instances_trial_expire()
        live.refresh_from_db()
        services.subscription_start(instance=live, actor=owner)
        live.refresh_from_db()
        assert live.state == InstanceState.DISCONNECTED
        instance_services.instance_connect(instance=live, actor_kind="customer")
        live.refresh_from_db()
        assert live.state == InstanceState.WAITING_SCAN


def test_cancelling_disconnects_and_a_resubscription_is_a_new_period(
    client, live, owner, profile, django_capture_on_commit_callbacks
):
    services.subscription_start(instance=live, actor=owner)
    live.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_cancel(instance=live, actor=owner)
    live.refresh_from_db()
    assert live.state == InstanceState.CANCELLED
    assert live.subscribed_since is None
    assert SimulatedSession.objects.get(engine_ref=live.engine_ref).status == "closed"
    response = _send(client, live)
    assert (response.status_code, response.json()["code"]) == (
        402,
        "subscription_cancelled",
    )
    with pytest.raises(services.BillingError, match="não está assinada"):
        services.subscription_cancel(instance=live, actor=owner)

    services.subscription_start(instance=live, actor=owner)
    live.refresh_from_db()
    assert live.state == InstanceState.DISCONNECTED
    assert SubscriptionPeriod.objects.filter(instance_uuid=live.pk).count() == 2
    assert SubscriptionPeriod.objects.filter(ended_at__isnull=True).count() == 1


def test_a_subscribed_instance_cannot_be_deleted_before_cancelling(
    live, owner, profile
):
    services.subscription_start(instance=live, actor=owner)
    live.refresh_from_db()
    with pytest.raises(instance_services.InstanceError, match="Cancele a assinatura"):
        instance_services.instance_delete(instance=live)
    assert Instance.objects.filter(pk=live.pk).exists()


def test_subscribing_an_instance_deleted_meanwhile_is_refused(live, owner, profile):
    stale = Instance.objects.get(pk=live.pk)
    instance_services.instance_delete(instance=live)

    with pytest.raises(services.BillingError, match="foi excluída"):
        services.subscription_start(instance=stale, actor=owner)
    assert not SubscriptionPeriod.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_while_assinar_commits_leaves_no_open_period(
    live, owner, profile, monkeypatch
):
    """ "Excluir" read the instance unsubscribed; "Assinar" commits its period
    before the deletion reaches the row. The deletion goes on (the customer
    asked for it) and the period ends with it: nothing is billed for an
    instance that no longer exists, month after month."""
    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (make test with DATABASE_URL)")
    import threading

    holding, release = threading.Event(), threading.Event()
    begin = instance_services.instance_subscription_begin

    def begin_then_hold(**kwargs):
        result = begin(**kwargs)
        holding.set()
        release.wait(timeout=10)  # "Assinar" holds the row, not yet committed
        return result

    monkeypatch.setattr(
        instance_services, "instance_subscription_begin", begin_then_hold
    )
    stale = Instance.objects.get(pk=live.pk)  # what "Excluir" read: unsubscribed
    errors = []

    def subscribe():
        try:
            with transaction.atomic():
                services.subscription_start(instance=live, actor=owner)
        except Exception as error:  # noqa: BLE001 - checked below
            errors.append(error)
        finally:
            connections.close_all()

    def delete():
        try:
            holding.wait(timeout=10)
            threading.Timer(0.5, release.set).start()  # commit while delete waits
            instance_services.instance_delete(instance=stale)
        except Exception as error:  # noqa: BLE001 - checked below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=subscribe), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert not Instance.objects.filter(pk=live.pk).exists()
    period = SubscriptionPeriod.objects.get(instance_uuid=live.pk)
    assert period.ended_at is not None
    assert period.instance_name == live.name


@pytest.mark.django_db(transaction=True)
def test_cancelling_calls_the_engine_with_no_row_locked(
    live, owner, profile, monkeypatch
):
    """The engine may take seconds to log a number out: it is called once the
    cancellation is committed, not while the subscription's row is locked."""
    from django.db import connection

    from instances.engines.simulator import SimulatorEngine

    services.subscription_start(instance=live, actor=owner)
    live.refresh_from_db()
    seen = []
    logout = SimulatorEngine.session_logout

    def logout_noting_the_transaction(self, session):
        seen.append(connection.in_atomic_block)
        return logout(self, session)

    monkeypatch.setattr(
        SimulatorEngine, "session_logout", logout_noting_the_transaction
    )

    services.subscription_cancel(instance=live, actor=owner)

    assert seen == [False]
    assert SimulatedSession.objects.get(engine_ref=live.engine_ref).status == "closed"
    live.refresh_from_db()
    assert live.state == InstanceState.CANCELLED
