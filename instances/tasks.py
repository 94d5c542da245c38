from celery import shared_task

from instances import services


@shared_task(ignore_result=True)
def engine_tick_task() -> None:
    """Beat, every few seconds: the engine's periodic step and the sweep of
    instances left waiting. Idempotent."""
    services.engine_tick()
