"""/saude/: the database, the cache, the broker and the worker's heartbeat,
each checked for real; 503 naming the part that is down."""

from datetime import timedelta

import pytest
from celery import current_app
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from plugmessage import health
from plugmessage.models import Heartbeat

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _beat(ago: timedelta) -> None:
    Heartbeat.objects.update_or_create(
        name="beat", defaults={"beat_at": timezone.now() - ago}
    )


@pytest.mark.django_db
def test_all_parts_up_answer_200_without_login(client):
    _beat(timedelta(seconds=30))
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "ok",
    }
    assert set(body["heartbeats"]) == {"beat"}


@pytest.mark.django_db
def test_before_the_first_heartbeat_the_worker_is_waiting_not_down(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == "waiting"


@pytest.mark.django_db
def test_a_worker_silent_for_minutes_is_down(client):
    _beat(health.WORKER_STALE_AFTER + timedelta(seconds=1))
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "down"
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_a_broker_that_does_not_answer_is_down(client):
    _beat(timedelta(seconds=30))
    previous = current_app.conf.broker_url
    current_app.conf.broker_url = UNREACHABLE
    try:
        response = client.get(reverse("health"))
    finally:
        current_app.conf.broker_url = previous
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == "down"
    assert checks["database"] == checks["cache"] == checks["worker"] == "ok"


@pytest.mark.django_db
def test_a_cache_that_does_not_answer_is_down(client):
    _beat(timedelta(seconds=30))
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE,
        }
    }
    # Within the test: the suite clears the real cache after it.
    with override_settings(
        CACHES=unreachable, SESSION_ENGINE="django.contrib.sessions.backends.db"
    ):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "down"


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_down(client, monkeypatch):
    def refused():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", refused)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "down"
    assert checks["worker"] == "down"  # its heartbeat cannot be read
