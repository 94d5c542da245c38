from celery import shared_task

from privacy import services


@shared_task(ignore_result=True)
def retention_sweep_task() -> None:
    """Beat, every few minutes: delete what is past its retention period, a
    bounded amount a run (the rest goes next run). Idempotent."""
    services.retention_sweep()
