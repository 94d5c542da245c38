from celery import shared_task

from webhooks import emails, services


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliveries_drain_task() -> None:
    """Post the due deliveries. acks_late: a killed worker's message is
    redelivered; the leases in the service keep two runs from both posting."""
    services.webhook_deliveries_drain()


@shared_task(ignore_result=True)
def webhook_deliveries_sweep_task() -> None:
    services.webhook_deliveries_sweep()


@shared_task(ignore_result=True)
def webhook_endpoint_disabled_email_task(endpoint_id: int) -> None:
    emails.endpoint_disabled_send(endpoint_id=endpoint_id)
