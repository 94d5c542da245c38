"""Billing in the admin: invoices filtered by status and period with their
lines, the two audited actions, and who may change the price."""

from datetime import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditRecord
from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Plan,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_filter_invoices_by_status_and_period_and_see_the_lines(
    staff_client, invoice
):
    url = reverse("admin:billing_invoice_changelist")
    assert (
        invoice.number
        in staff_client.get(url, {"status__exact": "open"}).content.decode()
    )
    assert (
        invoice.number
        not in staff_client.get(url, {"status__exact": "paid"}).content.decode()
    )
    assert (
        invoice.number
        in staff_client.get(url, {"period": "2026-10-01"}).content.decode()
    )
    page = staff_client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    body = page.content.decode()
    assert "Vendas" in body and "9900" in body
    assert 'name="status"' not in body  # read-only


def _action(client, invoice, action, reason=None):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(invoice.pk)]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(reverse("admin:billing_invoice_changelist"), data, follow=True)


def test_marking_paid_asks_for_a_reason_and_writes_an_audit_record(
    staff_client, staff, invoice
):
    page = _action(staff_client, invoice, "mark_paid").content.decode()
    assert "Motivo" in page
    page = _action(staff_client, invoice, "mark_paid", reason="").content.decode()
    assert "Este campo é obrigatório" in page
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    page = _action(staff_client, invoice, "mark_paid", reason="PIX visto no extrato")
    assert "registrada na auditoria" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    record = AuditRecord.objects.get()
    assert (record.actor, record.action, record.reason) == (
        staff,
        "invoice_mark_paid",
        "PIX visto no extrato",
    )


def test_the_2a_via_action_is_audited(staff_client, staff, invoice):
    from time_machine import travel

    with travel(timezone.make_aware(datetime(2026, 11, 20, 10)), tick=False):
        page = _action(
            staff_client, invoice, "reissue", reason="Cliente pediu por telefone"
        )
    assert "2ª via gerada" in page.content.decode()
    assert Charge.objects.filter(status=ChargeStatus.CANCELLED).count() == 1
    record = AuditRecord.objects.get()
    assert record.action == "invoice_reissue"
    assert record.after["due_date"] == "2026-11-23"


# The same two actions outside a test transaction, as in production: each
# service must open the transaction its lock and its audit record need.

LOCKS_ON_POSTGRESQL = "locks are tested on PostgreSQL (make test with DATABASE_URL)"


@pytest.mark.django_db(transaction=True)
def test_marking_paid_commits_with_its_audit_record_on_postgresql(
    staff_client, staff, queued, invoice
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)

    page = _action(staff_client, invoice, "mark_paid", reason="PIX visto no extrato")

    assert "registrada na auditoria" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.recorded_by) == (PaymentMethod.MANUAL, staff)
    assert invoice.charges.get().status == ChargeStatus.CANCELLED
    assert AuditRecord.objects.get().action == "invoice_mark_paid"
    assert (
        "billing.tasks.invoice_email_task",
        ["payment_received", str(invoice.pk)],
    ) in queued


@pytest.mark.django_db(transaction=True)
def test_the_2a_via_commits_with_its_audit_record_on_postgresql(
    staff_client, staff, queued, invoice
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    from time_machine import travel

    with travel(timezone.make_aware(datetime(2026, 11, 20, 10)), tick=False):
        page = _action(staff_client, invoice, "reissue", reason="Pedido por telefone")

    assert "2ª via gerada" in page.content.decode()
    old, new = invoice.charges.order_by("is_reissue")
    assert old.status == ChargeStatus.CANCELLED
    assert (new.status, new.is_reissue) == (ChargeStatus.ACTIVE, True)
    record = AuditRecord.objects.get()
    assert record.action == "invoice_reissue"
    assert record.after["linha_digitavel"] == new.linha_digitavel


def test_support_cannot_change_the_price_or_delete_invoices(staff_client, invoice):
    plan = Plan.objects.get(is_current=True)
    url = reverse("admin:billing_plan_change", args=[plan.pk])
    staff_client.post(url, {"name": "X", "monthly_price_cents": 1, "due_day": 10})
    plan.refresh_from_db()
    assert plan.monthly_price_cents == 9900
    delete = reverse("admin:billing_invoice_delete", args=[invoice.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def _plan_form(**values) -> dict:
    return {
        "name": "PlugMessage",
        "monthly_price_cents": 12900,
        "fine_basis_points": 200,
        "monthly_interest_basis_points": 100,
        "due_day": 10,
        "is_current": "on",
        **values,
    }


def test_a_superuser_changes_the_price_with_a_reason_and_it_is_audited(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    plan = Plan.objects.get(is_current=True)
    url = reverse("admin:billing_plan_change", args=[plan.pk])

    response = client.post(url, _plan_form(name="PlugMessage Pro", reason=" "))

    # Refused, with everything typed kept.
    assert response.status_code == 200
    body = response.content.decode()
    assert "Informe o motivo: toda mudança de preço fica registrada." in body
    assert 'value="12900"' in body and 'value="PlugMessage Pro"' in body
    plan.refresh_from_db()
    assert (plan.monthly_price_cents, plan.name) == (9900, "PlugMessage")
    assert not AuditRecord.objects.exists()

    response = client.post(
        url, _plan_form(name="PlugMessage Pro", reason="Reajuste anual (IPCA)")
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.monthly_price_cents, plan.name) == (12900, "PlugMessage Pro")
    record = AuditRecord.objects.get()
    assert (record.actor, record.customer, record.action) == (
        admin_user,
        None,
        "plan_price_set",
    )
    assert record.before == {"monthly_price_cents": 9900}
    assert record.after == {"monthly_price_cents": 12900}
    assert record.reason == "Reajuste anual (IPCA)"


def test_other_plan_fields_change_without_a_reason_or_an_audit_record(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    plan = Plan.objects.get(is_current=True)
    response = client.post(
        reverse("admin:billing_plan_change", args=[plan.pk]),
        _plan_form(monthly_price_cents=9900, due_day=15),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.due_day, plan.monthly_price_cents) == (15, 9900)
    assert not AuditRecord.objects.exists()


def test_the_audit_trail_lists_a_price_change_with_no_customer(client):
    from billing import services

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    services.plan_price_set(
        plan=Plan.objects.get(is_current=True),
        monthly_price_cents=10900,
        actor=admin_user,
        reason="Reajuste",
    )
    client.force_login(admin_user)
    body = client.get(reverse("admin:accounts_auditrecord_changelist")).content
    assert "plan_price_set" in body.decode()


@pytest.mark.django_db(transaction=True)
def test_the_price_change_commits_with_its_audit_record_on_postgresql(client):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    from django.core.exceptions import ValidationError

    from billing import services

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    plan = services.plan_current()
    with pytest.raises(ValidationError):
        services.plan_price_set(
            plan=plan, monthly_price_cents=1, actor=admin_user, reason=""
        )
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:billing_plan_change", args=[plan.pk]),
        _plan_form(reason="Reajuste anual"),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.monthly_price_cents == 12900
    assert AuditRecord.objects.get().after == {"monthly_price_cents": 12900}


def test_customers_cannot_open_the_billing_admin(owner_client, invoice):
    response = owner_client.get(reverse("admin:billing_invoice_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
