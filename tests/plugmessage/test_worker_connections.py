"""The worker keeps its database connection between tasks, as the web does
between requests: a new PostgreSQL connection costs more than the queries
of a send. An unusable or too old one is closed, as Django does."""

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.conf import settings
from django.db import connection

from plugmessage.celery import _database_connections_tidy, app


@pytest.mark.django_db(transaction=True)
def test_a_task_keeps_a_good_connection_and_closes_an_old_one():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    connection.ensure_connection()
    kept = connection.connection

    _database_connections_tidy()  # before and after every task
    DjangoWorkerFixup(app).close_database()  # Celery's own, also around tasks

    assert connection.connection is kept
    connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE
    _database_connections_tidy()
    assert connection.connection is None
    connection.ensure_connection()  # the next task opens a new one
    assert connection.is_usable()


@pytest.mark.django_db(transaction=True)
def test_a_task_after_postgresql_dropped_the_connection_gets_a_new_one():
    """PostgreSQL restarted (here: the session is terminated): the task that
    meets the dead connection fails, and the next one works."""
    if connection.vendor != "postgresql":
        pytest.skip("a dropped PostgreSQL session (make test with DATABASE_URL)")
    import psycopg
    from django.db import OperationalError

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    _database_connections_tidy()  # before the task: not yet known to be dead
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    _database_connections_tidy()  # after it: closed, being unusable

    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
