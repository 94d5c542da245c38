from celery import shared_task

from privacy import services


@shared_task(ignore_result=True)
def retention_sweep_task() -> None:
    """Beat, every few minutes: delete what is past its retention period, a
    bounded amount a run (the rest goes next run). Idempotent."""
    services.retention_sweep()
    services.contact_erasures_resume()


@shared_task(ignore_result=True, acks_late=True)
def contact_erasure_run_task(erasure_id: int) -> None:
    """Erase one contact's data as requested; idempotent."""
    services.contact_erasure_run(erasure_id=erasure_id)
