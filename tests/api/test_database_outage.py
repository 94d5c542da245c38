"""While PostgreSQL is out of reach (a restart ends every connection) the API
answers 503 in its own JSON shape with Retry-After, not Django's HTML 500,
and serves again as soon as a new connection can be made."""

import logging

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection

from instances.api import core
from instances.models import Message


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL restart (make test with DATABASE_URL)")


def _end_this_connection() -> None:
    """What a PostgreSQL restart does to the web process's open connection."""
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_send_during_a_restart_gets_503_json_and_the_next_one_goes(
    client, live, postgresql, monkeypatch, caplog
):
    monkeypatch.setattr(core, "_unavailable_logged_at", -1e9)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {live.token}"}
    body = {"phone": "5521998765432", "message": "Oi"}
    assert client.get(f"/instances/{live.pk}/status", **bearer).status_code == 200
    _end_this_connection()

    with caplog.at_level(logging.WARNING, logger="instances.api.core"):
        refused = client.post(
            f"/instances/{live.pk}/send-text",
            body,
            content_type="application/json",
            **bearer,
        )
        zapi = client.post(
            f"/instances/{live.pk}/token/{live.token}/send-text",
            body,
            content_type="application/json",
        )

    assert refused.status_code == 503
    assert refused["Content-Type"].startswith("application/json")
    assert refused["Retry-After"] == "5"
    assert refused.json()["code"] == "service_unavailable"
    assert "instante" in refused.json()["message"]
    # A Z-API client reads `error`.
    assert zapi.status_code == 503
    assert zapi.json()["error"] == zapi.json()["message"]
    # One line for the outage, not a traceback per request.
    outage_lines = [r for r in caplog.records if "database unavailable" in r.message]
    assert len(outage_lines) == 1
    assert not any(r.exc_info for r in caplog.records)

    close_old_connections()  # what Django does when each request ends
    sent = client.post(
        f"/instances/{live.pk}/send-text",
        body,
        content_type="application/json",
        **bearer,
    )
    assert sent.status_code == 202
    # Only the send made after the outage was accepted.
    assert Message.objects.filter(instance=live).count() == 1
