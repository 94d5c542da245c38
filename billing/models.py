"""Billing: the plan's price, the customer's billing data, subscription
periods per instance, postpaid monthly invoices with their lines, the charges
(boleto and PIX) issued for them and the payments received. Money is integer
centavos everywhere; days are counted in America/Sao_Paulo."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import dates
from billing.documents import document_format


class Plan(models.Model):
    """The price of one subscribed instance per month, and what an overdue
    invoice's 2ª via adds. Edited in the admin by superusers only."""

    name = models.CharField(_("nome"), max_length=60)
    monthly_price_cents = models.PositiveIntegerField(
        _("preço mensal por instância (centavos)"),
        help_text=_(
            "Vale para as faturas emitidas depois da mudança, inclusive a do mês em "
            "curso; faturas já emitidas não mudam."
        ),
    )
    fine_basis_points = models.PositiveIntegerField(
        _("multa por atraso (centésimos de %)"), default=200
    )
    monthly_interest_basis_points = models.PositiveIntegerField(
        _("juros ao mês (centésimos de %)"), default=100
    )
    due_day = models.PositiveSmallIntegerField(
        _("dia do vencimento"),
        default=10,
        help_text=_("Dia do mês da emissão em que a fatura vence (1 a 28)."),
    )
    is_current = models.BooleanField(_("plano vigente"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plano")
        verbose_name_plural = _("planos")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="billing_one_current_plan",
            ),
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=28),
                name="billing_plan_due_day_in_every_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BillingProfile(models.Model):
    """The customer's "Dados de cobrança": asked once, used on every invoice
    (each invoice keeps a copy of what it was issued to)."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="billing_profile",
    )
    name = models.CharField(_("nome ou razão social"), max_length=120)
    document = models.CharField(_("CPF ou CNPJ"), max_length=14)  # digits only
    email = models.EmailField(_("e-mail para faturas"))
    postal_code = models.CharField(_("CEP"), max_length=8)
    street = models.CharField(_("logradouro"), max_length=120)
    number = models.CharField(_("número"), max_length=20)
    complement = models.CharField(_("complemento"), max_length=60, blank=True)
    district = models.CharField(_("bairro"), max_length=60)
    city = models.CharField(_("cidade"), max_length=60)
    state = models.CharField(_("UF"), max_length=2)
    provider_customer_ref = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dados de cobrança")
        verbose_name_plural = _("dados de cobrança")

    def __str__(self) -> str:
        return self.name

    @property
    def document_formatted(self) -> str:
        return document_format(self.document)

    @property
    def address(self) -> str:
        complement = f", {self.complement}" if self.complement else ""
        cep = f"{self.postal_code[:5]}-{self.postal_code[5:]}"
        return (
            f"{self.street}, {self.number}{complement} – {self.district}, "
            f"{self.city}/{self.state} – CEP {cep}"
        )


class SubscriptionPeriod(models.Model):
    """One stretch during which an instance was subscribed: a re-subscription
    is a new period. Kept when the instance is deleted (its days were used)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="subscription_periods",
    )
    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instância"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="subscription_periods",
    )
    instance_uuid = models.UUIDField(_("ID da instância"))
    instance_name = models.CharField(_("nome da instância"), max_length=60)
    started_at = models.DateTimeField(_("início"), default=timezone.now)
    ended_at = models.DateTimeField(_("fim"), null=True, blank=True)

    class Meta:
        verbose_name = _("período de assinatura")
        verbose_name_plural = _("períodos de assinatura")
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_uuid"],
                condition=Q(ended_at__isnull=True),
                name="billing_one_open_period_per_instance",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="billing_period_ends_after_it_starts",
            ),
        ]
        indexes = [models.Index(fields=["started_at", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.instance_name}: {self.started_at:%d/%m/%Y}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Em aberto")
    PAID = "paid", _("Paga")
    CANCELLED = "cancelled", _("Cancelada")
    # Below what a boleto can carry: not charged, its total goes on the next
    # month's invoice.
    CARRIED = "carried", _("Passou para o mês seguinte")


class Invoice(models.Model):
    """One account's bill for one month's use (postpaid), issued on the 1st
    of the next month. At most one per account and period."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    period = models.DateField(_("mês de uso"))  # its first day
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.OPEN,
    )
    total_cents = models.PositiveBigIntegerField(_("total (centavos)"))
    # The account's balance brought into this invoice: what earlier months
    # carried (positive) or a credit from money paid beyond an earlier total
    # (negative). The total is the lines plus this.
    balance_applied_cents = models.BigIntegerField(
        _("saldo anterior aplicado (centavos)"), default=0
    )
    issued_at = models.DateTimeField(_("emitida em"), default=timezone.now)
    due_date = models.DateField(_("vencimento"))
    paid_at = models.DateTimeField(_("paga em"), null=True, blank=True)
    # Who it was issued to, as it was then.
    bill_to_name = models.CharField(max_length=120, blank=True)
    bill_to_document = models.CharField(max_length=14, blank=True)
    bill_to_email = models.EmailField(blank=True)
    bill_to_address = models.CharField(max_length=500, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the provider last refused its charge: refused invoices wait at the
    # back of the queue instead of blocking the others.
    charge_refused_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("fatura")
        verbose_name_plural = _("faturas")
        ordering = ["-period", "-issued_at"]
        permissions = [
            ("mark_invoice_paid", _("Pode marcar uma fatura como paga (auditado)")),
            ("reissue_invoice", _("Pode gerar a 2ª via de uma fatura (auditado)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period"], name="billing_one_invoice_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period__day=1), name="billing_period_is_a_month"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.account} – {self.period:%m/%Y}"

    @property
    def number(self) -> str:
        return f"{self.period:%Y%m}-{str(self.pk)[:8].upper()}"

    @property
    def received_cents(self) -> int:
        """What was paid towards the total so far, fines and interest of a
        2ª via left out (uses prefetched payments when there are)."""
        return sum(payment.principal_cents for payment in self.payments.all())

    @property
    def lines_total_cents(self) -> int:
        return self.total_cents - self.balance_applied_cents

    @property
    def balance_cents(self) -> int:
        """What is still to be paid of the total."""
        return max(0, self.total_cents - self.received_cents)

    @property
    def is_overdue(self) -> bool:
        """Open and past the due date of its active boleto (a 2ª via moves it)."""
        if self.status != InvoiceStatus.OPEN:
            return False
        active = self.charges.filter(status=ChargeStatus.ACTIVE).first()
        return (active.due_date if active else self.due_date) < dates.today()


class InvoiceLine(models.Model):
    """One instance's use in the invoice's month: days subscribed out of the
    month's days times the monthly price, rounded half up to the centavo."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    instance_uuid = models.UUIDField(_("ID da instância"))
    instance_name = models.CharField(_("instância"), max_length=60)
    days = models.PositiveSmallIntegerField(_("dias assinados"))
    days_in_month = models.PositiveSmallIntegerField(_("dias no mês"))
    unit_price_cents = models.PositiveIntegerField(_("preço mensal (centavos)"))
    amount_cents = models.PositiveIntegerField(_("valor (centavos)"))

    class Meta:
        verbose_name = _("linha da fatura")
        verbose_name_plural = _("linhas da fatura")
        ordering = ["instance_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gte=1, days__lte=F("days_in_month")),
                name="billing_line_days_within_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instance_name}: {self.days}/{self.days_in_month}"


class ChargeStatus(models.TextChoices):
    # Recorded before the provider is asked: the reference is kept whatever
    # happens next, so a retry finds the provider's charge instead of making
    # another one.
    PENDING = "pending", _("Em emissão")
    ACTIVE = "active", _("Ativa")
    PAID = "paid", _("Paga")
    CANCELLED = "cancelled", _("Cancelada")


class Charge(models.Model):
    """A boleto and a PIX charge issued for an invoice through the payment
    provider. The row is written (pending) before the provider is asked, with
    the reference the provider keeps; the provider's answer fills it in. A 2ª
    via replaces the active one with another, with a new due date and the
    fine and interest added."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="charges"
    )
    provider = models.CharField(_("provedor"), max_length=20)
    # Our idempotency key: the PIX txid and Asaas's externalReference.
    reference = models.CharField(_("referência"), max_length=25, blank=True)
    provider_ref = models.CharField(
        _("referência no provedor"), max_length=80, blank=True
    )
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=ChargeStatus.choices,
        default=ChargeStatus.ACTIVE,
    )
    due_date = models.DateField(_("vencimento"))
    amount_cents = models.PositiveBigIntegerField(_("valor (centavos)"))
    fine_cents = models.PositiveIntegerField(_("multa (centavos)"), default=0)
    interest_cents = models.PositiveIntegerField(_("juros (centavos)"), default=0)
    barcode = models.CharField(_("código de barras"), max_length=44, blank=True)
    linha_digitavel = models.CharField(_("linha digitável"), max_length=47, blank=True)
    nosso_numero = models.CharField(_("nosso número"), max_length=20, blank=True)
    pix_payload = models.TextField(_("PIX copia e cola"), blank=True)
    is_reissue = models.BooleanField(_("2ª via"), default=False)
    created_at = models.DateTimeField(_("emitida em"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("cobrança (boleto e PIX)")
        verbose_name_plural = _("cobranças (boleto e PIX)")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="active"),
                name="billing_one_active_charge_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="pending"),
                name="billing_one_pending_charge_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="billing_charge_ref_unique",
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="billing_charge_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.linha_digitavel


class PaymentMethod(models.TextChoices):
    BOLETO = "boleto", _("Boleto")
    PIX = "pix", _("PIX")
    MANUAL = "manual", _("Baixa manual")


class Payment(models.Model):
    """Money received for an invoice. A provider's notification is recorded
    once however often it arrives (unique provider payment reference)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments"
    )
    charge = models.ForeignKey(Charge, on_delete=models.SET_NULL, null=True, blank=True)
    paid_on = models.DateField(_("pago em"))
    amount_cents = models.PositiveBigIntegerField(_("valor (centavos)"))
    # The part of the amount that paid a 2ª via's fine and interest; the rest
    # counts towards the invoice's total.
    fees_cents = models.PositiveBigIntegerField(
        _("multa e juros pagos (centavos)"), default=0
    )
    method = models.CharField(
        _("forma de pagamento"), max_length=10, choices=PaymentMethod.choices
    )
    provider = models.CharField(max_length=20, blank=True)
    provider_payment_ref = models.CharField(max_length=80, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("pagamento")
        verbose_name_plural = _("pagamentos")
        ordering = ["-paid_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_ref"],
                condition=~Q(provider_payment_ref=""),
                name="billing_payment_recorded_once",
            ),
            models.CheckConstraint(
                condition=Q(fees_cents__lte=F("amount_cents")),
                name="billing_payment_fees_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.amount_cents}"

    @property
    def principal_cents(self) -> int:
        return self.amount_cents - self.fees_cents


class BalanceEntryKind(models.TextChoices):
    OVERPAID = "overpaid", _("Pago a mais (crédito)")
    CARRIED = "carried", _("Abaixo do mínimo, para o mês seguinte")
    APPLIED = "applied", _("Aplicado na fatura")


class BalanceEntry(models.Model):
    """The account's running balance with us, entry by entry: positive is
    owed by the customer (a month too small to charge, carried), negative is
    in their favour (money received beyond an invoice's total). The next
    invoice takes the balance in (an "applied" entry that zeroes it, or what
    of a credit it used)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="balance_entries",
    )
    kind = models.CharField(_("tipo"), max_length=10, choices=BalanceEntryKind.choices)
    amount_cents = models.BigIntegerField(_("valor (centavos)"))
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("fatura"),
        on_delete=models.PROTECT,
        related_name="balance_entries",
    )
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("pagamento"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="balance_entry",
    )
    created_at = models.DateTimeField(_("quando"), default=timezone.now)

    class Meta:
        verbose_name = _("saldo do cliente (lançamento)")
        verbose_name_plural = _("saldo dos clientes (lançamentos)")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=~Q(kind="overpaid"),
                name="billing_balance_once_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_cents}"


class SimulatedProviderCharge(models.Model):
    """The built-in simulated provider's own book of the charges it issued:
    what a real provider keeps on its side (the reference it was given, the
    boleto and PIX, whether it was cancelled). Only that adapter uses it."""

    reference = models.CharField(max_length=25, db_index=True)
    provider_ref = models.CharField(max_length=80, unique=True)
    amount_cents = models.PositiveBigIntegerField()
    due_date = models.DateField()
    barcode = models.CharField(max_length=44)
    linha_digitavel = models.CharField(max_length=47)
    nosso_numero = models.CharField(max_length=20)
    pix_payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cobrança no provedor simulado")
        verbose_name_plural = _("cobranças no provedor simulado")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.provider_ref
