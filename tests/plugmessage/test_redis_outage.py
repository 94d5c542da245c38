"""A Celery worker outlives Redis outages: a real worker (prefork, two
processes, as in production) on a Redis of this test's own is left without
its broker while it holds unacked messages (tasks with an ETA), twice, and
runs the next task once Redis is back. kombu 5.7.0 made it stop with
"Unrecoverable error: AttributeError(... 'hostname')" at the first outage
(see plugmessage.celery)."""

import shutil
import time
import uuid

import pytest
from celery import current_app
from kombu import Connection

from plugmessage.models import Heartbeat
from tests.helpers import (
    bench_module,
    celery_worker_start,
    celery_worker_stop,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_SERVER = shutil.which("redis-server")
OUTAGES = 2
OUTAGE_SECONDS = 3


@pytest.fixture
def private_redis(tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("needs redis-server (installed where .ci/run runs)")
    server = bench_module("faults").Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def _publish(url: str, queue: str, name: str, countdown: int | None = None) -> None:
    with Connection(url) as connection:
        current_app.send_task(
            "plugmessage.tasks.heartbeat_record_task",
            args=[name],
            queue=queue,
            countdown=countdown,
            connection=connection,
        )


def test_the_worker_runs_tasks_again_after_redis_comes_back(private_redis, tmp_path):
    queue = f"test-outage-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    worker = celery_worker_start(
        queue,
        log,
        env={"REDIS_URL": private_redis.url},
        options=("--concurrency", "2", "--loglevel", "WARNING"),
    )
    try:
        for outage in range(OUTAGES):
            # Held by the worker, unacked, when the broker goes away.
            for _ in range(3):
                _publish(private_redis.url, queue, f"later-{outage}", countdown=60)
            _publish(private_redis.url, queue, f"before-{outage}")
            wait_for(
                lambda n=outage: Heartbeat.objects.filter(name=f"before-{n}").exists(),
                timeout=30,
                what="the worker to run a task",
            )

            private_redis.stop()
            time.sleep(OUTAGE_SECONDS)
            assert worker.poll() is None, log.read_text()
            private_redis.start()

            _publish(private_redis.url, queue, f"after-{outage}")
            wait_for(
                lambda n=outage: Heartbeat.objects.filter(name=f"after-{n}").exists(),
                timeout=60,
                what="the worker to run a task after Redis came back",
            )
            assert worker.poll() is None, log.read_text()
        assert "Unrecoverable error" not in log.read_text()
    finally:
        celery_worker_stop(worker, log)
