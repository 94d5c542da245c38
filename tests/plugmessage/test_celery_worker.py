"""A real `celery worker` process (on Redis when REDIS_URL is set, else the
filesystem broker) runs a task that writes a row the test can see."""

import uuid

import pytest
from django.conf import settings

from plugmessage.models import Heartbeat
from plugmessage.tasks import heartbeat_record_task
from tests.helpers import celery_worker_start, celery_worker_stop, wait_for


@pytest.fixture
def worker(transactional_db, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    process = celery_worker_start(queue, log)
    yield queue
    celery_worker_stop(process, log)


def test_a_real_worker_runs_a_task_that_writes_a_row(worker):
    name = f"worker-{worker}"
    heartbeat_record_task.apply_async(args=[name], queue=worker)

    row = wait_for(
        lambda: Heartbeat.objects.filter(name=name).first(),
        timeout=60,
        what="the worker to write the heartbeat row",
    )
    assert row.beat_at is not None
    expected = "redis" if settings.REDIS_URL else "filesystem"
    assert settings.CELERY_BROKER_URL.startswith(expected)
