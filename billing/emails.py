"""Emails of billing, one function per kind: invoice issued, due in 3 days,
overdue, payment received. Each goes to the invoice's billing email."""

from django.conf import settings
from django.urls import reverse

from billing.models import Charge, ChargeStatus, Invoice
from plugmessage.emails import email_send


def _send(name: str, invoice: Invoice) -> None:
    charge = (
        Charge.objects.filter(invoice=invoice, status=ChargeStatus.ACTIVE)
        .order_by("-created_at")
        .first()
    )
    context = {
        "invoice": invoice,
        "charge": charge,
        "invoices_url": settings.SITE_URL + reverse("billing:invoices"),
        "boleto_url": settings.SITE_URL + reverse("billing:boleto", args=[invoice.pk]),
    }
    email_send(name, context, to=[invoice.bill_to_email or invoice.account.email])


def invoice_issued_send(invoice: Invoice) -> None:
    _send("invoice_issued", invoice)


def invoice_due_soon_send(invoice: Invoice) -> None:
    if invoice.status == "open":
        _send("invoice_due_soon", invoice)


def invoice_overdue_send(invoice: Invoice) -> None:
    if invoice.status == "open":
        _send("invoice_overdue", invoice)


def payment_received_send(invoice: Invoice) -> None:
    _send("payment_received", invoice)


SENDERS = {
    "invoice_issued": invoice_issued_send,
    "invoice_due_soon": invoice_due_soon_send,
    "invoice_overdue": invoice_overdue_send,
    "payment_received": payment_received_send,
}


def invoice_email_send(*, kind: str, invoice_id: str) -> None:
    invoice = Invoice.objects.select_related("account").filter(pk=invoice_id).first()
    if invoice is not None:
        SENDERS[kind](invoice)
