"""At least once, for real: a Celery worker on Redis is killed with SIGKILL in
the middle of 200 deliveries and started again; with the beat sweeper's help
every event still reaches the receiver, counted by webhook-id."""

import contextlib
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
from celery import current_app
from django.db import transaction

from instances import services as instance_services
from tests.helpers import celery_worker_start, wait_for
from tests.receiver import Receiver
from webhooks import services
from webhooks.models import EventKind

EVENTS = 200

pytestmark = pytest.mark.django_db(transaction=True)


def _start_worker(queue: str, log: Path) -> subprocess.Popen:
    return celery_worker_start(
        queue,
        log,
        env={
            "WEBHOOKS_ALLOW_LOOPBACK": "1",
            "WEBHOOKS_LEASE_SECONDS": "10",  # a killed worker's leases run out fast
        },
        options=("--concurrency", "2", "--loglevel", "WARNING"),
        new_session=True,  # its own process group, children included
    )


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture
def queue():
    name = f"test-webhooks-{uuid.uuid4().hex[:10]}"
    previous = current_app.conf.task_default_queue
    current_app.conf.task_default_queue = name
    yield name
    current_app.conf.task_default_queue = previous


def test_every_event_arrives_although_the_worker_is_killed(
    owner, queue, tmp_path, settings
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: run with REDIS_URL (make test under .ci/run)")
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    receiver = Receiver(script=[(200, b"ok", {}, 0.01)])
    instance = instance_services.instance_create(owner=owner, name="Carga")
    services.webhook_endpoints_save(
        instance=instance,
        values={EventKind.MESSAGE_RECEIVED.value: (receiver.url, True)},
    )
    receiver.secrets.append(
        services.webhook_settings_get(instance_id=instance.pk).secret
    )
    log = tmp_path / "worker.log"
    worker = _start_worker(queue, log)
    try:
        event_ids = set()
        for n in range(EVENTS):
            with transaction.atomic():
                event = services.event_emit(
                    instance=instance, kind=EventKind.MESSAGE_RECEIVED, data={"n": n}
                )
            event_ids.add(event.id)

        wait_for(
            lambda: len(receiver.received) >= 40,
            timeout=60,
            what="the first deliveries",
        )
        _kill(worker)
        delivered_before_kill = {r.headers["webhook-id"] for r in receiver.received}
        assert len(delivered_before_kill) < EVENTS, (
            "the worker finished before it was killed"
        )

        worker = _start_worker(queue, log)

        def all_arrived():
            services.webhook_deliveries_sweep()  # what beat does every few seconds
            return {r.headers["webhook-id"] for r in receiver.received} >= event_ids

        wait_for(all_arrived, timeout=120, what="every event after the restart")
    finally:
        _kill(worker)
        receiver.close()

    received_ids = [r.headers["webhook-id"] for r in receiver.received]
    assert set(received_ids) == event_ids
    assert all(r.verified for r in receiver.received)
    assert len(received_ids) >= EVENTS  # at least once; a few may come twice
