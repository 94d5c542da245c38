"""A send accepted by the API reaches the engine through a real `celery
worker` process: the request asks for a dispatch, the dispatch queues the
message's send task, the send task hands it to the simulator."""

import uuid

import pytest
from celery import current_app

from instances import services
from instances.engines import engine_get
from instances.models import Message, MessageStatus, SimulatedMessage, SimulatedSession
from tests.helpers import celery_worker_start, celery_worker_stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    queue = f"test-send-{uuid.uuid4().hex[:10]}"
    previous = current_app.conf.task_default_queue
    current_app.conf.task_default_queue = queue
    log = tmp_path / "worker.log"
    # What the worker itself queues (the send tasks) stays on this queue.
    process = celery_worker_start(queue, log, env={"CELERY_TASK_DEFAULT_QUEUE": queue})
    yield
    current_app.conf.task_default_queue = previous
    celery_worker_stop(process, log)


def test_api_sends_reach_the_engine_through_a_real_worker(client, owner, worker):
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name="Loja"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    instance.refresh_from_db()

    ids = []
    for n in range(3):
        response = client.post(
            f"/instances/{instance.pk}/send-text",
            {"phone": "5521998765432", "text": f"Pedido {n} confirmado"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {instance.token}",
        )
        assert response.status_code == 202
        ids.append(response.json()["id"])

    def all_sent():
        return (
            Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == 3
        )

    wait_for(all_sent, timeout=60, what="the worker to send the three messages")
    texts = sorted(SimulatedMessage.objects.values_list("text", flat=True))
    assert texts == [f"Pedido {n} confirmado" for n in range(3)]
    assert not Message.objects.filter(pk__in=ids, dispatched_at__isnull=True).exists()
