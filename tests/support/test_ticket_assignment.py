"""Staff changes of a ticket's assignee are audited like the other staff
actions: who had it, who has it, who changed it and why, in one transaction
with the change; without a reason the admin refuses and keeps what was
typed."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse

from accounts.models import AuditRecord
from support import services
from support.models import TicketStatus
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment, wait_for

pytestmark = pytest.mark.django_db
LOCKS_ON_POSTGRESQL = "locks are tested on PostgreSQL (make test with DATABASE_URL)"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda name, args=(): None)


@pytest.fixture
def ticket(owner):
    return services.ticket_open(
        account=owner, category="technical", subject="QR não aparece", body="Ajuda"
    )


@pytest.fixture
def colleague(db):
    return UserFactory(email="colega@plugmessage.local", is_staff=True)


def _inline(ticket) -> dict:
    ids = list(ticket.messages.values_list("pk", flat=True))
    data = {
        "messages-TOTAL_FORMS": str(len(ids)),
        "messages-INITIAL_FORMS": str(len(ids)),
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
    }
    for n, pk in enumerate(ids):
        data[f"messages-{n}-id"] = str(pk)
        data[f"messages-{n}-ticket"] = str(ticket.pk)
    return data


def _url(ticket) -> str:
    return reverse("admin:support_ticket_change", args=[ticket.pk])


def test_without_a_reason_the_change_is_refused_and_what_was_typed_is_kept(
    staff_client, ticket, colleague
):
    response = staff_client.post(
        _url(ticket),
        {
            **_inline(ticket),
            "assigned_to": str(colleague.pk),
            "reply": "Já estamos vendo o seu QR Code.",
            "resolve": "on",
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Informe o motivo" in page
    assert "Já estamos vendo o seu QR Code." in page
    assert f'<option value="{colleague.pk}" selected>' in page
    ticket.refresh_from_db()
    assert ticket.assigned_to is None
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.count() == 1  # the reply was not sent
    assert not AuditRecord.objects.exists()


def test_a_change_with_its_reason_is_recorded_with_before_after_who_and_why(
    staff_client, staff, ticket, colleague, owner
):
    response = staff_client.post(
        _url(ticket),
        {
            **_inline(ticket),
            "assigned_to": str(colleague.pk),
            "reason": "Ela cuida das integrações",
        },
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assigned_to == colleague
    record = AuditRecord.objects.get()
    assert (record.actor, record.customer, record.action) == (
        staff,
        owner,
        "ticket_assign",
    )
    assert f"#{ticket.pk}" in record.target
    assert record.before == {"assigned_to": None}
    assert record.after == {"assigned_to": "colega@plugmessage.local"}
    assert record.reason == "Ela cuida das integrações"


def test_taking_the_assignee_away_is_recorded_too(
    staff_client, staff, ticket, colleague
):
    services.ticket_assign(
        ticket=ticket, assigned_to=colleague, actor=staff, reason="Integrações"
    )

    staff_client.post(
        _url(ticket),
        {**_inline(ticket), "assigned_to": "", "reason": "Ela saiu de férias"},
    )

    ticket.refresh_from_db()
    assert ticket.assigned_to is None
    last = AuditRecord.objects.order_by("-id").first()
    assert (last.before, last.after) == (
        {"assigned_to": "colega@plugmessage.local"},
        {"assigned_to": None},
    )


def test_a_save_that_keeps_the_assignee_asks_no_reason_and_records_nothing(
    staff_client, staff, ticket
):
    services.ticket_assign(ticket=ticket, assigned_to=staff, actor=staff, reason="Eu")

    response = staff_client.post(
        _url(ticket),
        {**_inline(ticket), "assigned_to": str(staff.pk), "reply": "Resolvido?"},
    )

    assert response.status_code == 302
    assert AuditRecord.objects.count() == 1
    assert ticket.messages.filter(body="Resolvido?").exists()


def test_the_service_refuses_an_empty_reason_and_an_assignee_outside_the_team(
    staff, ticket, owner
):
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, assigned_to=staff, actor=staff, reason="")
    with pytest.raises(ValidationError):
        services.ticket_assign(
            ticket=ticket, assigned_to=owner, actor=staff, reason="Engano"
        )
    ticket.refresh_from_db()
    assert ticket.assigned_to is None
    assert not AuditRecord.objects.exists()


def test_customers_and_visitors_cannot_reach_it_and_change_nothing(
    client, owner, other, ticket, colleague
):
    for visitor in (owner, other, None):
        client.logout()
        if visitor is not None:
            client.force_login(visitor)
        response = client.post(
            _url(ticket),
            {**_inline(ticket), "assigned_to": str(colleague.pk), "reason": "x"},
        )
        assert response.status_code == 302 and "/admin/login/" in response.url
    ticket.refresh_from_db()
    assert ticket.assigned_to is None
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_change_locks_the_ticket_and_commits_with_its_record_on_postgresql(
    staff_client, staff, owner, colleague
):
    """Outside any test transaction, through the admin: the lock needs a
    transaction of its own, and the change and its record commit together."""
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Webhook", body="?"
    )

    response = staff_client.post(
        _url(ticket),
        {**_inline(ticket), "assigned_to": str(colleague.pk), "reason": "Plantão"},
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assigned_to == colleague
    assert AuditRecord.objects.get().after == {"assigned_to": colleague.email}


@pytest.mark.django_db(transaction=True)
def test_two_staff_changing_it_at_once_are_recorded_one_after_the_other(
    staff, owner, colleague
):
    """The second change waits for the first to commit and records what it
    really replaced: the first one's assignee, not the one it read before."""
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Webhook", body="?"
    )
    first_done = threading.Event()

    def first():
        with transaction.atomic():
            services.ticket_assign(
                ticket=ticket, assigned_to=staff, actor=staff, reason="Eu pego"
            )
            first_done.set()
            _wait_until_another_session_waits_for_a_lock()
        return "first"

    def second():
        assert first_done.wait(timeout=20)
        services.ticket_assign(
            ticket=ticket, assigned_to=colleague, actor=colleague, reason="Eu pego"
        )
        return "second"

    results, errors = at_the_same_moment([first, second])

    assert errors == []
    assert sorted(results) == ["first", "second"]
    ticket.refresh_from_db()
    assert ticket.assigned_to == colleague
    records = list(AuditRecord.objects.order_by("id"))
    assert [(r.before, r.after) for r in records] == [
        ({"assigned_to": None}, {"assigned_to": staff.email}),
        ({"assigned_to": staff.email}, {"assigned_to": colleague.email}),
    ]


def _wait_until_another_session_waits_for_a_lock() -> None:
    """Until some other session of this database is blocked on a lock (the
    second change, on the ticket), watched from a connection of its own."""
    watcher = connections.create_connection("default")

    def someone_waits() -> bool:
        with watcher.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(cursor.fetchone()[0])

    try:
        wait_for(someone_waits, timeout=20, what="the second change to wait")
    finally:
        watcher.close()
