"""The Celery application: Redis in CI and production, kombu's filesystem
transport under ``var/`` for ``make run`` (no Redis needed)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plugmessage.settings")

app = Celery("plugmessage", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_tidy(**kwargs) -> None:
    """Around every task, what Django does around every request: close the
    connections that are unusable (PostgreSQL restarted) or older than
    CONN_MAX_AGE, and keep the rest (CELERY_DB_REUSE_MAX keeps Celery's own
    fixup from closing them all)."""
    from django.db import close_old_connections

    close_old_connections()
