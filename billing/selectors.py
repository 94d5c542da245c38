"""Queries of the billing pages."""

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from billing.models import Charge, ChargeStatus, Invoice, InvoiceStatus, Payment


def billing_profile_for(user: User):
    return getattr(user, "billing_profile", None) if user.pk else None


def invoices_open_for_user(user: User) -> QuerySet[Invoice]:
    """Open invoices, oldest due first, each with its active charge."""
    return (
        Invoice.objects.filter(account=user, status=InvoiceStatus.OPEN)
        .prefetch_related(
            Prefetch(
                "charges",
                queryset=Charge.objects.filter(status=ChargeStatus.ACTIVE),
                to_attr="active_charges",
            ),
            "lines",
            "payments",
        )
        .order_by("due_date")
    )


def payments_for_user(user: User) -> QuerySet[Payment]:
    return Payment.objects.filter(invoice__account=user).select_related("invoice")


def invoice_for_user(user: User, invoice_id) -> Invoice | None:
    return (
        Invoice.objects.filter(account=user, pk=invoice_id)
        .prefetch_related("lines")
        .first()
    )


def charge_active(invoice: Invoice) -> Charge | None:
    return invoice.charges.filter(status=ChargeStatus.ACTIVE).first()


def charge_to_show(invoice: Invoice) -> Charge | None:
    """The boleto an invoice page shows: the active one, else the last the
    provider issued (a pending one has no boleto yet)."""
    return (
        charge_active(invoice)
        or invoice.charges.exclude(status=ChargeStatus.PENDING)
        .order_by("-created_at")
        .first()
    )
