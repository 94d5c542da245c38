"""Billing in the Django admin: read-only for support, with two audited
actions on invoices ("Marcar como pago", "Gerar 2ª via") that ask for a
reason. Only superusers change the plan's price."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_actions import reason_action
from billing import services
from billing.models import (
    BalanceEntry,
    BillingProfile,
    Charge,
    Invoice,
    InvoiceLine,
    Payment,
    Plan,
    SubscriptionPeriod,
)
from billing.providers.base import ProviderError
from billing.templatetags.billing_tags import brl
from plugmessage.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class PlanAdminForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Motivo da alteração"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Obrigatório ao mudar o preço; fica no registro de auditoria, com quem "
            "fez e quando."
        ),
    )

    class Meta:
        model = Plan
        fields = [
            "name",
            "monthly_price_cents",
            "fine_basis_points",
            "monthly_interest_basis_points",
            "due_day",
            "is_current",
        ]

    def clean(self):
        cleaned = super().clean()
        if (
            self.instance.pk
            and "monthly_price_cents" in self.changed_data
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error(
                "reason",
                _("Informe o motivo: toda mudança de preço fica registrada."),
            )
        return cleaned


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "due_day", "is_current", "updated_at")
    form = PlanAdminForm

    def save_model(self, request, obj, form, change) -> None:
        """A price change goes through the audited service; the other
        fields are saved as they are. The admin's change view runs this in
        one transaction, so the plan and its audit record commit together."""
        if not change or "monthly_price_cents" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        new_price = obj.monthly_price_cents
        obj.monthly_price_cents = form.initial["monthly_price_cents"]
        super().save_model(request, obj, form, change)
        changed = services.plan_price_set(
            plan=obj,
            monthly_price_cents=new_price,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        obj.monthly_price_cents = changed.monthly_price_cents

    @admin.display(description=_("preço mensal"))
    def price(self, plan: Plan) -> str:
        return brl(plan.monthly_price_cents)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(BillingProfile)
class BillingProfileAdmin(ReadOnlyAdmin):
    list_display = ("name", "document", "email", "city", "state", "account")
    search_fields = ("name", "document", "email", "account__email")
    list_select_related = ("account",)


@admin.register(SubscriptionPeriod)
class SubscriptionPeriodAdmin(ReadOnlyAdmin):
    list_display = ("instance_name", "account", "started_at", "ended_at")
    list_filter = ("ended_at",)
    search_fields = ("instance_name", "account__email", "instance_uuid")
    list_select_related = ("account",)


class InvoiceLineInline(ReadOnlyTabularInline):
    model = InvoiceLine
    fields = (
        "instance_name",
        "days",
        "days_in_month",
        "unit_price_cents",
        "amount_cents",
    )
    readonly_fields = fields


class ChargeInline(ReadOnlyTabularInline):
    model = Charge
    fields = (
        "status",
        "due_date",
        "amount_cents",
        "linha_digitavel",
        "is_reissue",
        "created_at",
    )
    readonly_fields = fields


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = (
        "paid_on",
        "amount_cents",
        "method",
        "provider_payment_ref",
        "recorded_by",
    )
    readonly_fields = fields


class BalanceEntryInline(ReadOnlyTabularInline):
    model = BalanceEntry
    fk_name = "invoice"
    fields = ("created_at", "kind", "amount_cents", "payment")
    readonly_fields = fields
    verbose_name_plural = _("saldo do cliente: lançamentos desta fatura")


@admin.register(BalanceEntry)
class BalanceEntryAdmin(ReadOnlyAdmin):
    """The customers' balances with us, entry by entry: credits from money
    received beyond an invoice's total (negative), amounts too small for a
    boleto carried to the next month (positive), and their use."""

    list_display = ("created_at", "account", "kind", "amount", "invoice")
    list_filter = ("kind",)
    search_fields = ("account__email",)
    list_select_related = ("account", "invoice")

    @admin.display(description=_("valor"))
    def amount(self, entry: BalanceEntry) -> str:
        return brl(entry.amount_cents)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "account",
        "period",
        "total",
        "status",
        "due_date",
        "paid_at",
    )
    list_filter = ("status", "period")
    search_fields = ("account__email", "bill_to_name", "bill_to_document")
    date_hierarchy = "period"
    list_select_related = ("account",)
    inlines = [InvoiceLineInline, ChargeInline, PaymentInline, BalanceEntryInline]
    readonly_fields = ("account_balance",)

    @admin.display(description=_("saldo do cliente hoje"))
    def account_balance(self, invoice: Invoice) -> str:
        balance = services.account_balance_cents(invoice.account)
        if balance < 0:
            return _("crédito de %(amount)s") % {"amount": brl(-balance)}
        if balance > 0:
            return _("%(amount)s a cobrar na próxima fatura") % {"amount": brl(balance)}
        return _("nenhum")

    actions = ["mark_paid", "reissue"]

    @admin.display(description=_("total"))
    def total(self, invoice: Invoice) -> str:
        return brl(invoice.total_cents)

    def has_mark_paid_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.mark_invoice_paid")

    def has_reissue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.reissue_invoice")

    @admin.action(
        description=_("Marcar como pago (com motivo, auditado)"),
        permissions=["mark_paid"],
    )
    def mark_paid(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="mark_paid",
            title=_("Marcar como paga"),
            summary=_summary,
            explain=_(
                "Registra um pagamento manual do valor em aberto e cancela o boleto "
                "ativo, para que não seja pago duas vezes."
            ),
            run=lambda invoice, data: services.invoice_mark_paid(
                invoice=invoice, actor=request.user, reason=data["reason"]
            ),
            done=_("Fatura marcada como paga e registrada na auditoria."),
            errors=(services.BillingError, ProviderError),
        )

    @admin.action(
        description=_("Gerar 2ª via (com motivo, auditado)"), permissions=["reissue"]
    )
    def reissue(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="reissue",
            title=_("Gerar 2ª via"),
            summary=_summary,
            explain=_(
                "Cancela o boleto vencido e emite outro, com vencimento em 3 dias, "
                "multa e juros conforme o plano."
            ),
            run=lambda invoice, data: services.invoice_reissue(
                invoice=invoice, actor=request.user, reason=data["reason"]
            ),
            done=_("2ª via gerada e registrada na auditoria."),
            errors=(services.BillingError, ProviderError),
        )


def _summary(invoice: Invoice) -> str:
    return _("Fatura de %(month)s de %(email)s: %(total)s.") % {
        "month": f"{invoice.period:%m/%Y}",
        "email": invoice.account.email,
        "total": brl(invoice.total_cents),
    }
