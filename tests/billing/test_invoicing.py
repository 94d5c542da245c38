"""Postpaid invoices: pro rata by São Paulo day, one invoice per account and
month, idempotent and safe when two runs start at the same moment."""

from datetime import UTC, date
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from billing import prorata, services
from billing.models import BillingProfile, Invoice, InvoiceLine, SubscriptionPeriod
from tests.billing.conftest import sp, subscribed
from tests.factories import InstanceFactory, UserFactory
from tests.helpers import at_the_same_moment

# Pro rata, pure.

OCTOBER = date(2026, 10, 1)


def test_subscribing_on_the_31st_bills_one_day_of_thirty_one():
    assert prorata.days_subscribed([(sp(2026, 10, 31, 18), None)], OCTOBER) == 1
    assert prorata.amount_for_days(9900, 1, 31) == 319  # 319.35…


def test_cancelling_on_the_first_still_bills_that_day():
    periods = [(sp(2026, 9, 10), sp(2026, 10, 1, 9, 30))]
    assert prorata.days_subscribed(periods, OCTOBER) == 1


def test_resubscribing_in_the_same_month_counts_each_day_once():
    periods = [
        (sp(2026, 10, 1), sp(2026, 10, 10, 12)),  # 1–10
        (sp(2026, 10, 10, 15), sp(2026, 10, 12)),  # 10 again, 11, 12
        (sp(2026, 10, 20), None),  # 20–31
    ]
    assert prorata.days_subscribed(periods, OCTOBER) == 12 + 12


def test_a_whole_month_of_31_days_costs_the_monthly_price():
    days = prorata.days_subscribed([(sp(2026, 9, 1), None)], OCTOBER)
    assert (days, prorata.month_days(OCTOBER)) == (31, 31)
    assert prorata.amount_for_days(9900, days, 31) == 9900


def test_february_of_a_leap_year_has_29_days():
    february = date(2028, 2, 1)
    assert prorata.month_days(february) == 29
    assert prorata.days_subscribed([(sp(2028, 2, 29, 8), None)], february) == 1
    assert prorata.amount_for_days(9900, 15, 29) == 5121  # 5120.69…


def test_amounts_round_half_up_to_the_centavo():
    assert prorata.amount_for_days(14, 1, 28) == 1  # exactly 0.5
    assert prorata.amount_for_days(42, 1, 28) == 2  # exactly 1.5
    assert prorata.amount_for_days(13, 1, 28) == 0  # 0.46…


def test_days_are_counted_in_sao_paulo_time():
    # 23:30 on 31 October in São Paulo is already 1 November in UTC.
    start = sp(2026, 10, 31, 23, 30)
    assert start.astimezone(UTC).day == 1
    assert prorata.days_subscribed([(start, None)], OCTOBER) == 1
    assert prorata.days_subscribed([(start, None)], date(2026, 11, 1)) == 30


def test_a_period_outside_the_month_counts_nothing():
    periods = [(sp(2026, 8, 1), sp(2026, 9, 30, 23, 59))]
    assert prorata.days_subscribed(periods, OCTOBER) == 0


# Issuing.


@pytest.mark.django_db
def test_an_account_gets_one_invoice_with_a_line_per_instance(owner):
    full = InstanceFactory(owner=owner, name="Vendas")
    late = InstanceFactory(owner=owner, name="Suporte")
    twice = InstanceFactory(owner=owner, name="Avisos")
    subscribed(full, sp(2026, 9, 15))
    subscribed(late, sp(2026, 10, 31, 10))
    subscribed(twice, sp(2026, 10, 1), sp(2026, 10, 5))
    subscribed(twice, sp(2026, 10, 25), sp(2026, 11, 3))
    BillingProfile.objects.create(
        account=owner,
        name="Loja da Ana Ltda",
        document="11222333000181",
        email="financeiro@loja.com.br",
        postal_code="01310100",
        street="Avenida Paulista",
        number="1000",
        district="Bela Vista",
        city="São Paulo",
        state="SP",
    )

    assert (
        services.invoices_issue_for_period(period=OCTOBER, today=date(2026, 11, 1)) == 1
    )

    invoice = Invoice.objects.get(account=owner, period=OCTOBER)
    lines = {line.instance_name: line for line in invoice.lines.all()}
    assert {name: (ln.days, ln.amount_cents) for name, ln in lines.items()} == {
        "Vendas": (31, 9900),
        "Suporte": (1, 319),
        "Avisos": (5 + 7, 3832),  # 9900 × 12 ÷ 31 = 3832.26
    }
    assert all(
        ln.days_in_month == 31 and ln.unit_price_cents == 9900 for ln in lines.values()
    )
    assert invoice.total_cents == sum(ln.amount_cents for ln in lines.values())
    assert invoice.due_date == date(2026, 11, 10)
    assert invoice.bill_to_document == "11222333000181"
    assert "Avenida Paulista, 1000" in invoice.bill_to_address


@pytest.mark.django_db
def test_issuing_twice_makes_one_invoice(owner):
    subscribed(InstanceFactory(owner=owner), sp(2026, 10, 3))
    assert services.invoices_issue_for_period(period=OCTOBER) == 1
    assert services.invoices_issue_for_period(period=OCTOBER) == 0
    assert Invoice.objects.count() == 1
    assert InvoiceLine.objects.count() == 1


@pytest.mark.django_db
def test_an_account_with_nothing_to_bill_gets_no_invoice(owner, other):
    InstanceFactory(owner=owner)  # on trial, never subscribed
    subscribed(InstanceFactory(owner=other), sp(2026, 11, 2))  # only next month
    assert services.invoices_issue_for_period(period=OCTOBER) == 0
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_deleted_instance_is_still_billed_for_the_days_it_was_subscribed(owner):
    instance = InstanceFactory(owner=owner, name="Antiga")
    subscribed(instance, sp(2026, 10, 1), sp(2026, 10, 10))
    instance.delete()
    services.invoices_issue_for_period(period=OCTOBER)
    line = InvoiceLine.objects.get()
    assert (line.instance_name, line.days) == ("Antiga", 10)


@pytest.mark.django_db
def test_an_invoice_issued_late_still_leaves_days_to_pay(owner):
    subscribed(InstanceFactory(owner=owner), sp(2026, 10, 3))
    services.invoices_issue_for_period(period=OCTOBER, today=date(2026, 11, 26))
    assert Invoice.objects.get().due_date == date(2026, 11, 29)


@pytest.mark.django_db
def test_many_accounts_are_issued_with_a_constant_number_of_queries(
    django_assert_max_num_queries,
):
    for _ in range(30):
        user = UserFactory()
        for _ in range(3):
            subscribed(InstanceFactory(owner=user), sp(2026, 9, 1))
    with django_assert_max_num_queries(12):
        assert services.invoices_issue_for_period(period=OCTOBER) == 30
    assert InvoiceLine.objects.count() == 90


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_the_same_moment_make_one_invoice_per_account():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (make test with DATABASE_URL)")
    users = [UserFactory() for _ in range(20)]
    for user in users:
        subscribed(InstanceFactory(owner=user), sp(2026, 10, 2))
        subscribed(InstanceFactory(owner=user), sp(2026, 10, 20))
    created, errors = at_the_same_moment(
        [lambda: services.invoices_issue_for_period(period=OCTOBER)] * 2
    )

    assert errors == []
    assert len(created) == 2 and sum(created) == 20
    assert Invoice.objects.count() == 20
    assert InvoiceLine.objects.count() == 40
    for invoice in Invoice.objects.prefetch_related("lines"):
        assert invoice.lines.count() == 2
        assert invoice.total_cents == sum(ln.amount_cents for ln in invoice.lines.all())


# The command.


@pytest.mark.django_db
@time_machine.travel(sp(2026, 11, 26, 9), tick=False)
def test_the_command_issues_a_chosen_month(owner):
    subscribed(InstanceFactory(owner=owner), sp(2026, 10, 3))
    out = StringIO()
    call_command("issue_invoices", "--period", "2026-10", stdout=out)
    assert Invoice.objects.filter(period=OCTOBER).count() == 1
    assert "1 fatura" in out.getvalue()


@pytest.mark.django_db
@time_machine.travel(sp(2026, 11, 26, 9), tick=False)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11", "ainda não terminou"),
        ("2027-01", "ainda não terminou"),
        ("outubro", "AAAA-MM"),
        ("2026-13", "AAAA-MM"),
    ],
)
def test_the_command_refuses_a_month_that_has_not_ended_or_is_malformed(
    owner, value, message
):
    subscribed(InstanceFactory(owner=owner), sp(2026, 10, 3))
    with pytest.raises(CommandError, match=message):
        call_command("issue_invoices", "--period", value)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_beat_task_on_the_first_invoices_the_month_that_ended(owner, settings):
    from billing.tasks import invoices_issue_task

    schedule = settings.CELERY_BEAT_SCHEDULE["invoices-issue"]["schedule"]
    assert schedule.day_of_month == {1}
    subscribed(InstanceFactory(owner=owner), sp(2026, 10, 3))
    with time_machine.travel(sp(2026, 11, 1, 0, 5), tick=False):
        invoices_issue_task()
    assert Invoice.objects.get().period == OCTOBER


@pytest.mark.django_db
def test_the_demo_account_gets_last_months_invoice_once():
    from accounts.services import demo_accounts_ensure

    demo_accounts_ensure()
    for _ in range(2):
        call_command("billing_demo_setup", stdout=StringIO())
    invoice = Invoice.objects.get(account__email="demo@plugmessage.local")
    assert invoice.lines.get().days == prorata.month_days(invoice.period)
    assert invoice.charges.count() == 1
    assert SubscriptionPeriod.objects.filter(ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_the_demo_setup_needs_the_demo_account():
    with pytest.raises(CommandError, match="demo_setup"):
        call_command("billing_demo_setup")
