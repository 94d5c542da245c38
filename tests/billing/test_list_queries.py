"""The "Boletos" page costs the same queries for 2 invoices as for 11: open
invoices with their boleto, lines and payments, the payment history and the
preview of the month's subscribed instances."""

from datetime import date

import pytest
from django.urls import reverse

from billing import services as billing_services
from billing.models import Invoice, Payment
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db


def _grow(owner, upto: int) -> None:
    """`upto` instances subscribed since 2024, each month's invoice open with
    its boleto and a partial payment."""
    start = Invoice.objects.filter(account=owner).count()
    for n in range(start, upto):
        subscribed(InstanceFactory(owner=owner, name=f"Loja {n}"), sp(2024, 1, 1))
    for n in range(start, upto):
        period = date(2024 + n // 12, n % 12 + 1, 1)
        billing_services.invoices_issue_for_period(
            period=period, today=date(period.year + (period.month == 12), 1, 1)
        )
    for invoice in Invoice.objects.filter(account=owner, charges__isnull=True):
        charge = billing_services.charge_issue(invoice=invoice)
        Payment.objects.create(
            invoice=invoice,
            charge=charge,
            paid_on=date(2025, 1, 5),
            amount_cents=100,
            method="boleto",
        )


def test_boletos_costs_the_same_queries_for_2_and_11_invoices(
    owner_client, owner, django_assert_num_queries
):
    billing_profile_for(owner)
    url = reverse("billing:invoices")
    _grow(owner, 2)
    owner_client.get(url)  # the session cached, as in use
    with django_assert_num_queries(9):  # the account's balance is one of them
        few = owner_client.get(url)
    _grow(owner, 11)
    with django_assert_num_queries(9):  # the account's balance is one of them
        many = owner_client.get(url)

    assert few.status_code == many.status_code == 200
    body = many.content.decode()
    assert Invoice.objects.filter(account=owner).count() == 11
    assert body.count("Ver boleto") == 11
    assert body.count("Loja 10") == 1  # the preview's line
