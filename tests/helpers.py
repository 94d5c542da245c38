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
