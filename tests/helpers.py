import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

POLL_INTERVAL = 0.05
ROOT = Path(__file__).resolve().parents[1]


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


def celery_worker_start(
    queue: str,
    log_path,
    *,
    env: dict | None = None,
    options: tuple[str, ...] = ("--pool=solo", "--loglevel=INFO"),
    new_session: bool = False,
) -> subprocess.Popen:
    """A real `celery worker` process on this test's database, consuming only
    `queue`, its output appended to `log_path`."""
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "plugmessage",
                "worker",
                "--queues",
                queue,
                *options,
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": database_url_for_subprocess(),
                "C_FORCE_ROOT": "1",
                **(env or {}),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,  # its own process group when asked
        )


def celery_worker_stop(process: subprocess.Popen, log_path) -> None:
    """Stop a worker started by celery_worker_start; show its log if it did
    not end cleanly."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.returncode not in (0, -15):
        print(Path(log_path).read_text())


def at_the_same_moment(calls: list[Callable[[], object]]) -> tuple[list, list]:
    """Run each call in its own thread, released together by a barrier, each
    with its own database connection. Returns (results, exceptions raised)."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=20)
            results.append(call())
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def holding_the_row(model, pk, *, held, release) -> Callable[[], str]:
    """A call for at_the_same_moment that locks one row in a transaction of
    its own, sets the `held` event, and keeps the lock until `release` is set
    (20 s at most). Returns "held"."""
    from django.db import transaction

    from plugmessage.locks import lock_one

    def hold():
        with transaction.atomic():
            lock_one(model, pk=pk)
            held.set()
            release.wait(timeout=20)
        return "held"

    return hold


def bench_module(name: str):
    """A module of bench/ (not a package), for a test that runs a scenario
    the benchmarks run too (bench/faults.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
