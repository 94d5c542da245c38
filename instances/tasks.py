from celery import shared_task

from instances import emails, health, inbox, logouts, messaging, services
from instances.engines.base import EngineUnavailable


@shared_task(ignore_result=True)
def engine_tick_task() -> None:
    """Beat, every few seconds: the engine's periodic step and the sweep of
    instances left waiting. Idempotent."""
    services.engine_tick()


# Sends wait out an engine outage: retried with backoff, up to 8 times.
SEND_TASK_OPTIONS = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (EngineUnavailable,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@shared_task(**SEND_TASK_OPTIONS)
def message_send_task(message_id: str) -> None:
    """Hand one queued message to the engine; idempotent."""
    messaging.message_send(message_id=message_id)


@shared_task(**SEND_TASK_OPTIONS)
def messages_send_task(message_ids: list[str]) -> None:
    """Hand a batch of queued messages to the engine; idempotent."""
    messaging.messages_send(message_ids=message_ids)


@shared_task(ignore_result=True)
def messages_dispatch_task() -> None:
    """Queue the send tasks of the messages accepted since the last dispatch."""
    messaging.messages_dispatch()


@shared_task(ignore_result=True)
def messages_queued_sweep_task() -> None:
    messaging.messages_queued_sweep()


@shared_task(ignore_result=True)
def instances_trial_expire_task() -> None:
    """Beat, every minute: expire the instances whose trial ended."""
    services.instances_trial_expire()


@shared_task(ignore_result=True)
def instance_trial_expired_email_task(instance_id: str) -> None:
    emails.trial_expired_send(instance_id=instance_id)


@shared_task(ignore_result=True)
def engine_inbox_drain_task() -> None:
    """Beat: apply again what the engine posted and was not applied (a
    failure, a process that died). Idempotent."""
    inbox.inbox_drain()


@shared_task(ignore_result=True)
def engine_logouts_retry_task() -> None:
    """Beat: retry the engine logouts that failed. Idempotent."""
    logouts.logouts_retry()


@shared_task(ignore_result=True, acks_late=True)
def exclusion_import_run_task(import_id: int) -> None:
    """Import an uploaded CSV into the exclusion list, a bounded share a
    task; idempotent."""
    health.exclusion_import_run(import_id=import_id)


@shared_task(ignore_result=True)
def exclusion_imports_resume_task() -> None:
    """Beat, every minute: start again the imports whose task was lost."""
    health.exclusion_imports_resume()
