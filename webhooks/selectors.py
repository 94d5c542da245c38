from datetime import timedelta

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_for_instance(instance) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(instance=instance))


def deliveries_retention_days() -> int:
    """How many days of deliveries the log holds (0: all of them)."""
    return settings.RETENTION_DELIVERIES_DAYS


def deliveries_for_instance(instance, *, kind: str = "", status: str = "") -> QuerySet:
    """The instance's deliveries of the retention period (those the sweep
    has not reached yet are left out too), newest first, with what the log
    shows, in a constant number of queries."""
    deliveries = WebhookDelivery.objects.filter(endpoint__instance=instance)
    days = deliveries_retention_days()
    if days:
        deliveries = deliveries.filter(
            created_at__gte=timezone.now() - timedelta(days=days)
        )
    deliveries = (
        deliveries.select_related("event", "endpoint")
        .annotate(attempts_made=Count("attempts"))
        .order_by("-created_at", "-id")
    )
    if kind:
        deliveries = deliveries.filter(event__kind=kind)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_for_instance(instance, delivery_id) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(endpoint__instance=instance, pk=delivery_id)
        .select_related("event", "endpoint")
        .prefetch_related("attempts")
        .first()
    )


def test_delivery_for_instance(instance, delivery_id) -> WebhookDelivery | None:
    """A test delivery of the instance ("Enviar teste"), with its event;
    polled."""
    return (
        WebhookDelivery.objects.filter(
            endpoint__instance=instance, pk=delivery_id, is_test=True
        )
        .select_related("event")
        .first()
    )


def test_attempt(delivery: WebhookDelivery):
    return delivery.attempts.order_by("-id").first()


def endpoint_for_instance(instance, *, kind: str | None = None, pk: int | None = None):
    """One of the instance's endpoints, by kind (only if it has a URL) or by id."""
    endpoints = WebhookEndpoint.objects.filter(instance=instance)
    if kind is not None:
        return endpoints.filter(kind=kind).exclude(url="").first()
    return endpoints.filter(pk=pk).first()
