"""Webhook deliveries per second from one Celery worker, against a plain loop
of httpx posts of the same bodies to the same receiver, in the same run.

    .venv/bin/python bench/webhooks.py [--deliveries 1000] \
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] \
        [--redis-url redis://127.0.0.1:6379/0]

The receiver is a separate process on 127.0.0.1 answering 200 at once. The
worker is one `celery worker` (its default pool: one process per CPU) on a
throw-away database (a new PostgreSQL database when --database-url is given,
else SQLite) and broker (Redis database 14 when --redis-url is given, else
the filesystem transport). Deliveries are signed, SSRF-checked and logged as
in production. Bounded: it stops after the deliveries or 300 s. Writes the
figures to bench/RESULTS.md (section "Webhook deliveries").
"""

import argparse
import http.server
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from poll import _with_db
from results import section_write

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 300


def _serve(port_queue) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _env(args, var_dir: str, database_url: str | None) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        VAR_DIR=var_dir,
        PYTHONPATH=str(ROOT),
        WEBHOOKS_ALLOW_LOOPBACK="1",
        LOG_LEVEL="WARNING",
        C_FORCE_ROOT="1",
        # Keep database connections between tasks, as production should.
        CONN_MAX_AGE="60",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if args.redis_url:
        env["REDIS_URL"] = _with_db(args.redis_url, "14")
    return env


SETUP = """
import sys
from django.db import transaction
from accounts.models import User
from instances import services as instances
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEvent, WebhookEndpoint
url, count = sys.argv[1], int(sys.argv[2])
user = User.objects.create_user(email="bench@plugmessage.local", password="x")
instance = instances.instance_create(owner=user, name="Bench")
services.webhook_endpoints_save(instance=instance, values={"message.received": (url, True)})
endpoint = WebhookEndpoint.objects.get(instance=instance, kind="message.received")
events = WebhookEvent.objects.bulk_create(
    WebhookEvent(instance=instance, kind="message.received",
                 payload=services._payload(instance, "message.received", {"n": n, "text": "Olá!"}))
    for n in range(count)
)
WebhookDelivery.objects.bulk_create(
    WebhookDelivery(event=e, endpoint=endpoint, next_attempt_at=e.created_at) for e in events
)
print(services._body(events[0]))
"""

# What a commit of new events does: ask for a drain of due deliveries.
ENQUEUE = """
from webhooks import services
services._drain_request()
"""


def _plain_loop(url: str, body: bytes, count: int) -> float:
    """The baseline: one loop posting the same body with one keep-alive client."""
    with httpx.Client() as client:
        started = time.monotonic()
        for _ in range(count):
            client.post(url, content=body, headers={"Content-Type": "application/json"})
        return count / (time.monotonic() - started)


def _worker_run(env: dict, count: int) -> float:
    """Ask the worker for a drain, as a commit of new events does, and wait
    until every delivery succeeded; the rate is measured between the first and
    the last attempt the database recorded."""
    _manage(env, "shell", "-c", ENQUEUE)
    started = time.monotonic()
    while _succeeded(env) < count:
        if time.monotonic() - started > DEADLINE:
            raise SystemExit(f"not every delivery was made within {DEADLINE} s")
        time.sleep(0.2)
    return count / _attempts_span(env)


def _reset(env: dict) -> None:
    """Make every delivery due again, as if just emitted."""
    for sql in (
        "DELETE FROM webhooks_webhookattempt",
        "UPDATE webhooks_webhookdelivery SET status = 'pending', attempt_count = 0,"
        " locked_until = NULL, finished_at = NULL, next_attempt_at = created_at",
    ):
        _execute(env, sql)


def _execute(env: dict, sql: str) -> None:
    url = env.get("DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute(sql)
        return
    import sqlite3

    with sqlite3.connect(Path(env["VAR_DIR"]) / "db.sqlite3") as conn:
        conn.execute(sql)


def _query(env: dict, sql: str):
    url = env.get("DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(sql).fetchone()
    import sqlite3

    with sqlite3.connect(Path(env["VAR_DIR"]) / "db.sqlite3") as conn:
        return conn.execute(sql).fetchone()


def _attempts_span(env: dict) -> float:
    if env.get("DATABASE_URL"):
        sql = (
            "SELECT EXTRACT(EPOCH FROM max(started_at) - min(started_at)) * 1000"
            " + max(duration_ms) FROM webhooks_webhookattempt"
        )
    else:
        sql = (
            "SELECT (julianday(max(started_at)) - julianday(min(started_at))) * 86400000"
            " + max(duration_ms) FROM webhooks_webhookattempt"
        )
    return float(_query(env, sql)[0]) / 1000


def _succeeded(env: dict) -> int:
    """Count delivered rows without starting Django (a process start per
    check would take CPU from the worker being measured)."""
    sql = "SELECT count(*) FROM webhooks_webhookdelivery WHERE status = 'succeeded'"
    return _query(env, sql)[0]


def _manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    port_queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(port_queue,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{port_queue.get(timeout=10)}/hook"

    var_dir = tempfile.mkdtemp(prefix="pm-bench-")
    database_url = None
    if args.database_url:
        import psycopg

        name = f"plugmessage_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        database_url = _with_db(args.database_url, name)
    env = _env(args, var_dir, database_url)
    worker = None
    try:
        _manage(env, "migrate", "-v0")
        setup = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django,os;django.setup();exec(open(0).read())",
                url,
                str(args.deliveries),
            ],
            input=SETUP,
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "plugmessage.settings"},
            check=True,
            capture_output=True,
            text=True,
        )
        body = setup.stdout.strip().splitlines()[-1].encode()

        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "plugmessage",
                "worker",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        time.sleep(3)  # let the worker connect
        plains, workers = [], []
        for _round in range(args.rounds):
            plains.append(_plain_loop(url, body, args.deliveries))
            _reset(env)
            workers.append(_worker_run(env, args.deliveries))
        plain = statistics.median(plains)
        delivered = statistics.median(workers)
    finally:
        if worker:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        receiver.terminate()
        if database_url:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack = (
        ("PostgreSQL" if database_url else "SQLite")
        + " and "
        + ("Redis" if args.redis_url else "the filesystem broker")
    )
    table = "\n".join(
        [
            "| sender | deliveries/s | ratio to plain loop |",
            "|---|---:|---:|",
            f"| plain loop of httpx posts (baseline) | {plain:,.0f} | 1.00× |",
            f"| one Celery worker, {stack} | {delivered:,.0f} | {delivered / plain:.2f}× |",
        ]
    )
    print(table)
    if not args.no_write:
        _write(args, table, stack)


def _write(args, table: str, stack: str) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    options = f"--deliveries {args.deliveries} --rounds {args.rounds}"
    if args.database_url:
        options += f" --database-url {args.database_url}"
    if args.redis_url:
        options += f" --redis-url {args.redis_url}"
    section = f"""## Webhook deliveries

`.venv/bin/python bench/webhooks.py {options}`

{args.deliveries} deliveries to a receiver process on 127.0.0.1 that answers 200
at once, {args.rounds} alternating rounds, medians shown. Baseline: one loop posting the same body with one keep-alive httpx
client. Measured: one `celery worker` (default pool) on {stack}, each delivery
claimed with its lease, signed with standardwebhooks, SSRF-checked, posted and
logged. Goal: 0.7× the plain loop or better. Measured on {time.strftime("%Y-%m-%d")}
({machine}):

{table}

How: each drain task leases up to 200 due deliveries at once (SKIP LOCKED),
renews the lease while it posts them from 2 threads, and records them in one
transaction; a full batch asks for another drain, so both processes of the
worker's pool share the load.
The baseline loop posts from one thread of one process: the ratio compares one
worker as deployed with the simplest sender, not one thread with one thread.
"""
    section_write(section)


if __name__ == "__main__":
    main()
