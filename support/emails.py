"""Emails of support: to the customer when the team replies or resolves, to
the support inbox when a ticket is opened or the customer answers."""

from django.conf import settings
from django.urls import reverse

from plugmessage.emails import email_send
from support.models import TicketMessage

TO_CUSTOMER = {"staff_reply", "resolved"}
KINDS = TO_CUSTOMER | {"opened", "customer_reply"}


def ticket_email_send(*, kind: str, message_id: int) -> None:
    message = (
        TicketMessage.objects.select_related("ticket__account", "ticket__instance")
        .filter(pk=message_id)
        .first()
    )
    if message is None or kind not in KINDS:
        return
    ticket = message.ticket
    context = {
        "kind": kind,
        "ticket": ticket,
        "message": message,
        "ticket_url": settings.SITE_URL + reverse("support:ticket", args=[ticket.pk]),
        "admin_url": settings.SITE_URL
        + reverse("admin:support_ticket_change", args=[ticket.pk]),
    }
    to_customer = kind in TO_CUSTOMER
    email_send(
        "ticket",
        context,
        to=[ticket.account.email] if to_customer else [settings.SUPPORT_EMAIL],
        reply_to=[settings.SUPPORT_EMAIL] if to_customer else [ticket.account.email],
    )
