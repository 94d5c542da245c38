"""The fault run of bench/faults.py, in CI on the real services: the whole
system (gunicorn, a prefork worker, beat, PostgreSQL, a Redis of the test's
own) sends messages while the worker is killed with SIGKILL mid-work and
Redis is down for 15 s. Nothing accepted is lost, nothing is sent twice,
the worker is alive at the end, and the sends accepted during the outage go
out within seconds of Redis's return."""

import shutil

import pytest
from django.db import connection

from accounts.models import User
from instances import services
from instances.engines import engine_get
from instances.models import Instance, Message, MessageStatus, SimulatedSession
from tests.helpers import bench_module, database_url_for_subprocess
from webhooks.services import webhook_endpoints_save

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faults(tmp_path):
    if connection.vendor != "postgresql" or shutil.which("redis-server") is None:
        pytest.skip("needs PostgreSQL and redis-server (make test under .ci/run)")
    module = bench_module("faults")
    redis = module.Redis(tmp_path)
    receiver = module.Receiver()
    redis.start()
    yield module, redis, receiver
    receiver.close()
    redis.stop()


def test_nothing_is_lost_or_doubled_through_a_worker_kill_and_a_redis_outage(
    faults, tmp_path
):
    module, redis, receiver = faults
    user = User.objects.create_user(email="faults@plugmessage.local", password="x")
    instance = services.instance_connect(
        instance=services.instance_create(owner=user, name="Faults"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    Instance.objects.filter(pk=instance.pk).update(warmup_plan=[10**9])
    webhook_endpoints_save(
        instance=instance,
        values={k: (receiver.url, True) for k in ("message.sent", "message.status")},
    )

    def read(ids):
        return Message.objects.filter(pk__in=ids, status=MessageStatus.READ).count()

    figures = module.run(
        env=module.system_env(tmp_path, database_url_for_subprocess(), redis.url),
        instance_id=str(instance.pk),
        token=instance.token,
        database_check=read,
        directory=tmp_path,
        redis=redis,
        receiver=receiver,
        rate=8,
        outage=15,
        deadline=150,
    )

    assert figures["accepted"] > 100, figures
    assert figures["accepted_during_outage"] > 50, figures
    assert figures["refused"] == {}, figures  # the API kept accepting
    assert figures["lost_messages"] == 0, figures
    assert figures["lost_webhooks"] == 0, figures
    assert figures["sent_twice"] == 0, figures
    assert figures["worker_alive"], figures
    assert figures["worker_unrecoverable"] == 0, figures
    # Beat's dispatch runs every 5 s: the outage's sends go out within seconds.
    assert figures["seconds_outage_sends_out_after_return"] < 20, figures
    # One line per web process (two) for the outage, no traceback.
    assert 1 <= figures["web_outage_lines"] <= 2, figures
    assert figures["web_tracebacks"] == 0, figures
