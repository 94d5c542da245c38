"""What billing does when an instance is deleted."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from billing.models import SubscriptionPeriod
from instances.models import Instance


@receiver(pre_delete, sender=Instance, dispatch_uid="billing_periods_close")
def _periods_close(sender, instance: Instance, **kwargs) -> None:
    """A deleted instance is billed no more: a period still open (a
    subscription begun at the moment of the deletion) ends now, and keeps
    the instance's name for the invoice. The caller holds the instance's row
    lock (instances.services.instance_delete), so a subscription being made
    has committed its period before this reads it."""
    SubscriptionPeriod.objects.filter(
        instance_uuid=instance.pk, ended_at__isnull=True
    ).update(ended_at=timezone.now(), instance_name=instance.name)
