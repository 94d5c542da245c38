"""A real `celery worker` process (on Redis when REDIS_URL is set, else the
filesystem broker) runs a task that writes a row the test can see."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from plugmessage.models import Heartbeat
from plugmessage.tasks import heartbeat_record_task
from tests.helpers import database_url_for_subprocess, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "plugmessage",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "C_FORCE_ROOT": "1",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    if process.returncode not in (0, -15):
        print((tmp_path / "worker.log").read_text())


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
