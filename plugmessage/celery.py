"""The Celery application: Redis in CI and production, kombu's filesystem
transport under ``var/`` for ``make run`` (no Redis needed)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plugmessage.settings")

app = Celery("plugmessage", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
