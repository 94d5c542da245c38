from celery import shared_task

from webhooks import emails, services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def webhook_deliveries_drain_task() -> None:
    """Post the due deliveries. acks_late with reject_on_worker_lost: a drain
    whose process dies is queued again; the leases in the service keep two runs
    from both posting, and the beat sweeper covers a message lost anyway."""
    services.webhook_deliveries_drain()


@shared_task(ignore_result=True)
def webhook_deliveries_sweep_task() -> None:
    services.webhook_deliveries_sweep()
    services.webhook_tests_resume()


@shared_task(acks_late=True, ignore_result=True)
def webhook_test_send_task(delivery_id: int) -> None:
    """Post one "Enviar teste" delivery; idempotent."""
    services.webhook_test_send(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def webhook_endpoint_disabled_email_task(endpoint_id: int) -> None:
    emails.endpoint_disabled_send(endpoint_id=endpoint_id)
