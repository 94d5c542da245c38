"""Payments that reconcile: an invoice is paid when what was received covers
its total, and nobody is charged twice. Each rule with the simulated provider
and with the Asaas adapter (respx: nothing leaves the machine)."""

import json
from datetime import date, datetime

import httpx
import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    SimulatedProviderCharge,
)
from billing.providers.base import PaymentNotice
from tests.billing.test_asaas import TOKEN as ASAAS_TOKEN
from tests.billing.test_asaas import _webhook, fixture
from tests.billing.test_charge_idempotency import API, _listed
from tests.billing.test_charges_and_payments import invoice_for
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment

ON_POSTGRESQL = "locks and concurrency are tested on PostgreSQL (DATABASE_URL)"
SIM_TOKEN = "segredo-de-teste"  # noqa: S105


def _pay(charge: Charge, amount: int, ref: str, provider: str = "simulated"):
    return services.payment_record(
        notice=PaymentNotice(
            notice_ref=ref,
            charge_ref=charge.provider_ref,
            paid_on=date(2026, 11, 8),
            amount_cents=amount,
            method="boleto",
        ),
        provider_name=provider,
    )


def _received(invoice: Invoice) -> int:
    return sum(
        Payment.objects.filter(invoice=invoice).values_list("amount_cents", flat=True)
    )


# A 2ª via charges what is still to be paid, with fine and interest on it.


@pytest.mark.django_db
def test_a_2a_via_after_a_partial_payment_charges_the_rest_with_fine_and_interest_on_it(
    owner, queued
):
    invoice = invoice_for(owner)  # R$ 99,00 due 10/11
    first = services.charge_issue(invoice=invoice)
    _pay(first, 4000, "evt-parcial")

    second = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))

    # 5900 left: fine 2 % = 118; interest 1 % a month for 15 days = 29.5 → 30
    assert (second.fine_cents, second.interest_cents) == (118, 30)
    assert second.amount_cents == 5900 + 118 + 30
    assert int(second.barcode[9:19]) == 6048
    _pay(second, second.amount_cents, "evt-resto")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.received_cents == invoice.total_cents  # the fees apart
    assert not owner.balance_entries.exists()  # the fees are not a credit


@time_machine.travel(timezone.make_aware(datetime(2026, 11, 25, 10)), tick=False)
@pytest.mark.django_db
def test_the_2a_via_page_shows_what_is_left_and_the_new_amount(owner_client, owner):
    invoice = invoice_for(owner)
    _pay(services.charge_issue(invoice=invoice), 4000, "evt-parcial")
    body = owner_client.get(
        reverse("billing:reissue", args=[invoice.pk])
    ).content.decode()
    assert "Já recebido" in body and "R$ 40,00" in body
    assert "Falta pagar" in body and "R$ 59,00" in body
    assert "R$ 60,48" in body


@pytest.mark.django_db
def test_a_boleto_for_the_rest_of_a_partly_paid_invoice_is_issued_by_the_hourly_run(
    owner, queued
):
    invoice = invoice_for(owner)
    first = services.charge_issue(invoice=invoice)
    _pay(first, 4000, "evt-parcial")
    first.refresh_from_db()
    assert first.status == ChargeStatus.PAID  # a boleto is paid once

    assert services.charges_issue_pending() == 1

    rest = Charge.objects.get(invoice=invoice, status=ChargeStatus.ACTIVE)
    assert rest.amount_cents == 5900
    assert rest.due_date >= invoice.due_date


# Paying any boleto of an invoice cancels the others, here and at the provider.


@pytest.fixture
def simulated_webhook(settings):
    settings.PAYMENT_WEBHOOK_TOKEN = SIM_TOKEN


def _sim_post(client, charge, amount, ref):
    return client.post(
        reverse("billing:payment_webhook"),
        json.dumps(
            {
                "id": ref,
                "charge": charge.provider_ref,
                "paid_on": "2026-11-26",
                "amount_cents": amount,
                "method": "boleto",
            }
        ),
        content_type="application/json",
        HTTP_X_PLUGMESSAGE_TOKEN=SIM_TOKEN,
    )


@pytest.mark.django_db
def test_paying_the_old_boleto_cancels_the_2a_via_here_and_at_the_provider(
    client, owner, queued, simulated_webhook, django_capture_on_commit_callbacks
):
    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    # The bank took the old boleto before its cancellation reached it.
    with django_capture_on_commit_callbacks(execute=True):
        new = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    SimulatedProviderCharge.objects.filter(provider_ref=old.provider_ref).update(
        cancelled_at=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _sim_post(client, old, 9900, "evt-antigo").status_code == 200

    new.refresh_from_db()
    assert new.status == ChargeStatus.CANCELLED
    at_provider = SimulatedProviderCharge.objects.get(provider_ref=new.provider_ref)
    assert at_provider.cancelled_at is not None
    # Paying the 2ª via now is refused by the bank: nothing more is received.
    assert _sim_post(client, new, new.amount_cents, "evt-novo").status_code == 401
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert _received(invoice) == 9900


@pytest.mark.django_db
def test_a_cancelled_simulated_boleto_cannot_be_paid(client, owner, simulated_webhook):
    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    from billing.providers import provider_get

    provider_get().charge_cancel(old.provider_ref)
    assert _sim_post(client, old, 9900, "evt-1").status_code == 401
    assert not Payment.objects.exists()


@pytest.fixture
def asaas(settings):
    """PAYMENT_PROVIDER=asaas against respx: the first payment created is
    pay_080225913252, the second pay_segunda_via."""
    import respx

    from billing.providers import _provider

    settings.PAYMENT_PROVIDER = "billing.providers.asaas.AsaasProvider"
    settings.ASAAS_API_URL = API
    settings.ASAAS_API_KEY = "$aact_hmlg_chave-de-teste"
    settings.PAYMENT_WEBHOOK_TOKEN = ASAAS_TOKEN
    _provider.cache_clear()
    with respx.mock(base_url=API, assert_all_called=False) as mock:
        mock.get("/customers").respond(json=fixture("customers_empty_list"))
        mock.post("/customers").respond(json=fixture("customer_created"))
        created = fixture("payment_created")
        mock.post("/payments", name="create").mock(
            side_effect=[
                httpx.Response(200, json=created),
                httpx.Response(200, json={**created, "id": "pay_segunda_via"}),
            ]
        )
        for ref in ("pay_080225913252", "pay_segunda_via"):
            mock.get(f"/payments/{ref}/identificationField").respond(
                json=fixture("identification_field")
            )
            mock.get(f"/payments/{ref}/pixQrCode").respond(json=fixture("pix_qr_code"))
            mock.delete(f"/payments/{ref}", name=f"delete {ref}").respond(
                json=fixture("payment_deleted")
            )
        mock.get("/payments").respond(json=_listed())
        yield mock
    _provider.cache_clear()


def _asaas_paid(client, value, **payment):
    return client.post(
        reverse("billing:payment_webhook"),
        _webhook("PAYMENT_RECEIVED", billingType="BOLETO", value=value, **payment),
        content_type="application/json",
        HTTP_ASAAS_ACCESS_TOKEN=ASAAS_TOKEN,
    )


@pytest.mark.django_db
def test_asaas_a_2a_via_after_a_partial_payment_asks_for_the_rest(
    client, owner, queued, asaas
):
    invoice = invoice_for(owner)
    services.charge_issue(invoice=invoice)
    assert _asaas_paid(client, 40).status_code == 200

    second = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))

    sent = json.loads(asaas["create"].calls.last.request.content)
    assert sent["value"] == 60.48  # 59,00 + 1,18 fine + 0,30 interest
    assert second.amount_cents == 6048
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN


@pytest.mark.django_db
def test_asaas_paying_the_old_boleto_deletes_the_2a_via_there(
    client, owner, queued, asaas, django_capture_on_commit_callbacks
):
    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    with django_capture_on_commit_callbacks(execute=True):
        new = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    assert asaas["delete pay_080225913252"].called
    assert new.provider_ref == "pay_segunda_via"

    # Asaas reports the old boleto paid (the bank took it before the
    # deletion): the 2ª via is deleted there.
    with django_capture_on_commit_callbacks(execute=True):
        assert _asaas_paid(client, 99).status_code == 200

    assert asaas["delete pay_segunda_via"].called
    new.refresh_from_db()
    old.refresh_from_db()
    assert (old.status, new.status) == (ChargeStatus.PAID, ChargeStatus.CANCELLED)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


@pytest.mark.django_db(transaction=True)
def test_the_old_and_the_new_boleto_paid_at_the_same_moment_on_postgresql(queued):
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    account = UserFactory()
    invoice = invoice_for(account)
    old = services.charge_issue(invoice=invoice)
    new = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))

    recorded, errors = at_the_same_moment(
        [
            lambda: _pay(old, old.amount_cents, "evt-antigo"),
            lambda: _pay(new, new.amount_cents, "evt-novo"),
        ]
    )

    assert errors == [] and len(recorded) == 2
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Payment.objects.filter(invoice=invoice).count() == 2
    # Both banks took the money: the invoice is paid once, the rest is credit.
    assert invoice.received_cents == 9900 + 9900
    credit = -sum(account.balance_entries.values_list("amount_cents", flat=True))
    assert credit == 9900
    assert set(
        Charge.objects.filter(invoice=invoice).values_list("status", flat=True)
    ) == {ChargeStatus.PAID}


# Money beyond the total is a credit, shown to staff and to the customer and
# applied to the next invoice.

NOVEMBER = date(2026, 11, 1)


def _november(account) -> Invoice:
    services.invoices_issue_for_period(period=NOVEMBER, today=date(2026, 12, 1))
    return Invoice.objects.get(account=account, period=NOVEMBER)


@pytest.mark.django_db
def test_money_beyond_the_total_is_a_credit_shown_and_applied_to_the_next_invoice(
    client, owner, staff, queued
):
    october = invoice_for(owner)  # R$ 99,00, subscribed since September
    _pay(services.charge_issue(invoice=october), 12000, "evt-a-mais")
    october.refresh_from_db()
    assert october.status == InvoiceStatus.PAID
    assert services.account_balance_cents(owner) == -2100

    client.force_login(owner)
    body = client.get(reverse("billing:invoices")).content.decode()
    assert "Crédito a seu favor: <strong>R$ 21,00</strong>" in body
    client.force_login(staff)
    page = client.get(reverse("admin:billing_invoice_change", args=[october.pk]))
    assert "crédito de R$ 21,00" in page.content.decode()
    listing = client.get(reverse("admin:billing_balanceentry_changelist"))
    assert "-R$ 21,00" in listing.content.decode()

    november = _november(owner)
    assert (november.total_cents, november.balance_applied_cents) == (7800, -2100)
    assert services.charge_issue(invoice=november).amount_cents == 7800
    assert services.account_balance_cents(owner) == 0
    client.force_login(owner)
    sheet = client.get(reverse("billing:boleto", args=[november.pk])).content.decode()
    assert "Crédito de pagamento anterior" in sheet and "− R$ 21,00" in sheet


@pytest.mark.django_db
def test_a_credit_larger_than_the_next_invoice_pays_it_and_the_rest_waits(
    owner, queued
):
    october = invoice_for(owner)
    _pay(services.charge_issue(invoice=october), 9900 + 15000, "evt-a-mais")

    november = _november(owner)

    assert (november.status, november.total_cents) == (InvoiceStatus.PAID, 0)
    assert november.paid_at is not None
    assert services.charges_issue_pending() == 0
    assert services.account_balance_cents(owner) == -(15000 - 9900)


@pytest.mark.django_db
def test_asaas_money_beyond_the_total_is_taken_off_the_next_boleto(
    client, owner, queued, asaas
):
    october = invoice_for(owner)
    services.charge_issue(invoice=october)
    assert _asaas_paid(client, 120).status_code == 200
    assert services.account_balance_cents(owner) == -2100

    services.charge_issue(invoice=_november(owner))

    sent = json.loads(asaas["create"].calls.last.request.content)
    assert sent["value"] == 78.0


# An invoice below what a boleto can carry is not issued: its amount goes on
# the next month's invoice, and the preview says so.


def _one_day_in_october(owner, *, stays=True):
    from tests.billing.conftest import billing_profile_for, sp, subscribed
    from tests.factories import InstanceFactory

    billing_profile_for(owner)
    subscribed(
        InstanceFactory(owner=owner, name="Vendas"),
        sp(2026, 10, 31, 18),
        None if stays else sp(2026, 10, 31, 20),
    )
    services.invoices_issue_for_period(period=date(2026, 10, 1), today=NOVEMBER)
    return Invoice.objects.get(account=owner, period=date(2026, 10, 1))


@pytest.mark.django_db
def test_an_invoice_below_a_boletos_minimum_is_not_issued_and_carries_on(
    owner, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        october = _one_day_in_october(owner)  # 1 day of 31: R$ 3,19
        assert services.charges_issue_pending() == 0
    assert october.status == InvoiceStatus.CARRIED
    assert not october.charges.exists()
    assert not [a for n, a in queued if n == "billing.tasks.invoice_email_task"]
    assert services.account_balance_cents(owner) == 319

    november = _november(owner)

    assert (november.total_cents, november.balance_applied_cents) == (10219, 319)
    assert services.charge_issue(invoice=november).amount_cents == 10219
    assert services.account_balance_cents(owner) == 0


@pytest.mark.django_db
def test_a_zero_invoice_is_not_issued(owner, queued):
    from billing.models import Plan

    Plan.objects.filter(is_current=True).update(monthly_price_cents=0)
    october = invoice_for(owner)
    assert (october.status, october.total_cents) == (InvoiceStatus.CARRIED, 0)
    assert services.charges_issue_pending() == 0
    assert services.account_balance_cents(owner) == 0


@pytest.mark.django_db
def test_a_carried_amount_is_invoiced_even_without_use_the_next_month(owner, queued):
    _one_day_in_october(owner, stays=False)

    november = _november(owner)

    assert not november.lines.exists()
    assert november.total_cents == 319
    assert november.status == InvoiceStatus.CARRIED  # still below the minimum
    assert services.account_balance_cents(owner) == 319


@pytest.mark.django_db
def test_asaas_is_not_asked_for_a_boleto_below_its_minimum(owner, queued, asaas):
    _one_day_in_october(owner)
    assert services.charges_issue_pending() == 0
    assert not asaas["create"].called
    services.charge_issue(invoice=_november(owner))
    sent = json.loads(asaas["create"].calls.last.request.content)
    assert sent["value"] == 102.19


@time_machine.travel(timezone.make_aware(datetime(2026, 12, 1, 22)), tick=False)
@pytest.mark.django_db
def test_the_preview_says_a_month_below_the_minimum_carries_on(owner_client, owner):
    from tests.billing.conftest import billing_profile_for, sp, subscribed
    from tests.factories import InstanceFactory

    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner), sp(2026, 12, 1, 9))
    body = owner_client.get(reverse("billing:invoices")).content.decode()
    assert "1 de 31" in body and "R$ 3,19" in body
    assert "o valor passa para a fatura do mês seguinte" in body


@pytest.mark.django_db
def test_a_rest_below_the_minimum_after_a_partial_payment_goes_to_the_next_month(
    owner, queued
):
    october = invoice_for(owner)
    _pay(services.charge_issue(invoice=october), 9900 - 300, "evt-quase")
    october.refresh_from_db()
    assert october.status == InvoiceStatus.CARRIED
    assert services.charges_issue_pending() == 0
    # Should the rest arrive anyway, it is not asked for again.
    _pay(october.charges.get(), 300, "evt-resto")
    assert services.account_balance_cents(owner) == 0
    assert _november(owner).total_cents == 9900


@pytest.mark.django_db(transaction=True)
def test_two_months_issued_at_the_same_moment_use_a_credit_once_on_postgresql(queued):
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    account = UserFactory()
    october = invoice_for(account)
    _pay(services.charge_issue(invoice=october), 9900 + 5000, "evt-a-mais")
    from tests.billing.conftest import sp, subscribed
    from tests.factories import InstanceFactory

    subscribed(InstanceFactory(owner=account), sp(2026, 8, 1))  # Sep too
    september = date(2026, 9, 1)

    _, errors = at_the_same_moment(
        [
            lambda: services.invoices_issue_for_period(
                period=september, today=date(2026, 12, 1)
            ),
            lambda: services.invoices_issue_for_period(
                period=NOVEMBER, today=date(2026, 12, 1)
            ),
        ]
    )

    assert errors == []
    applied = Invoice.objects.filter(
        account=account, period__in=[september, NOVEMBER]
    ).values_list("balance_applied_cents", flat=True)
    assert sorted(applied) == [-5000, 0]
    assert services.account_balance_cents(account) == 0


@pytest.mark.django_db
def test_asaas_late_fees_it_collected_are_fees_not_credit(client, owner, queued, asaas):
    """Paid after the due date, Asaas collects its fine and interest on top of
    the charged value (value) and reports the charged one (originalValue):
    the difference is fees, the invoice is paid, and nothing is credited."""
    invoice = invoice_for(owner)
    services.charge_issue(invoice=invoice)
    total = invoice.total_cents / 100

    response = _asaas_paid(client, round(total + 2.33, 2), originalValue=total)

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.fees_cents == 233
    assert payment.principal_cents == invoice.total_cents
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    assert services.account_balance_cents(owner) == 0
