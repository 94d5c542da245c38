from celery import shared_task
from django.db.models.functions import Now

from plugmessage.models import Heartbeat


@shared_task
def heartbeat_record_task(name: str) -> None:
    """Record that a worker ran a task for `name` (beat sends one a minute).
    Idempotent: one row per name, its time moved forward."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": Now()})
