"""Emails of the instances app, one function per kind."""

from django.conf import settings
from django.urls import reverse

from instances.models import Instance
from plugmessage.emails import email_send


def trial_expired_send(*, instance_id: str) -> None:
    """Tell the owner that an instance's trial ended and how to go on."""
    instance = Instance.objects.select_related("owner").filter(pk=instance_id).first()
    if instance is None or instance.subscribed_since is not None:
        return  # deleted or subscribed since: nothing to say
    context = {
        "instance": instance,
        "subscribe_url": settings.SITE_URL
        + reverse("billing:subscribe", args=[instance.pk]),
    }
    email_send("trial_expired", context, to=[instance.owner.email])
