"""Emails of the webhooks app, one function per kind."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from webhooks.models import WebhookEndpoint


def endpoint_disabled_send(*, endpoint_id: int) -> None:
    """Tell the owner that one of their webhook URLs was turned off, and why."""
    endpoint = WebhookEndpoint.objects.select_related("instance__owner").get(
        pk=endpoint_id
    )
    instance = endpoint.instance
    context = {
        "endpoint": endpoint,
        "instance": instance,
        "tab_url": settings.SITE_URL + reverse("webhooks:edit", args=[instance.pk]),
    }
    subject = render_to_string("emails/webhook_disabled_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject,
        render_to_string("emails/webhook_disabled_body.txt", context),
        to=[instance.owner.email],
    )
    message.attach_alternative(
        render_to_string("emails/webhook_disabled_body.html", context), "text/html"
    )
    message.send()
