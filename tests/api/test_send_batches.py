"""The sender works in batches: one task hands many messages to the engine,
records them in one transaction and announces them together; receipts of a
tick are applied together. What each message goes through must not change:
every check, every step announced once and in order, nothing sent twice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from instances import health, messaging, services
from instances.engines import engine_get
from instances.engines.base import (
    Engine,
    EngineError,
    EngineEvent,
    EngineRefused,
    EngineSession,
    EngineUnavailable,
    OutgoingMessage,
)
from instances.engines.simulator import SimulatorEngine
from instances.messaging import Draft
from instances.models import Instance, Message, MessageStatus, SimulatedMessage
from tests.api.conftest import receipt, status_steps
from tests.helpers import at_the_same_moment
from webhooks import services as webhook_services
from webhooks.models import EventKind, WebhookDelivery, WebhookEvent


@pytest.fixture
def hooked(live):
    """The live instance with its message.sent and message.status webhooks on
    and no daily limit."""
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={
            EventKind.MESSAGE_SENT.value: ("https://cliente.test/sent", True),
            EventKind.MESSAGE_STATUS.value: ("https://cliente.test/status", True),
        },
    )
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[1000])
    live.refresh_from_db()
    return live


def _accept(instance, n: int, phone: str = "5521998765432") -> list[Message]:
    return [
        messaging.message_accept(
            instance=instance, phone=phone, draft=Draft(text=f"Mensagem {i}")
        )
        for i in range(n)
    ]


def _announced(message: Message) -> list[str]:
    """What the webhooks said of one message, in the order stored: the
    statuses, and "message.sent" for the message with its content."""
    said = []
    for event in WebhookEvent.objects.filter(instance=message.instance).order_by(
        "created_at", "id"
    ):
        data = event.payload["data"]
        if data.get("message_id") != str(message.pk):
            continue
        said.append(
            "message.sent" if event.kind == EventKind.MESSAGE_SENT else data["status"]
        )
    return said


def test_one_task_sends_a_batch_and_announces_each_message_in_order(
    hooked, queued_tasks
):
    messages = _accept(hooked, 5)
    assert messaging.messages_dispatch() == 5
    batches = [
        args[0] for name, args, _c in queued_tasks if name == messaging.SEND_BATCH_TASK
    ]
    assert batches == [[str(m.pk) for m in messages]]

    handled = messaging.messages_send(message_ids=batches[0])

    assert [m.pk for m in handled] == [m.pk for m in messages]
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert message.engine_message_id == message.message_id
        assert _announced(message) == ["sent", "message.sent"]
    # The simulated WhatsApp has each message once, with the id it was given.
    assert sorted(
        SimulatedMessage.objects.filter(inbound=False).values_list(
            "message_id", flat=True
        )
    ) == sorted(m.message_id for m in messages)
    # Every event has its delivery, due in the order the events happened.
    deliveries = list(
        WebhookDelivery.objects.order_by("next_attempt_at", "event__created_at", "pk")
    )
    assert len(deliveries) == 10
    assert [d.event_id for d in deliveries] == list(
        WebhookEvent.objects.order_by("created_at", "id").values_list("id", flat=True)
    )


def test_a_batch_sends_nothing_twice(hooked, queued_tasks):
    messages = _accept(hooked, 3)
    ids = [str(m.pk) for m in messages]
    assert len(messaging.messages_send(message_ids=ids)) == 3
    # The sweeper's copy, or a task delivered twice: nothing is claimed.
    assert messaging.messages_send(message_ids=ids) == []
    assert SimulatedMessage.objects.filter(inbound=False).count() == 3
    assert WebhookEvent.objects.filter(kind=EventKind.MESSAGE_SENT).count() == 3


def test_in_a_batch_each_message_is_checked_on_its_own(hooked, queued_tasks, settings):
    settings.SIMULATOR_ABSENT_NUMBERS = ["5521911112222"]
    first, excluded, absent, last = (
        _accept(hooked, 1)[0],
        _accept(hooked, 1, phone="5521933334444")[0],
        _accept(hooked, 1, phone="5521911112222")[0],
        _accept(hooked, 1)[0],
    )
    # The recipient opted out while the message waited in the queue.
    health.exclusion_add(
        instance=hooked, phone="+5521933334444", reason="Pediu", source="customer"
    )

    messaging.messages_send(
        message_ids=[str(m.pk) for m in (first, excluded, absent, last)]
    )

    for message in (first, excluded, absent, last):
        message.refresh_from_db()
    assert (first.status, last.status) == (MessageStatus.SENT, MessageStatus.SENT)
    assert excluded.status == absent.status == MessageStatus.FAILED
    assert "lista de exclusão" in excluded.error
    assert absent.error
    assert _announced(excluded) == ["failed"]
    assert _announced(first) == ["sent", "message.sent"]
    assert not SimulatedMessage.objects.filter(to="+5521933334444").exists()


class _DownAfterOne(SimulatorEngine):
    """Takes the first message of a batch, then cannot be reached."""

    def messages_send(self, session, messages):
        return [
            *super().messages_send(session, messages[:1]),
            EngineUnavailable("connection refused"),
        ]


def test_an_engine_outage_mid_batch_keeps_what_was_sent_and_frees_the_rest(
    hooked, queued_tasks, monkeypatch
):
    messages = _accept(hooked, 3)
    monkeypatch.setattr(messaging, "engine_get", lambda: _DownAfterOne())

    with pytest.raises(EngineUnavailable):
        messaging.messages_send(message_ids=[str(m.pk) for m in messages])

    for message in messages:
        message.refresh_from_db()
    assert messages[0].status == MessageStatus.SENT
    assert _announced(messages[0]) == ["sent", "message.sent"]
    # The others wait, unclaimed, for the task's retry.
    assert [(m.status, m.engine_message_id) for m in messages[1:]] == [
        (MessageStatus.QUEUED, ""),
        (MessageStatus.QUEUED, ""),
    ]
    monkeypatch.setattr(messaging, "engine_get", engine_get)
    messaging.messages_send(message_ids=[str(m.pk) for m in messages])
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert SimulatedMessage.objects.filter(inbound=False).count() == 3


def test_a_receipt_that_comes_back_before_the_batch_is_recorded_finds_its_message(
    hooked, queued_tasks, monkeypatch
):
    """The engine reported "delivered" between taking the message and the
    sender recording it: the receipt must move the message (announcing
    "sent" first) instead of passing through as a stranger's."""
    (message,) = _accept(hooked, 1)
    record = messaging._sent_record

    def receipt_first(sent):
        taken = Message.objects.get(pk=message.pk)
        assert (taken.status, taken.engine_message_id) == (
            MessageStatus.QUEUED,
            message.message_id,
        )
        services.engine_events_apply([receipt(hooked, taken, "delivered")])
        record(sent)

    monkeypatch.setattr(messaging, "_sent_record", receipt_first)
    messaging.messages_send(message_ids=[str(message.pk)])

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert _announced(message) == ["sent", "delivered", "message.sent"]
    # Nothing was announced under the engine's id alone.
    assert not WebhookEvent.objects.filter(
        payload__data__message_id=message.engine_message_id
    ).exists()


def test_the_sweep_records_a_message_the_engine_took_and_does_not_send_it_again(
    hooked, queued_tasks, monkeypatch
):
    """A worker died after the engine took the message and before it was
    recorded: its engine id is written, its status still "queued"."""
    (message,) = _accept(hooked, 1)

    def die(sent):
        raise SystemExit("worker killed")

    monkeypatch.setattr(messaging, "_sent_record", die)
    with pytest.raises(SystemExit):
        messaging.messages_send(message_ids=[str(message.pk)])
    monkeypatch.undo()
    queued_tasks.clear()
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - messaging.STUCK_AFTER - timedelta(seconds=1)
    )

    assert messaging.messages_queued_sweep() == 0

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert _announced(message) == ["sent", "message.sent"]
    assert not [t for t in queued_tasks if t[0] == messaging.SEND_TASK]
    assert SimulatedMessage.objects.filter(inbound=False).count() == 1


def test_receipts_of_a_tick_are_applied_together_in_order(hooked, queued_tasks):
    messages = _accept(hooked, 3)
    messaging.messages_send(message_ids=[str(m.pk) for m in messages])
    for message in messages:
        message.refresh_from_db()
    stranger = EngineEvent(
        "message_status",
        hooked.engine_ref,
        phone_number="5521998765432",
        extra={"message_id": "SENT-FROM-THE-PHONE", "status": "read"},
    )
    services.engine_events_apply(
        [
            receipt(hooked, messages[0], "read"),  # skips "delivered"
            receipt(hooked, messages[1], "delivered"),
            stranger,
            receipt(hooked, messages[1], "read"),
            receipt(hooked, messages[1], "delivered"),  # late: ignored
            receipt(hooked, messages[2], "delivered"),
        ]
    )

    assert _announced(messages[0]) == ["sent", "message.sent", "delivered", "read"]
    assert _announced(messages[1]) == ["sent", "message.sent", "delivered", "read"]
    assert _announced(messages[2]) == ["sent", "message.sent", "delivered"]
    # A receipt for a message not sent through the API is passed on as is.
    passed_on = WebhookEvent.objects.get(
        payload__data__message_id="SENT-FROM-THE-PHONE"
    )
    assert passed_on.payload["data"]["status"] == "read"


def test_receipts_apply_returns_the_ids_it_does_not_know(hooked, queued_tasks):
    (message,) = _accept(hooked, 1)
    messaging.messages_send(message_ids=[str(message.pk)])
    message.refresh_from_db()
    unknown = messaging.message_receipts_apply(
        instance=hooked,
        receipts=[(message.engine_message_id, "delivered"), ("OTHER", "read")],
    )
    assert unknown == {"OTHER"}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_the_simulator_sends_a_batch_in_one_write(live, settings):
    settings.SIMULATOR_ABSENT_NUMBERS = ["5521911112222"]
    engine = SimulatorEngine()
    session = EngineSession(live.engine_ref)
    results = engine.messages_send(
        session,
        [
            OutgoingMessage(to="+5521998765432", text="a", message_id="3EB0AAAA"),
            OutgoingMessage(to="+5521911112222", text="b", message_id="3EB0BBBB"),
            OutgoingMessage(to="+5521998765432", text="c", message_id="3EB0CCCC"),
        ],
    )
    assert results[0] == "3EB0AAAA" and results[2] == "3EB0CCCC"
    assert isinstance(results[1], EngineRefused)
    assert set(SimulatedMessage.objects.values_list("message_id", flat=True)) == {
        "3EB0AAAA",
        "3EB0CCCC",
    }
    # Handed over again: kept once.
    engine.messages_send(
        session, [OutgoingMessage(to="+5521998765432", text="a", message_id="3EB0AAAA")]
    )
    assert SimulatedMessage.objects.filter(message_id="3EB0AAAA").count() == 1
    engine.session_logout(session)
    closed = engine.messages_send(
        session, [OutgoingMessage(to="+5521998765432", text="d", message_id="3EB0DDDD")]
    )
    assert isinstance(closed[0], EngineError)


class _Flaky(Engine):
    """An engine of one method: refuses "no", is unreachable on "down"."""

    name = "flaky"

    def session_start(self, session, *, phone_number=""):
        raise NotImplementedError

    def session_state(self, session):
        return "open"

    def session_logout(self, session):
        pass

    def session_delete(self, session):
        pass

    def message_send_text(self, session, *, to, text):
        return self.message_send(session, OutgoingMessage(to=to, text=text))

    def message_send(self, session, message):
        if message.text == "no":
            raise EngineRefused("refused")
        if message.text == "down":
            raise EngineUnavailable("down")
        return f"id-{message.text}"

    def tick(self):
        return []


def test_an_engine_without_batches_sends_one_by_one_until_it_is_unreachable():
    session = EngineSession("x")
    results = _Flaky().messages_send(
        session,
        [
            OutgoingMessage(to="+5521998765432", text=text)
            for text in ("a", "no", "b", "down", "c")
        ],
    )
    assert results[0] == "id-a" and results[2] == "id-b"
    assert isinstance(results[1], EngineRefused)
    assert isinstance(results[3], EngineUnavailable)
    assert len(results) == 4  # "c" was not tried


@pytest.mark.django_db(transaction=True)
def test_two_ticks_racing_announce_each_step_once(live, queued_tasks):
    """Two batches of receipts for the same messages, applied at the same
    moment on two connections (a tick's "delivered" and a later one's "read"):
    every step once, in order (PostgreSQL: the row locks order them)."""
    if connection.vendor != "postgresql":
        pytest.skip("receipts race on PostgreSQL (make test with DATABASE_URL)")
    webhook_services.webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_STATUS.value: ("https://cliente.test/h", True)},
    )
    Instance.objects.filter(pk=live.pk).update(warmup_plan=[1000])
    live.refresh_from_db()
    messages = _accept(live, 30)
    messaging.messages_send(message_ids=[str(m.pk) for m in messages])
    for message in messages:
        message.refresh_from_db()

    def tick(status, order):
        def apply():
            services.engine_events_apply(
                [receipt(live, message, status) for message in order]
            )

        return apply

    _results, errors = at_the_same_moment(
        [tick("read", messages[::-1]), tick("delivered", messages)]
    )
    assert errors == []
    for message in messages:
        steps = status_steps(message)
        assert steps == ["sent", "delivered", "read"], (message.pk, steps)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.READ}


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_alone_a_message_a_worker_is_claiming_right_now(
    live, queued_tasks
):
    """A message looks stuck (queued, untouched for minutes) at the moment a
    late worker claims it. The sweep must not wipe that claim: the worker
    sends it, and the sweep queues nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (make test with DATABASE_URL)")
    import threading

    from django.db import connections, transaction

    (message,) = _accept(live, 1)
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - messaging.STUCK_AFTER - timedelta(minutes=1)
    )
    claimed, sweeping = threading.Event(), threading.Event()
    claim = f"{messaging.CLAIMED}late-worker"
    swept = []

    def worker():
        try:
            with transaction.atomic():
                Message.objects.filter(pk=message.pk, engine_message_id="").update(
                    engine_message_id=claim, updated_at=timezone.now()
                )
                claimed.set()
                sweeping.wait(timeout=10)
                threading.Event().wait(0.5)  # the sweep reaches the row first
        finally:
            connections.close_all()

    def sweep():
        try:
            claimed.wait(timeout=10)
            sweeping.set()
            swept.append(messaging.messages_queued_sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert swept == [0]
    message.refresh_from_db()
    assert message.engine_message_id == claim  # the worker's claim stands
    assert not [name for name, *_ in queued_tasks if name == messaging.SEND_TASK]


def test_a_slow_engine_does_not_send_a_message_the_sweep_took_back(
    hooked, queued_tasks, monkeypatch
):
    """An engine that sends one message a request can take minutes over a
    batch. If the queued sweep takes a message back meanwhile (its claim
    looked stuck), this worker must skip it: the sweep's task sends it, and
    sending it here too would send it twice."""
    first, second, third = _accept(hooked, 3)
    monkeypatch.setattr(SimulatorEngine, "sends_in_batches", False)
    send = SimulatorEngine.messages_send
    calls = []

    def slow_send(self, session, messages):
        calls.append([m.text for m in messages])
        if len(calls) == 1:  # minutes pass: the sweep resets the third
            Message.objects.filter(pk=third.pk).update(
                engine_message_id="", updated_at=timezone.now()
            )
        return send(self, session, messages)

    monkeypatch.setattr(SimulatorEngine, "messages_send", slow_send)

    messaging.messages_send(message_ids=[first.pk, second.pk, third.pk])

    assert calls == [["Mensagem 0"], ["Mensagem 1"]]  # one a request, not the third
    third.refresh_from_db()
    assert (third.status, third.engine_message_id) == (MessageStatus.QUEUED, "")
    assert SimulatedMessage.objects.count() == 2
    # The sweep's own task sends it, once.
    messaging.messages_send(message_ids=[third.pk])
    third.refresh_from_db()
    assert third.status == MessageStatus.SENT
    assert SimulatedMessage.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_removing_from_the_queue_while_the_worker_sends_does_one_or_the_other(
    hooked, queued_tasks
):
    """The customer takes a message off the queue at the moment the worker
    sends it: it ends sent or removed ("failed"), never both, and each step
    it went through is announced once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (make test with DATABASE_URL)")
    for message in _accept(hooked, 20):
        results, errors = at_the_same_moment(
            [
                lambda message=message: (
                    "removed",
                    messaging.queue_remove(instance=hooked, zaap_id=message.zaap_id),
                ),
                lambda message=message: (
                    "sent",
                    len(messaging.messages_send(message_ids=[str(message.pk)])),
                ),
            ]
        )
        assert errors == []
        done = dict(results)
        message.refresh_from_db()
        at_the_simulator = SimulatedMessage.objects.filter(
            inbound=False, message_id=message.message_id
        ).count()
        if message.status == MessageStatus.SENT:
            assert (done["removed"], done["sent"], at_the_simulator) == (0, 1, 1)
            assert status_steps(message) == ["sent"]
        else:
            assert message.status == MessageStatus.FAILED
            assert (done["removed"], done["sent"], at_the_simulator) == (1, 0, 0)
            assert status_steps(message) == ["failed"]
