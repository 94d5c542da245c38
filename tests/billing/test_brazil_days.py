"""The days of money are Brazil's, whatever time zone is active: a request
or a task that activates another (UTC, a customer abroad) must not move a
due date, a payment date or the month being billed."""

from datetime import date

import pytest
import time_machine
from django.utils import timezone

from billing import dates, services
from billing.models import Invoice
from billing.providers.base import NotificationRefused, PaymentNotice, notice_check
from tests.billing.conftest import sp, subscribed
from tests.factories import InstanceFactory

# 23:30 on 31 October in São Paulo: 1 November in UTC.
LATE_ON_THE_31ST = sp(2026, 10, 31, 23, 30)


def test_today_is_brazils_day_whatever_the_active_time_zone():
    with time_machine.travel(LATE_ON_THE_31ST, tick=False), timezone.override("UTC"):
        assert timezone.localdate() == date(2026, 11, 1)  # what UTC says
        assert dates.today() == date(2026, 10, 31)
        assert dates.day_of(timezone.now()) == date(2026, 10, 31)


def test_an_invoice_due_today_is_not_overdue_before_midnight_in_brazil(owner):
    subscribed(InstanceFactory(owner=owner), sp(2026, 9, 3))

    with time_machine.travel(sp(2026, 10, 1, 0, 5), tick=False):
        services.invoices_issue_for_period(period=date(2026, 9, 1))
    invoice = Invoice.objects.get()
    Invoice.objects.filter(pk=invoice.pk).update(due_date=date(2026, 10, 31))
    invoice.refresh_from_db()
    with time_machine.travel(LATE_ON_THE_31ST, tick=False), timezone.override("UTC"):
        assert not invoice.is_overdue
    with time_machine.travel(sp(2026, 11, 1, 0, 30), tick=False):
        assert invoice.is_overdue


def test_a_payment_dated_two_days_ahead_in_brazil_is_refused():
    def notice(paid_on):
        return PaymentNotice(
            notice_ref="n1",
            charge_ref="c1",
            amount_cents=1000,
            paid_on=paid_on,
            method="pix",
        )

    with time_machine.travel(LATE_ON_THE_31ST, tick=False), timezone.override("UTC"):
        assert notice_check(notice(date(2026, 11, 1))).paid_on == date(2026, 11, 1)
        with pytest.raises(NotificationRefused):
            notice_check(notice(date(2026, 11, 2)))
