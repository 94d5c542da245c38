"""Every support page with a list costs the same queries for 2 rows as for
11: the customer-360 page, "Boas práticas" and the ticket lists of the
customer and of staff."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import audit_record_create
from billing.models import Charge, ChargeStatus, Invoice, InvoiceStatus, Payment
from instances import services as instance_services
from instances.models import ExclusionEntry, Instance, InstanceEvent, InstanceState
from support import selectors, services
from support.models import Ticket
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda name, args=(): None)


def _grow(owner, staff, upto: int) -> None:
    """Give the owner `upto` of everything a list shows: connected instances
    with events and exclusion lists, open invoices with a boleto and a
    payment, tickets assigned to staff, failing webhooks, audit records."""
    start = Instance.objects.filter(owner=owner).count()
    for n in range(start, upto):
        instance = instance_services.instance_create(owner=owner, name=f"Loja {n}")
        Instance.objects.filter(pk=instance.pk).update(
            state=InstanceState.CONNECTED,
            phone_number=f"+55119000000{n:02d}",
            connected_at=timezone.now(),
            warmup_started_at=timezone.now() - timedelta(days=n),
        )
        for step in range(3):
            InstanceEvent.objects.create(
                instance=instance,
                to_state=InstanceState.CONNECTED,
                cause=f"passo {step}",
                actor_kind="engine",
            )
        ExclusionEntry.objects.create(instance=instance, phone=f"+55219876543{n:02d}")
        invoice = Invoice.objects.create(
            account=owner,
            period=date(2024 + n // 12, n % 12 + 1, 1),
            total_cents=9990,
            due_date=date(2025, 1, 10),
        )
        Charge.objects.create(
            invoice=invoice,
            provider="simulated",
            provider_ref=f"ref-{n}",
            due_date=date(2025, 1, 10),
            amount_cents=9990,
            barcode="1" * 44,
            linha_digitavel="1" * 47,
            pix_payload="000201",
        )
        Payment.objects.create(
            invoice=invoice, paid_on=date(2025, 1, 5), amount_cents=100, method="pix"
        )
        ticket = services.ticket_open(
            account=owner, category="technical", subject=f"Ajuda {n}", body="?"
        )
        Ticket.objects.filter(pk=ticket.pk).update(assigned_to=staff, instance=instance)
        WebhookEndpoint.objects.create(
            instance=instance,
            kind="message.received",
            url="https://loja.test/hook",
            failing_since=timezone.now(),
        )
        audit_record_create(
            actor=staff,
            customer=owner,
            action="instance.trial_extend",
            target=str(instance.pk),
            reason="Cliente em homologação",
            before={},
            after={},
        )


def _assert_same_queries(client, user, url, owner, staff, queries, assert_queries):
    client.force_login(user)
    _grow(owner, staff, 2)
    client.get(url)  # the session and the permissions cached, as in use
    with assert_queries(queries):
        few = client.get(url)
    _grow(owner, staff, 11)
    with assert_queries(queries):
        many = client.get(url)
    assert few.status_code == many.status_code == 200
    return many.content.decode()


def test_the_customer_360_page_costs_the_same_queries_for_2_and_11_of_each(
    client, owner, staff, django_assert_num_queries
):
    url = reverse("admin:support_customer_change", args=[owner.pk])

    body = _assert_same_queries(
        client, staff, url, owner, staff, 13, django_assert_num_queries
    )

    assert body.count("Loja 10</a>") == 1
    assert body.count("passo 2") == 11  # the newest 3 events of each
    assert "Instância criada" not in body  # the 4th, oldest
    assert body.count("vencida") == 11


def test_boas_praticas_costs_the_same_queries_for_2_and_11_instances(
    client, owner, staff, django_assert_num_queries
):
    body = _assert_same_queries(
        client,
        owner,
        reverse("support:best_practices"),
        owner,
        staff,
        2,
        django_assert_num_queries,
    )

    assert body.count("1 números na lista.") == 11


def test_the_customers_ticket_list_costs_the_same_queries_for_2_and_11(
    client, owner, staff, django_assert_num_queries
):
    body = _assert_same_queries(
        client,
        owner,
        reverse("support:home"),
        owner,
        staff,
        2,
        django_assert_num_queries,
    )

    assert "Ajuda 10" in body and "Loja 10" in body


def test_the_staff_ticket_queue_costs_the_same_queries_for_2_and_11(
    client, owner, staff, django_assert_num_queries
):
    body = _assert_same_queries(
        client,
        staff,
        reverse("admin:support_ticket_changelist"),
        owner,
        staff,
        7,
        django_assert_num_queries,
    )

    assert "Ajuda 10" in body and owner.email in body


@pytest.mark.parametrize(
    ("status", "charge_due", "invoice_due"),
    [
        (InvoiceStatus.OPEN, date(2025, 1, 10), date(2025, 1, 10)),
        (InvoiceStatus.OPEN, date(2099, 1, 10), date(2025, 1, 10)),  # a 2ª via
        (InvoiceStatus.OPEN, None, date(2025, 1, 10)),
        (InvoiceStatus.OPEN, None, date(2099, 1, 10)),
        (InvoiceStatus.PAID, date(2025, 1, 10), date(2025, 1, 10)),
    ],
)
def test_the_360_overdue_mark_agrees_with_billing(
    owner, status, charge_due, invoice_due
):
    invoice = Invoice.objects.create(
        account=owner,
        period=date(2024, 12, 1),
        total_cents=9990,
        due_date=invoice_due,
        status=status,
    )
    if charge_due:
        Charge.objects.create(
            invoice=invoice,
            provider="simulated",
            provider_ref="ref",
            status=ChargeStatus.ACTIVE,
            due_date=charge_due,
            amount_cents=9990,
            barcode="1" * 44,
            linha_digitavel="1" * 47,
            pix_payload="000201",
        )

    (shown,) = selectors.customer_360(owner).invoices

    assert shown.overdue == Invoice.objects.get(pk=invoice.pk).is_overdue
