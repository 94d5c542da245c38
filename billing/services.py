"""Billing services: the current plan, postpaid monthly invoices (pro rata by
day) and their issuing. Money is integer centavos; days are São Paulo days."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from billing import prorata
from billing.models import (
    BillingProfile,
    Invoice,
    InvoiceLine,
    Plan,
    SubscriptionPeriod,
)
from instances import services as instance_services
from instances.models import ActorKind, Instance

ISSUE_BATCH = 500
# An invoice issued late (by hand, for an old month) still gives the customer
# this many days to pay.
MIN_DAYS_TO_PAY = 3


def plan_current() -> Plan:
    """The plan in force (a data migration creates the default one)."""
    plan = Plan.objects.filter(is_current=True).first()
    if plan is None:
        plan = Plan.objects.create(name="PlugMessage", monthly_price_cents=9900)
    return plan


@dataclass(frozen=True)
class LineDraft:
    instance_uuid: uuid.UUID
    instance_name: str
    days: int
    days_in_month: int
    unit_price_cents: int

    @property
    def amount_cents(self) -> int:
        return prorata.amount_for_days(
            self.unit_price_cents, self.days, self.days_in_month
        )


def _periods_overlapping(period: date):
    """Subscription periods that touch the month, ordered by account."""
    start = prorata.month_start_aware(period)
    end = prorata.month_start_aware(prorata.month_next(period))
    return (
        SubscriptionPeriod.objects.filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .order_by("account_id", "instance_uuid", "started_at")
    )


def _lines(
    rows: Iterable[SubscriptionPeriod],
    period: date,
    unit_price_cents: int,
    *,
    until: date | None = None,
) -> list[LineDraft]:
    """One line per instance with at least one subscribed day in the month."""
    by_instance: dict[uuid.UUID, list[SubscriptionPeriod]] = defaultdict(list)
    for row in rows:
        by_instance[row.instance_uuid].append(row)
    lines = []
    dim = prorata.month_days(period)
    for instance_uuid, periods in by_instance.items():
        days = prorata.days_subscribed(
            [(p.started_at, p.ended_at) for p in periods], period, until=until
        )
        if days:
            lines.append(
                LineDraft(
                    instance_uuid=instance_uuid,
                    instance_name=periods[-1].instance_name,
                    days=days,
                    days_in_month=dim,
                    unit_price_cents=unit_price_cents,
                )
            )
    return sorted(lines, key=lambda line: (line.instance_name, str(line.instance_uuid)))


def invoice_preview_lines(*, account, today: date | None = None) -> list[LineDraft]:
    """What the current month has accrued so far for `account` ("Próxima
    fatura (prévia)"): the days up to today, at the current price."""
    today = today or timezone.localdate()
    period = prorata.month_first(today)
    rows = _periods_overlapping(period).filter(account=account)
    return _lines(rows, period, plan_current().monthly_price_cents, until=today)


def invoice_due_date(plan: Plan, today: date) -> date:
    due = today.replace(day=plan.due_day)
    return max(due, today + timedelta(days=MIN_DAYS_TO_PAY))


def _accounts_batched(period: date):
    """(account_id, [periods]) for every account with a period touching the
    month, read in one streamed query."""
    current_id, current = None, []
    for row in _periods_overlapping(period).iterator(chunk_size=2000):
        if row.account_id != current_id and current:
            yield current_id, current
            current = []
        current_id = row.account_id
        current.append(row)
    if current:
        yield current_id, current


def invoices_issue_for_period(*, period: date, today: date | None = None) -> int:
    """Issue the invoices of `period` (its first day): one per account with
    subscribed days in it, one line per instance. Idempotent and safe to run
    twice at once: the unique (account, period) constraint decides, an account
    already invoiced is skipped, and each invoice is written with its lines in
    one transaction. Works in batches with a constant number of queries per
    batch. Returns how many invoices this run created."""
    period = prorata.month_first(period)
    today = today or timezone.localdate()
    plan = plan_current()
    due_date = invoice_due_date(plan, today)
    already = set(
        Invoice.objects.filter(period=period).values_list("account_id", flat=True)
    )
    accounts = (
        (account_id, rows)
        for account_id, rows in _accounts_batched(period)
        if account_id not in already
    )
    created = 0
    while batch := list(islice(accounts, ISSUE_BATCH)):
        created += _issue_batch(batch, period, plan, due_date)
    return created


@transaction.atomic
def _issue_batch(batch, period: date, plan: Plan, due_date: date) -> int:
    profiles = {
        p.account_id: p
        for p in BillingProfile.objects.filter(account_id__in=[a for a, _ in batch])
    }
    drafts: dict[uuid.UUID, tuple[Invoice, list[LineDraft]]] = {}
    for account_id, rows in batch:
        lines = _lines(rows, period, plan.monthly_price_cents)
        if not lines:
            continue
        profile = profiles.get(account_id)
        invoice = Invoice(
            id=uuid.uuid4(),
            account_id=account_id,
            period=period,
            total_cents=sum(line.amount_cents for line in lines),
            due_date=due_date,
            bill_to_name=profile.name if profile else "",
            bill_to_document=profile.document if profile else "",
            bill_to_email=profile.email if profile else "",
            bill_to_address=profile.address if profile else "",
        )
        drafts[invoice.id] = (invoice, lines)
    if not drafts:
        return 0
    Invoice.objects.bulk_create(
        [invoice for invoice, _ in drafts.values()], ignore_conflicts=True
    )
    # Another run may have invoiced some of these accounts first: only the
    # invoices whose ids we chose made it in.
    ours = set(Invoice.objects.filter(pk__in=list(drafts)).values_list("pk", flat=True))
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice_id=invoice_id,
                instance_uuid=line.instance_uuid,
                instance_name=line.instance_name,
                days=line.days,
                days_in_month=line.days_in_month,
                unit_price_cents=line.unit_price_cents,
                amount_cents=line.amount_cents,
            )
            for invoice_id in ours
            for line in drafts[invoice_id][1]
        ]
    )
    return len(ours)


# Subscriptions.


class BillingError(Exception):
    """A billing request that cannot be done; the message is for the customer."""


@transaction.atomic
def subscription_start(*, instance: Instance, actor: User) -> SubscriptionPeriod:
    """Subscribe the instance from now on: a new period (a re-subscription is
    another one) and the instance marked subscribed; an expired or cancelled
    one becomes usable again. Needs the account's billing data. Atomic;
    raises BillingError when already subscribed or without billing data."""
    if not BillingProfile.objects.filter(account=instance.owner).exists():
        raise BillingError(_("Preencha os dados de cobrança antes de assinar."))
    locked = Instance.objects.select_for_update().get(pk=instance.pk)
    if locked.subscribed_since is not None:
        raise BillingError(_("Esta instância já está assinada."))
    period = SubscriptionPeriod.objects.create(
        account=instance.owner,
        instance=instance,
        instance_uuid=instance.pk,
        instance_name=instance.name,
    )
    instance_services.instance_subscription_begin(
        instance=locked, actor_kind=ActorKind.CUSTOMER, actor=actor
    )
    return period


def subscription_cancel(*, instance: Instance, actor: User) -> SubscriptionPeriod:
    """End the instance's subscription now: this month's days are still billed
    on next month's invoice, nothing after. Disconnects the instance and moves
    it to "Cancelada". Raises BillingError when it is not subscribed."""
    with transaction.atomic():
        period = (
            SubscriptionPeriod.objects.select_for_update()
            .filter(instance_uuid=instance.pk, ended_at__isnull=True)
            .first()
        )
        if period is None:
            raise BillingError(_("Esta instância não está assinada."))
        period.ended_at = timezone.now()
        period.instance_name = instance.name
        period.save(update_fields=["ended_at", "instance_name"])
        instance_services.instance_subscription_end(
            instance=instance, actor_kind=ActorKind.CUSTOMER, actor=actor
        )
    return period


def billing_profile_save(*, account: User, values: dict) -> BillingProfile:
    """Create or update the account's "Dados de cobrança" (already validated
    by the form: document digits only, CEP digits only)."""
    profile, _created = BillingProfile.objects.update_or_create(
        account=account, defaults=values
    )
    return profile
