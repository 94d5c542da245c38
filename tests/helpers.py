import time
from collections.abc import Callable

POLL_INTERVAL = 0.05


def wait_for(condition: Callable[[], object], *, timeout: float, what: str):
    """Return condition()'s first truthy value, checking until `timeout` seconds
    have passed; fail with `what` if it never comes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def database_url_for_subprocess() -> str:
    """DATABASE_URL of the database this test runs on, for a process it starts
    (a Celery worker) to see the same rows."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
