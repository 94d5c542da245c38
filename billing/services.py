"""Billing services: the current plan, postpaid monthly invoices (pro rata by
day) and their issuing. Money is integer centavos; days are São Paulo days."""

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record_create
from billing import dates, prorata
from billing.models import (
    BalanceEntry,
    BalanceEntryKind,
    BillingProfile,
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Plan,
    SubscriptionPeriod,
)
from billing.providers import provider_get
from billing.providers.base import (
    ChargeRequest,
    IssuedCharge,
    Payer,
    PaymentNotice,
    PaymentProvider,
    ProviderError,
    ProviderUnavailable,
)
from instances import services as instance_services
from instances.models import ActorKind, Instance
from plugmessage.broker import task_after_commit
from plugmessage.locks import lock_one, lock_rows

logger = logging.getLogger(__name__)

ISSUE_BATCH = 500
# An invoice issued late (by hand, for an old month) still gives the customer
# this many days to pay.
MIN_DAYS_TO_PAY = 3


def plan_current() -> Plan:
    """The plan in force (a data migration creates the default one)."""
    plan = Plan.objects.filter(is_current=True).first()
    if plan is None:
        try:
            with transaction.atomic():
                plan = Plan.objects.create(name="PlugMessage", monthly_price_cents=9900)
        except IntegrityError:  # created at the same moment elsewhere
            plan = Plan.objects.get(is_current=True)
    return plan


def plan_price_set(
    *, plan: Plan, monthly_price_cents: int, actor: User, reason: str
) -> Plan:
    """Staff change the monthly price of a plan (the admin). Atomic with its
    audit record (before, after, who, why); the plan's row is locked while
    it changes. Invoices already issued keep their price. Raises
    ValidationError for an empty reason or a negative price."""
    if not reason.strip():
        raise ValidationError(_("Informe o motivo da alteração."))
    if monthly_price_cents < 0:
        raise ValidationError(_("O preço não pode ser negativo."))
    with transaction.atomic():
        current = lock_one(Plan, pk=plan.pk)
        before = current.monthly_price_cents
        Plan.objects.filter(pk=current.pk).update(
            monthly_price_cents=monthly_price_cents, updated_at=timezone.now()
        )
        current.monthly_price_cents = monthly_price_cents
        audit_record_create(
            actor=actor,
            customer=None,
            action="plan_price_set",
            target=f"{_('Plano')} {current.name}",
            before={"monthly_price_cents": before},
            after={"monthly_price_cents": monthly_price_cents},
            reason=reason,
        )
    return current


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


def invoice_preview_lines(
    *, account, today: date | None = None, plan: Plan | None = None
) -> list[LineDraft]:
    """What the current month has accrued so far for `account` ("Próxima
    fatura (prévia)"): the days up to today, at the current price."""
    today = today or dates.today()
    period = prorata.month_first(today)
    rows = _periods_overlapping(period).filter(account=account)
    price = (plan or plan_current()).monthly_price_cents
    return _lines(rows, period, price, until=today)


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
    today = today or dates.today()
    plan = plan_current()
    due_date = invoice_due_date(plan, today)
    already = set(
        Invoice.objects.filter(period=period).values_list("account_id", flat=True)
    )
    # An account that owes an amount carried from an earlier month is
    # invoiced even with no subscribed day in this one.
    owing = set(
        BalanceEntry.objects.values("account_id")
        .annotate(balance=Sum("amount_cents"))
        .filter(balance__gt=0)
        .values_list("account_id", flat=True)
    )
    accounts = _accounts_to_invoice(period, skip=already, owing=owing)
    created = 0
    while batch := list(islice(accounts, ISSUE_BATCH)):
        created += _issue_batch(batch, period, plan, due_date, owing=owing)
    if created:
        # Boletos and PIX come from the provider, one call each: not here.
        _task_later("billing.tasks.charges_issue_pending_task")
    return created


def _accounts_to_invoice(period: date, *, skip: set, owing: set):
    """(account_id, [periods]) for each account to invoice: those with a
    period touching the month, then those that only owe a carried amount."""
    seen = set()
    for account_id, rows in _accounts_batched(period):
        seen.add(account_id)
        if account_id not in skip:
            yield account_id, rows
    for account_id in sorted(owing - seen - skip):
        yield account_id, []


@transaction.atomic
def _issue_batch(batch, period: date, plan: Plan, due_date: date, *, owing: set) -> int:
    profiles = {
        p.account_id: p
        for p in BillingProfile.objects.filter(account_id__in=[a for a, _ in batch])
    }
    drafts: dict[uuid.UUID, tuple[Invoice, list[LineDraft]]] = {}
    for account_id, rows in batch:
        lines = _lines(rows, period, plan.monthly_price_cents)
        if not lines and account_id not in owing:
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
    _invoices_settle_balance([drafts[invoice_id][0] for invoice_id in ours])
    return len(ours)


def _invoices_settle_balance(invoices: list[Invoice]) -> None:
    """Bring each account's balance into its new invoice (what earlier
    months carried is added, a credit is used up to the total), then set
    aside an invoice below what a boleto can carry: it is not charged, its
    total goes on the next month's invoice. One that a credit pays in full
    is paid. The accounts with a balance are locked while it is read and
    used, so two runs never use the same credit twice."""
    accounts = [invoice.account_id for invoice in invoices]
    with_balance = list(
        BalanceEntry.objects.filter(account_id__in=accounts)
        .values_list("account_id", flat=True)
        .distinct()
    )
    balances = {}
    if with_balance:
        lock_rows(
            User.objects.filter(pk__in=with_balance)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        balances = dict(
            BalanceEntry.objects.filter(account_id__in=with_balance)
            .values("account_id")
            .annotate(balance=Sum("amount_cents"))
            .values_list("account_id", "balance")
        )
    minimum = settings.BILLING_MIN_CHARGE_CENTS
    entries = []
    for invoice in invoices:
        lines_total = invoice.total_cents
        applied = max(balances.get(invoice.account_id) or 0, -lines_total)
        total = lines_total + applied
        status, paid_at = InvoiceStatus.OPEN, None
        if applied:
            entries.append(
                BalanceEntry(
                    account_id=invoice.account_id,
                    kind=BalanceEntryKind.APPLIED,
                    amount_cents=-applied,
                    invoice=invoice,
                )
            )
        if total == 0 and applied < 0:
            status, paid_at = InvoiceStatus.PAID, timezone.now()
        elif total < minimum:
            status = InvoiceStatus.CARRIED
            if total > 0:
                entries.append(
                    BalanceEntry(
                        account_id=invoice.account_id,
                        kind=BalanceEntryKind.CARRIED,
                        amount_cents=total,
                        invoice=invoice,
                    )
                )
        if applied or status != InvoiceStatus.OPEN:
            Invoice.objects.filter(pk=invoice.pk).update(
                total_cents=total,
                balance_applied_cents=applied,
                status=status,
                paid_at=paid_at,
            )
    BalanceEntry.objects.bulk_create(entries)


@dataclass(frozen=True)
class InvoicePreview:
    """What the current month has accrued so far, with the account's
    balance (carried from earlier months, or a credit), as the next invoice
    would be issued today."""

    lines: list[LineDraft]
    balance_cents: int
    minimum_cents: int

    @property
    def lines_total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def total_cents(self) -> int:
        return max(0, self.lines_total_cents + self.balance_cents)

    @property
    def below_minimum(self) -> bool:
        """Too small for a boleto: it would carry to the month after."""
        return 0 < self.total_cents < self.minimum_cents

    @property
    def credit_cents(self) -> int:
        return max(0, -self.balance_cents)

    @property
    def credit_to_apply_cents(self) -> int:
        """What of the credit the invoice would use (at most its lines)."""
        return min(self.credit_cents, self.lines_total_cents)


def account_balance_cents(account) -> int:
    """The account's balance with us: positive is owed (carried from a
    month too small to charge), negative is the customer's credit."""
    return (
        BalanceEntry.objects.filter(account=account).aggregate(
            balance=Sum("amount_cents")
        )["balance"]
        or 0
    )


def invoice_preview(
    *, account, today: date | None = None, plan: Plan | None = None
) -> InvoicePreview:
    return InvoicePreview(
        lines=invoice_preview_lines(account=account, today=today, plan=plan),
        balance_cents=account_balance_cents(account),
        minimum_cents=settings.BILLING_MIN_CHARGE_CENTS,
    )


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
    try:
        locked = lock_one(Instance, pk=instance.pk)
    except Instance.DoesNotExist:  # deleted meanwhile
        raise BillingError(_("Esta instância foi excluída.")) from None
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
        try:  # at most one open period per instance (a constraint)
            period = lock_one(
                SubscriptionPeriod, instance_uuid=instance.pk, ended_at__isnull=True
            )
        except SubscriptionPeriod.DoesNotExist:
            raise BillingError(_("Esta instância não está assinada.")) from None
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


# Charges (boleto and PIX), payments and the 2ª via.

REISSUE_DAYS_TO_PAY = 3
CHARGE_BATCH = 200


class PaymentUnknown(Exception):
    """A payment notification for a charge this system never issued."""


def _payer(profile: BillingProfile) -> Payer:
    return Payer(
        reference=str(profile.account_id),
        name=profile.name,
        document=profile.document,
        email=profile.email,
        postal_code=profile.postal_code,
        street=profile.street,
        number=profile.number,
        complement=profile.complement,
        district=profile.district,
        city=profile.city,
        uf=profile.state,
    )


def _txid(invoice: Invoice, sequence: int) -> str:
    """What the boleto and the PIX charge carry to find the invoice again:
    letters and digits only, at most 25 (the PIX txid limit)."""
    return f"PM{invoice.period:%Y%m}{invoice.pk.hex[:12].upper()}{sequence:02d}"


# A pending charge younger than this may still be in the hands of the attempt
# that wrote it: the hourly run leaves it alone.
PENDING_CHARGE_GRACE = timedelta(minutes=10)


def charge_issue(
    *,
    invoice: Invoice,
    due_date: date | None = None,
    fine_cents: int = 0,
    interest_cents: int = 0,
    reissue: bool = False,
    on_recorded: Callable[[Charge, Charge | None], None] | None = None,
    sweeping: bool = False,
) -> Charge | None:
    """Issue, through the payment provider, the boleto and PIX charge of an
    open invoice, for what is still to be paid plus any fine and interest.

    Crash-safe: the charge row is written first (pending), with a reference
    the provider keeps, and committed; the provider is then called with no
    lock held; its answer is recorded under the invoice's lock. A pending row
    an earlier attempt left behind (a crash, a timeout) is finished, not
    duplicated: the provider is first asked for the charge carrying its
    reference. Should two attempts both make one, the later is cancelled at
    the provider. A reissue (2ª via) replaces the active charge only when the
    new one is recorded; `on_recorded(new, replaced)` runs in that same
    transaction (an audit record, say).

    Returns the invoice's active charge, or None when it is no longer open.
    With `sweeping` (charges_issue_pending), None also when, under the lock,
    there is nothing left for this attempt: the invoice has its active charge
    or a pending one another attempt started less than PENDING_CHARGE_GRACE
    ago; an older pending one is taken over (its clock restarted).
    Raises ProviderUnavailable when the provider cannot be reached (the
    pending row stays for the next attempt) and ProviderError when it
    refuses (nothing was made: the pending row goes)."""
    intent, retry = _charge_intent_record(
        invoice=invoice,
        due_date=due_date,
        fine_cents=fine_cents,
        interest_cents=interest_cents,
        reissue=reissue,
        sweeping=sweeping,
    )
    if intent is None or intent.status != ChargeStatus.PENDING:
        return intent
    provider = provider_get()
    try:
        issued = provider.charge_find(intent.reference) if retry else None
        if issued is None:
            issued = provider.charge_create(_charge_request(provider, intent))
    except ProviderUnavailable:
        raise
    except ProviderError:
        Charge.objects.filter(
            pk=intent.pk, status=ChargeStatus.PENDING, provider_ref=""
        ).delete()
        raise
    return _charge_issued_record(intent, issued, on_recorded)


def _charge_intent_record(
    *,
    invoice: Invoice,
    due_date: date | None,
    fine_cents: int,
    interest_cents: int,
    reissue: bool,
    sweeping: bool = False,
) -> tuple[Charge | None, bool]:
    """Under the invoice's lock, and committed before the provider is asked:
    the pending charge to finish (an earlier attempt's, then True), a new one
    (False), or the active charge when there is nothing to issue."""
    with transaction.atomic():
        invoice = lock_one(Invoice, pk=invoice.pk)
        if invoice.status != InvoiceStatus.OPEN:
            return None, False
        pending = invoice.charges.filter(status=ChargeStatus.PENDING).first()
        if pending is not None and sweeping:
            now = timezone.now()
            if pending.created_at >= now - PENDING_CHARGE_GRACE:
                return None, False  # another attempt has it in hand
            Charge.objects.filter(pk=pending.pk).update(created_at=now)
        if pending is not None:
            return pending, True
        active = invoice.charges.filter(status=ChargeStatus.ACTIVE).first()
        if active is not None and not reissue:
            return (None if sweeping else active), False
        outstanding = invoice_outstanding_cents(invoice)
        if due_date is None:
            due_date = invoice.due_date
            today = dates.today()
            if due_date < today and outstanding < invoice.total_cents:
                # The boleto for the rest of a partly paid, overdue invoice
                # is not issued already overdue.
                due_date = today + timedelta(days=REISSUE_DAYS_TO_PAY)
        amount = outstanding + fine_cents + interest_cents
        intent = Charge.objects.create(
            invoice=invoice,
            provider=provider_get().name,
            reference=_txid(invoice, invoice.charges.count() + 1),
            status=ChargeStatus.PENDING,
            due_date=due_date,
            amount_cents=amount,
            fine_cents=fine_cents,
            interest_cents=interest_cents,
            is_reissue=reissue,
        )
    return intent, False


def _charge_request(provider: PaymentProvider, intent: Charge) -> ChargeRequest:
    """What the provider is asked for, from the pending row (with the payer's
    customer at the provider, found or created now: no lock is held)."""
    plan = plan_current()
    invoice = intent.invoice
    profile = BillingProfile.objects.get(account_id=invoice.account_id)
    customer_ref = provider.customer_ensure(
        _payer(profile), known_ref=profile.provider_customer_ref
    )
    if customer_ref != profile.provider_customer_ref:
        BillingProfile.objects.filter(pk=profile.pk).update(
            provider_customer_ref=customer_ref
        )
    return ChargeRequest(
        customer_ref=customer_ref,
        reference=intent.reference,
        amount_cents=intent.amount_cents,
        due_date=intent.due_date,
        description=_("PlugMessage – uso de %(month)s")
        % {"month": f"{invoice.period:%m/%Y}"},
        fine_basis_points=plan.fine_basis_points,
        monthly_interest_basis_points=plan.monthly_interest_basis_points,
    )


def _charge_issued_record(
    intent: Charge,
    issued: IssuedCharge,
    on_recorded: Callable[[Charge, Charge | None], None] | None,
) -> Charge | None:
    """Record what the provider made for a pending charge, under the
    invoice's lock. The charge becomes the active one (cancelling the one it
    replaces, here now and at the provider after commit) unless, while the
    provider answered, the invoice stopped being open or the pending charge
    was cancelled: then what the provider made is kept, cancelled, and
    cancelled there too."""
    with transaction.atomic():
        invoice = lock_one(Invoice, pk=intent.invoice_id)
        charge = Charge.objects.filter(pk=intent.pk).first()
        if charge is not None and charge.provider_ref == issued.provider_ref:
            return charge if charge.status == ChargeStatus.ACTIVE else None
        if charge is None or charge.provider_ref:
            # Another attempt recorded its own charge for this reference
            # first: this one is a duplicate nobody has seen.
            logger.warning("duplicate charge %s cancelled", issued.provider_ref)
            transaction.on_commit(
                partial(_provider_cancel_quietly, issued.provider_ref)
            )
            return invoice.charges.filter(status=ChargeStatus.ACTIVE).first()
        charge.provider_ref = issued.provider_ref
        charge.barcode = issued.barcode
        charge.linha_digitavel = issued.linha_digitavel
        charge.nosso_numero = issued.nosso_numero
        charge.pix_payload = issued.pix_payload
        if charge.status == ChargeStatus.PENDING and (
            invoice.status == InvoiceStatus.OPEN
        ):
            replaced = invoice.charges.filter(status=ChargeStatus.ACTIVE).first()
            if replaced is not None:
                _charge_cancel(replaced)
            charge.status = ChargeStatus.ACTIVE
            charge.save()
            if on_recorded is not None:
                on_recorded(charge, replaced)
            return charge
        charge.status = ChargeStatus.CANCELLED
        charge.cancelled_at = charge.cancelled_at or timezone.now()
        charge.save()
        transaction.on_commit(partial(_provider_cancel_quietly, charge.provider_ref))
    return None


def _charge_cancel(charge: Charge) -> None:
    """Cancel a charge here now and, once this transaction commits, at the
    provider (a pending one has nothing there yet: its answer, when it comes,
    is cancelled there by _charge_issued_record)."""
    Charge.objects.filter(pk=charge.pk).update(
        status=ChargeStatus.CANCELLED, cancelled_at=timezone.now()
    )
    if charge.provider_ref:
        transaction.on_commit(partial(_provider_cancel_quietly, charge.provider_ref))


def charges_issue_pending() -> int:
    """Issue the charge of every open invoice that has none yet, finish
    charges an earlier attempt left pending, and email each new invoice to
    its customer. Idempotent; an invoice the provider refuses now is tried
    again on the next run. Returns how many were issued."""
    stale = timezone.now() - PENDING_CHARGE_GRACE
    charges = Charge.objects.filter(invoice=OuterRef("pk"))
    active = charges.filter(status=ChargeStatus.ACTIVE)
    fresh = charges.filter(status=ChargeStatus.PENDING, created_at__gte=stale)
    left = charges.filter(status=ChargeStatus.PENDING, created_at__lt=stale)
    pending = Invoice.objects.filter(status=InvoiceStatus.OPEN).filter(
        (~Exists(active) & ~Exists(fresh)) | Exists(left)
    )
    batch = list(
        pending.order_by(F("charge_refused_at").asc(nulls_first=True), "issued_at")[
            :CHARGE_BATCH
        ]
    )
    issued = 0
    for invoice in batch:
        try:
            charge = charge_issue(invoice=invoice, sweeping=True)
        except ProviderError:
            logger.warning("provider refused the charge of invoice %s", invoice.pk)
            Invoice.objects.filter(pk=invoice.pk).update(
                charge_refused_at=timezone.now()
            )
            continue
        if charge is None:
            continue
        if not charge.is_reissue:
            _email_later("invoice_issued", invoice)
        issued += 1
    if len(batch) == CHARGE_BATCH and issued:
        # More are waiting (the 1st of the month): another task takes them.
        _task_later("billing.tasks.charges_issue_pending_task")
    return issued


def _email_later(kind: str, invoice: Invoice) -> None:
    _task_later("billing.tasks.invoice_email_task", kind, str(invoice.pk))


def _task_later(name: str, *args) -> None:
    """Queue a task once the current transaction commits (never failing the
    request while Redis is down: plugmessage.broker)."""
    task_after_commit("billing task", name, *args)


def invoice_received_cents(invoice: Invoice) -> int:
    """What was received towards the invoice's total: every payment, less
    the part that paid a 2ª via's fine and interest."""
    return sum(
        amount - fees
        for amount, fees in Payment.objects.filter(invoice=invoice).values_list(
            "amount_cents", "fees_cents"
        )
    )


def invoice_outstanding_cents(invoice: Invoice) -> int:
    """What is still to be paid of the invoice's total."""
    return max(0, invoice.total_cents - invoice_received_cents(invoice))


def late_charges(invoice: Invoice, today: date, plan: Plan) -> tuple[int, int]:
    """Fine and interest of an overdue invoice, on what is still to be paid
    of it (after a partial payment, only the rest): the fine once, interest
    per day late at the monthly rate ÷ 30 (pro rata die), both rounded half
    up."""
    days_late = max(0, (today - invoice.due_date).days)
    return late_charges_on(invoice_outstanding_cents(invoice), days_late, plan)


def late_charges_on(balance_cents: int, days_late: int, plan: Plan) -> tuple[int, int]:
    """The plan's fine and interest on an amount `days_late` days after its
    due date (the boleto's instructions quote them for one day)."""
    fine = (2 * balance_cents * plan.fine_basis_points + 10_000) // 20_000
    interest = (
        2 * balance_cents * plan.monthly_interest_basis_points * days_late + 300_000
    ) // 600_000
    return fine, interest


@dataclass(frozen=True)
class ReissueQuote:
    """What a 2ª via would charge today: the outstanding balance, with fine
    and interest on it, due in REISSUE_DAYS_TO_PAY days."""

    balance_cents: int
    fine_cents: int
    interest_cents: int
    due_date: date

    @property
    def total_cents(self) -> int:
        return self.balance_cents + self.fine_cents + self.interest_cents


def invoice_reissue_quote(*, invoice: Invoice, today: date) -> ReissueQuote:
    fine, interest = late_charges(invoice, today, plan_current())
    return ReissueQuote(
        balance_cents=invoice_outstanding_cents(invoice),
        fine_cents=fine,
        interest_cents=interest,
        due_date=today + timedelta(days=REISSUE_DAYS_TO_PAY),
    )


def invoice_reissue(
    *,
    invoice: Invoice,
    today: date | None = None,
    actor: User | None = None,
    reason: str = "",
) -> Charge:
    """ "Gerar 2ª via" of an overdue invoice: a new boleto due in 3 days, with
    the fine and the interest added; the old one is cancelled here and, after
    commit, at the provider. Staff (actor) must give a reason, which is audited.
    Raises BillingError when the invoice is not open and overdue."""
    today = today or dates.today()
    active = invoice.charges.filter(status=ChargeStatus.ACTIVE).first()
    due = active.due_date if active else invoice.due_date
    if invoice.status != InvoiceStatus.OPEN or due >= today:
        raise BillingError(_("Só uma fatura em aberto e vencida tem 2ª via."))
    if actor is not None and actor.is_staff and not reason.strip():
        raise BillingError(_("Informe o motivo."))
    fine, interest = late_charges(invoice, today, plan_current())

    def recorded(charge: Charge, replaced: Charge | None) -> None:
        Invoice.objects.filter(pk=invoice.pk).update(
            reminded_at=None, overdue_notified_at=None
        )
        if actor is not None and actor.is_staff:
            audit_record_create(
                actor=actor,
                customer=invoice.account,
                action="invoice_reissue",
                target=f"{_('Fatura')} {invoice.number}",
                before={
                    "linha_digitavel": replaced.linha_digitavel if replaced else ""
                },
                after={
                    "linha_digitavel": charge.linha_digitavel,
                    "due_date": charge.due_date.isoformat(),
                    "amount_cents": charge.amount_cents,
                },
                reason=reason,
            )

    # The old boleto stays payable until the new one is recorded; then it is
    # cancelled in the same transaction and, after commit, at the provider.
    charge = charge_issue(
        invoice=invoice,
        due_date=today + timedelta(days=REISSUE_DAYS_TO_PAY),
        fine_cents=fine,
        interest_cents=interest,
        reissue=True,
        on_recorded=recorded,
    )
    if charge is None:
        raise BillingError(_("Esta fatura não está mais em aberto."))
    return charge


def _invoice_paid(invoice: Invoice, payment: Payment) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(
        status=InvoiceStatus.PAID, paid_at=timezone.now()
    )
    invoice.status = InvoiceStatus.PAID
    _email_later("payment_received", invoice)


def payment_record(*, notice: PaymentNotice, provider_name: str) -> Payment:
    """Record money the provider reports for one of our charges. Idempotent:
    the same notification twice (or at the same moment) records one payment.

    Under the invoice's lock: the part of the amount that pays the charge's
    fine and interest is set apart, the rest counts towards the invoice's
    total. A boleto is paid once: the charge is done, and every other boleto
    of the invoice is cancelled here and, after commit, at the provider. The
    invoice is paid once what was received covers its total; money beyond it
    becomes the customer's credit (applied to the next invoice); a rest
    smaller than a boleto can carry goes on the next invoice. Money for a
    cancelled boleto or a paid invoice is recorded all the same (it was
    received) and becomes credit. Raises PaymentUnknown for a charge this
    system never issued."""
    existing = Payment.objects.filter(
        provider=provider_name, provider_payment_ref=notice.notice_ref
    ).first()
    if existing is not None:
        return existing
    charge = Charge.objects.filter(
        provider=provider_name, provider_ref=notice.charge_ref
    ).first()
    if charge is None:
        raise PaymentUnknown(notice.charge_ref)
    try:
        with transaction.atomic():
            invoice = lock_one(Invoice, pk=charge.invoice_id)
            received_before = invoice_received_cents(invoice)
            fees_due = (
                charge.fine_cents
                + charge.interest_cents
                - sum(
                    Payment.objects.filter(charge=charge).values_list(
                        "fees_cents", flat=True
                    )
                )
            )
            payment = Payment.objects.create(
                invoice=invoice,
                charge=charge,
                paid_on=notice.paid_on,
                amount_cents=notice.amount_cents,
                # The fees the charge carries, or those the provider added
                # itself for paying late, whichever is more: never principal.
                fees_cents=min(
                    notice.amount_cents, max(0, fees_due, notice.fees_cents)
                ),
                method=notice.method
                if notice.method in PaymentMethod.values
                else PaymentMethod.BOLETO,
                provider=provider_name,
                provider_payment_ref=notice.notice_ref,
            )
            Charge.objects.filter(pk=charge.pk).update(status=ChargeStatus.PAID)
            for other in invoice.charges.filter(
                status__in=[ChargeStatus.ACTIVE, ChargeStatus.PENDING]
            ).exclude(pk=charge.pk):
                _charge_cancel(other)
            _payment_settle(invoice, payment, received_before)
    except IntegrityError:  # the same notification, recorded at the same moment
        return Payment.objects.get(
            provider=provider_name, provider_payment_ref=notice.notice_ref
        )
    return payment


def _payment_settle(invoice: Invoice, payment: Payment, received_before: int) -> None:
    """With the invoice locked and `payment` just written: mark the invoice
    paid when covered, credit what goes beyond its total, carry a rest too
    small for a boleto."""
    received = received_before + payment.principal_cents
    total = invoice.total_cents
    beyond = max(0, received - total) - max(0, received_before - total)
    if invoice.status == InvoiceStatus.CARRIED:
        # Its rest is already on the account's balance, for the next invoice.
        beyond = payment.principal_cents
    if beyond > 0:
        BalanceEntry.objects.create(
            account_id=invoice.account_id,
            kind=BalanceEntryKind.OVERPAID,
            amount_cents=-beyond,
            invoice=invoice,
            payment=payment,
        )
        logger.warning("invoice %s received %s beyond its total", invoice.pk, beyond)
    if invoice.status != InvoiceStatus.OPEN:
        return
    rest = total - received
    if rest <= 0:
        _invoice_paid(invoice, payment)
    elif rest < settings.BILLING_MIN_CHARGE_CENTS:
        _invoice_carry(invoice, rest)
    else:
        logger.warning(
            "partial payment of invoice %s: %s of %s", invoice.pk, received, total
        )


def _invoice_carry(invoice: Invoice, amount: int) -> None:
    """Set aside an open invoice whose rest is below what a boleto can carry:
    the rest goes on the next month's invoice, no boleto is issued for it."""
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.CARRIED)
    invoice.status = InvoiceStatus.CARRIED
    for live in invoice.charges.filter(
        status__in=[ChargeStatus.ACTIVE, ChargeStatus.PENDING]
    ):
        _charge_cancel(live)
    if amount > 0:
        BalanceEntry.objects.create(
            account_id=invoice.account_id,
            kind=BalanceEntryKind.CARRIED,
            amount_cents=amount,
            invoice=invoice,
        )


def invoice_mark_paid(
    *, invoice: Invoice, actor: User, reason: str, paid_on: date | None = None
) -> Payment:
    """Staff record a payment received outside the provider ("Marcar como
    pago"): a manual payment of the outstanding balance (the total less
    what was already received: after a partial payment, only the rest) and
    an audit record, then the active boleto cancelled at the provider so it
    cannot be paid twice.
    Raises BillingError for an invoice that is not open (checked under lock,
    so a notification arriving at the same moment wins cleanly) or an empty
    reason."""
    if not reason.strip():
        raise BillingError(_("Informe o motivo."))
    with transaction.atomic():
        invoice = lock_one(Invoice, pk=invoice.pk)
        if invoice.status != InvoiceStatus.OPEN:
            raise BillingError(_("Esta fatura não está em aberto."))
        for live in invoice.charges.filter(
            status__in=[ChargeStatus.ACTIVE, ChargeStatus.PENDING]
        ):
            _charge_cancel(live)
        payment = Payment.objects.create(
            invoice=invoice,
            paid_on=paid_on or dates.today(),
            amount_cents=invoice_outstanding_cents(invoice),
            method=PaymentMethod.MANUAL,
            recorded_by=actor,
        )
        _invoice_paid(invoice, payment)
        audit_record_create(
            actor=actor,
            customer=invoice.account,
            action="invoice_mark_paid",
            target=f"{_('Fatura')} {invoice.number}",
            before={"status": InvoiceStatus.OPEN},
            after={"status": InvoiceStatus.PAID, "amount_cents": payment.amount_cents},
            reason=reason,
        )
    return payment


def _provider_cancel_quietly(provider_ref: str) -> None:
    """Cancel a charge at the provider once the change that replaced it is
    committed. A failure is logged: should the old boleto still be paid, the
    payment is recorded all the same (payments find their charge by id)."""
    try:
        provider_get().charge_cancel(provider_ref)
    except ProviderError:
        logger.warning("could not cancel charge %s at the provider", provider_ref)


REMIND_DAYS_BEFORE = 3


def invoices_remind(*, today: date | None = None) -> int:
    """Beat, daily: email "vence em 3 dias" and "venceu" once per invoice.
    Returns how many emails were queued."""
    today = today or dates.today()
    queued = 0
    # The due date is the active boleto's: a 2ª via moves it.
    due_soon = Invoice.objects.filter(
        status=InvoiceStatus.OPEN,
        reminded_at__isnull=True,
        charges__status=ChargeStatus.ACTIVE,
        charges__due_date__gt=today,
        charges__due_date__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
    )
    for invoice in due_soon:
        with transaction.atomic():
            if Invoice.objects.filter(pk=invoice.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            ):
                _email_later("invoice_due_soon", invoice)
                queued += 1
    overdue = Invoice.objects.filter(
        status=InvoiceStatus.OPEN,
        overdue_notified_at__isnull=True,
        charges__status=ChargeStatus.ACTIVE,
        charges__due_date__lt=today,
    )
    for invoice in overdue:
        with transaction.atomic():
            if Invoice.objects.filter(
                pk=invoice.pk, overdue_notified_at__isnull=True
            ).update(overdue_notified_at=timezone.now()):
                _email_later("invoice_overdue", invoice)
                queued += 1
    return queued
