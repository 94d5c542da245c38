"""Boletos and PIX through the provider adapter, payments (idempotent), the
2ª via with fine and interest, staff's "Marcar como pago", the reminders."""

from datetime import date

import pytest
from django.core import mail
from django.db import connection

from accounts.models import AuditRecord
from billing import boleto, pix, services
from billing.emails import invoice_email_send
from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
)
from billing.providers.base import PaymentNotice
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.factories import InstanceFactory, UserFactory
from tests.helpers import at_the_same_moment

OCTOBER = date(2026, 10, 1)


def invoice_for(user, *, instances=1) -> Invoice:

    billing_profile_for(user)
    for _ in range(instances):
        instance = InstanceFactory(owner=user)
        subscribed(instance, sp(2026, 9, 1))
    services.invoices_issue_for_period(period=OCTOBER, today=date(2026, 11, 1))
    return Invoice.objects.get(account=user, period=OCTOBER)


@pytest.mark.django_db
def test_issuing_asks_for_the_charges_which_are_valid_boletos_and_pix(
    owner, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_for(owner, instances=2)
    assert ("billing.tasks.charges_issue_pending_task", []) in queued
    with django_capture_on_commit_callbacks(execute=True):
        assert services.charges_issue_pending() == 1
        assert services.charges_issue_pending() == 0
    charge = Charge.objects.get(invoice=invoice)
    assert charge.amount_cents == invoice.total_cents == 19800
    assert boleto.linha_from_barcode(charge.barcode) == charge.linha_digitavel
    assert int(charge.barcode[9:19]) == 19800
    assert boleto.due_factor(invoice.due_date) == int(charge.barcode[5:9])
    fields = pix.pix_fields(charge.pix_payload)
    assert fields["54"] == "198.00"
    assert pix.crc16(charge.pix_payload[:-4]) == fields["63"]
    assert (
        "billing.tasks.invoice_email_task",
        ["invoice_issued", str(invoice.pk)],
    ) in queued


@pytest.mark.django_db
def test_the_issued_email_carries_the_lines_and_the_linha_digitavel(owner):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    invoice_email_send(kind="invoice_issued", invoice_id=str(invoice.pk))
    (email,) = mail.outbox
    assert email.to == ["financeiro@loja.com.br"]
    assert "R$ 99,00" in email.subject
    assert charge.linha_digitavel in email.body
    assert "31/31 dias" in email.body


def _notice(charge, ref="evt-1", method="pix"):
    return PaymentNotice(
        notice_ref=ref,
        charge_ref=charge.provider_ref,
        paid_on=date(2026, 11, 8),
        amount_cents=charge.amount_cents,
        method=method,
    )


@pytest.mark.django_db
def test_the_same_payment_notification_twice_records_one_payment(owner, queued):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    first = services.payment_record(notice=_notice(charge), provider_name="simulated")
    again = services.payment_record(notice=_notice(charge), provider_name="simulated")
    assert first.pk == again.pk
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID


@pytest.mark.django_db
def test_a_notification_for_an_unknown_charge_records_nothing(owner):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    stranger = Charge(provider_ref="sim_00000000000", amount_cents=1)
    with pytest.raises(services.PaymentUnknown):
        services.payment_record(notice=_notice(stranger), provider_name="simulated")
    assert not Payment.objects.exists()
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_the_same_notification_at_the_same_moment_records_one_payment():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (make test with DATABASE_URL)")
    invoice = invoice_for(UserFactory())
    charge = services.charge_issue(invoice=invoice)
    recorded, errors = at_the_same_moment(
        [
            lambda: services.payment_record(
                notice=_notice(charge), provider_name="simulated"
            )
        ]
        * 4
    )
    assert errors == []
    assert len({payment.pk for payment in recorded}) == 1 and len(recorded) == 4
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_late_charges_are_two_percent_and_one_percent_a_month_pro_rata_die(owner):
    invoice = invoice_for(owner)  # R$ 99,00 due 10/11
    plan = services.plan_current()
    assert services.late_charges(invoice, date(2026, 11, 10), plan) == (198, 0)
    # 15 days late: 9900 × 1% × 15/30 = 49.5 → 50 (half up)
    assert services.late_charges(invoice, date(2026, 11, 25), plan) == (198, 50)
    assert services.late_charges(invoice, date(2026, 12, 10), plan) == (198, 99)


@pytest.mark.django_db
def test_the_2a_via_cancels_the_old_boleto_and_adds_fine_and_interest(owner):
    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    with pytest.raises(services.BillingError, match="vencida"):
        services.invoice_reissue(invoice=invoice, today=date(2026, 11, 10))
    new = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    old.refresh_from_db()
    assert old.status == ChargeStatus.CANCELLED
    assert (new.fine_cents, new.interest_cents) == (198, 50)
    assert new.amount_cents == 9900 + 198 + 50
    assert new.due_date == date(2026, 11, 28)
    assert new.is_reissue and new.linha_digitavel != old.linha_digitavel
    assert int(new.barcode[9:19]) == 10148
    assert (
        Charge.objects.filter(invoice=invoice, status=ChargeStatus.ACTIVE).count() == 1
    )
    assert not AuditRecord.objects.exists()  # the customer's own 2ª via


@pytest.mark.django_db
def test_staff_mark_paid_with_a_reason_and_it_is_audited(owner, staff):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    with pytest.raises(services.BillingError, match="motivo"):
        services.invoice_mark_paid(invoice=invoice, actor=staff, reason=" ")
    payment = services.invoice_mark_paid(
        invoice=invoice, actor=staff, reason="Transferência identificada no extrato"
    )
    assert (payment.method, payment.amount_cents, payment.recorded_by) == (
        "manual",
        9900,
        staff,
    )
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CANCELLED
    record = AuditRecord.objects.get()
    assert (record.actor, record.customer, record.action) == (
        staff,
        owner,
        "invoice_mark_paid",
    )
    assert record.after["status"] == "paid"
    with pytest.raises(services.BillingError, match="não está em aberto"):
        services.invoice_mark_paid(invoice=invoice, actor=staff, reason="de novo")


@pytest.mark.django_db
def test_reminders_go_once_three_days_before_and_once_when_overdue(
    owner, queued, django_capture_on_commit_callbacks
):
    invoice = invoice_for(owner)  # due 10/11
    services.charge_issue(invoice=invoice)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_remind(today=date(2026, 11, 6)) == 0
        assert services.invoices_remind(today=date(2026, 11, 7)) == 1
        assert services.invoices_remind(today=date(2026, 11, 8)) == 0
        assert services.invoices_remind(today=date(2026, 11, 11)) == 1
        assert services.invoices_remind(today=date(2026, 11, 12)) == 0
    emails = [a for n, a in queued if n == "billing.tasks.invoice_email_task"]
    assert emails == [
        ["invoice_due_soon", str(invoice.pk)],
        ["invoice_overdue", str(invoice.pk)],
    ]
    invoice_email_send(kind="invoice_overdue", invoice_id=str(invoice.pk))
    assert "vencida" in mail.outbox[0].subject


@pytest.mark.django_db
def test_a_full_batch_of_charges_asks_for_another_run(
    owner, other, queued, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "CHARGE_BATCH", 1)
    invoice_for(owner)
    invoice_for(other)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.charges_issue_pending() == 1
    assert ("billing.tasks.charges_issue_pending_task", []) in queued
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.charges_issue_pending() == 1
        assert services.charges_issue_pending() == 0
    assert Charge.objects.count() == 2


@pytest.mark.django_db
def test_a_2a_via_the_provider_refuses_changes_nothing(owner, monkeypatch):
    from billing.providers.base import ProviderError
    from billing.providers.simulated import SimulatedProvider

    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    cancelled = []

    def refuse(self, request):
        raise ProviderError("recusado")

    monkeypatch.setattr(SimulatedProvider, "charge_create", refuse)
    monkeypatch.setattr(
        SimulatedProvider, "charge_cancel", lambda self, ref: cancelled.append(ref)
    )
    with pytest.raises(ProviderError):
        services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    old.refresh_from_db()
    assert old.status == ChargeStatus.ACTIVE
    assert Charge.objects.count() == 1
    assert cancelled == []


@pytest.mark.django_db
def test_the_old_boleto_is_cancelled_at_the_provider_after_the_2a_via_commits(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    from billing.providers.simulated import SimulatedProvider

    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    cancelled = []
    monkeypatch.setattr(
        SimulatedProvider, "charge_cancel", lambda self, ref: cancelled.append(ref)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    assert cancelled == [old.provider_ref]


@pytest.mark.django_db
def test_a_smaller_payment_is_recorded_and_the_invoice_stays_open(owner, queued):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    partial_notice = PaymentNotice(
        notice_ref="evt-parcial",
        charge_ref=charge.provider_ref,
        paid_on=date(2026, 11, 8),
        amount_cents=1,
        method="pix",
    )
    services.payment_record(notice=partial_notice, provider_name="simulated")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert Payment.objects.count() == 1
    rest = PaymentNotice(
        notice_ref="evt-resto",
        charge_ref=charge.provider_ref,
        paid_on=date(2026, 11, 9),
        amount_cents=charge.amount_cents - 1,
        method="pix",
    )
    services.payment_record(notice=rest, provider_name="simulated")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_a_2a_via_is_reminded_by_its_own_due_date(
    owner, queued, django_capture_on_commit_callbacks
):
    invoice = invoice_for(owner)  # due 10/11
    services.charge_issue(invoice=invoice)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_remind(today=date(2026, 11, 12)) == 1  # overdue
        services.invoice_reissue(invoice=invoice, today=date(2026, 11, 20))  # due 23/11
        assert services.invoices_remind(today=date(2026, 11, 20)) == 1  # due soon
        assert services.invoices_remind(today=date(2026, 11, 24)) == 1  # overdue again
    kinds = [a[0] for n, a in queued if n == "billing.tasks.invoice_email_task"]
    assert kinds == ["invoice_overdue", "invoice_due_soon", "invoice_overdue"]
    invoice.refresh_from_db()
    assert invoice.is_overdue


@pytest.mark.django_db
def test_refused_charges_wait_behind_the_others(owner, other, queued, monkeypatch):
    from billing.providers.base import ProviderError
    from billing.providers.simulated import SimulatedProvider

    monkeypatch.setattr(services, "CHARGE_BATCH", 1)
    first = invoice_for(owner)
    second = invoice_for(other)
    real = SimulatedProvider.charge_create

    def refuse_first(self, request):
        if request.customer_ref == f"sim_cus_{owner.pk}":
            raise ProviderError("recusado")
        return real(self, request)

    monkeypatch.setattr(SimulatedProvider, "charge_create", refuse_first)
    assert services.charges_issue_pending() == 0  # the first is refused
    assert services.charges_issue_pending() == 1  # the second is not blocked
    assert Charge.objects.get().invoice == second
    first.refresh_from_db()
    assert first.charge_refused_at is not None


@pytest.mark.django_db
def test_the_longest_address_the_form_accepts_fits_the_invoice(owner):
    from billing.models import BillingProfile

    invoice_for(owner)
    Invoice.objects.all().delete()
    BillingProfile.objects.filter(account=owner).update(
        street="R" * 120,
        number="9" * 20,
        complement="C" * 60,
        district="B" * 60,
        city="S" * 60,
    )
    services.invoices_issue_for_period(period=OCTOBER, today=date(2026, 11, 1))
    assert len(Invoice.objects.get().bill_to_address) > 300


@pytest.mark.django_db
def test_the_pdf_of_many_instances_goes_on_to_a_second_page(owner):
    from billing.pdf import invoice_pdf

    invoice = invoice_for(owner, instances=40)
    charge = services.charge_issue(invoice=invoice)
    document = invoice_pdf(invoice, charge)
    assert document.count(b"/Type /Page\n") + document.count(b"/Type /Page ") >= 2


@pytest.mark.django_db
def test_mark_paid_after_a_partial_payment_records_only_the_rest(owner, staff):
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    notice = _notice(charge)
    services.payment_record(
        notice=PaymentNotice(
            notice_ref=notice.notice_ref,
            charge_ref=notice.charge_ref,
            paid_on=notice.paid_on,
            amount_cents=4000,
            method="pix",
        ),
        provider_name="simulated",
    )
    payment = services.invoice_mark_paid(
        invoice=invoice, actor=staff, reason="O resto chegou por transferência"
    )
    assert payment.amount_cents == invoice.total_cents - 4000
    received = sum(p.amount_cents for p in Payment.objects.filter(invoice=invoice))
    assert received == invoice.total_cents
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert AuditRecord.objects.get().after["amount_cents"] == payment.amount_cents
