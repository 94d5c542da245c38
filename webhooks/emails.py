"""Emails of the webhooks app, one function per kind."""

from django.conf import settings
from django.urls import reverse

from plugmessage.emails import email_send
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
    email_send("webhook_disabled", context, to=[instance.owner.email])
