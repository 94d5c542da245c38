"""QR poll throughput against a bare Django view, in the same run, driven
by wrk.

    .venv/bin/python bench/poll.py [--seconds 4] [--rounds 3] [--connections 2] \
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] \
        [--redis-url redis://127.0.0.1:6379/0] [--redis-db 6]

One gunicorn web process (one sync worker) on 127.0.0.1 with bench.urls, on
a throw-away database: a new PostgreSQL database when --database-url (or
BENCH_DATABASE_URL) is given, dropped at the end, else SQLite under a
temporary VAR_DIR; with --redis-url (or BENCH_REDIS_URL), Redis databases of
its own (--redis-db for the broker, the next one for the cache and sessions;
both flushed at the end), else the file cache. A customer logged in (its
session made by the configured session engine) with an instance waiting for
its QR code. Load comes from wrk (one thread, --connections connections) in
alternating rounds of --seconds per endpoint, each bounded in time; any error
or status outside 2xx fails the run. Prints requests per second and the
ratio to the bare view, and writes them to bench/RESULTS.md (section "QR
poll") unless --no-write."""

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from results import section_write
from wrk import wrk_measure

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(var_dir: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        VAR_DIR=var_dir,
        ROOT_URLCONF="bench.urls",
        DEBUG="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


SETUP = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from accounts.models import User
from instances import services
user = User.objects.create_user(email="bench@plugmessage.local", password="x")
instance = services.instance_connect(
    instance=services.instance_create(owner=user, name="Bench"), actor_kind="customer"
)
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key, instance.pk, instance.poll_version)
"""


def django_setup(env: dict, script: str) -> list[str]:
    """Migrate the benchmark's database, then run `script` in `manage.py
    shell`; returns the words it printed."""
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    return subprocess.run(
        [python, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def start_web(env: dict) -> tuple[subprocess.Popen, str]:
    """One gunicorn web process (one sync worker) on a free 127.0.0.1 port,
    with bench.urls; returns it and its base URL once it answers (30 s at
    most). The caller terminates it."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "plugmessage.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/bench/bare/", timeout=1)
            return server, base
        except httpx.TransportError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def throwaway_stack(env: dict, args):
    """The benchmark's own database and Redis, named in `env`: a new
    PostgreSQL database when args.database_url is given (dropped at the
    end), else SQLite under env's VAR_DIR; with args.redis_url, Redis
    databases args.redis_db (the broker) and the next one (the cache and
    sessions), flushed at the end. Yields the PostgreSQL database's name, or
    None."""
    database = None
    if args.database_url:
        import psycopg

        database = f"plugmessage_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = _with_db(args.database_url, database)
    if args.redis_url:
        env["REDIS_URL"] = _with_db(args.redis_url, str(args.redis_db))
        env["REDIS_CACHE_URL"] = _with_db(args.redis_url, str(args.redis_db + 1))
    try:
        yield database
    finally:
        if database:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if args.redis_url:
            import redis

            for url in (env["REDIS_URL"], env["REDIS_CACHE_URL"]):
                redis.Redis.from_url(url).flushdb()


ENDPOINTS = {
    "bare": "bare view (baseline)",
    "unchanged": "QR poll, unchanged (204)",
    "changed": "QR poll, changed (200 + QR)",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument(
        "--redis-db",
        type=int,
        default=6,
        help="Redis database of the broker; the cache takes the next one. "
        "Both are flushed at the end: choose numbers nobody else uses.",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    env = _env(tempfile.mkdtemp(prefix="pm-bench-"))
    with throwaway_stack(env, args) as database:
        cookie, instance_id, version = django_setup(env, SETUP)[-3:]
        server, base = start_web(env)
        try:
            paths = {
                "bare": "/bench/bare/",
                "unchanged": f"/instancias/{instance_id}/qr/?v={version}",
                "changed": f"/instancias/{instance_id}/qr/",
            }
            headers = {"HX-Request": "true", "Cookie": f"sessionid={cookie}"}
            figures = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, path in paths.items():
                    figures[name].append(
                        wrk_measure(
                            base + path,
                            headers,
                            "",
                            args.seconds,
                            args.connections,
                            method="GET",
                        )
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)

    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(json.dumps(figures))
    table = _table(medians)
    print(table)
    if not args.no_write:
        _write_results(args, table, medians, bool(database))


def _table(medians: dict) -> str:
    baseline = medians["bare"]
    lines = [
        "| endpoint | requests/s (median of rounds) | ratio to bare |",
        "|---|---:|---:|",
    ]
    for name, label in ENDPOINTS.items():
        value = medians[name]
        lines.append(f"| {label} | {value:,.0f} | {value / baseline:.2f}× |")
    return "\n".join(lines)


def _write_results(args, table: str, medians: dict, on_postgres: bool) -> None:
    stack = (
        "PostgreSQL and Redis (sessions and the poll's cache entry in Redis)"
        if on_postgres and args.redis_url
        else "PostgreSQL and the file cache"
        if on_postgres
        else "the embedded defaults (SQLite; sessions and the poll's cache "
        "entry in the file cache under `var/`)"
    )
    ratio = medians["unchanged"] / medians["bare"]
    verdict = (
        "The goal is met."
        if ratio >= 0.8
        else f"The goal is not met: {ratio:.2f}× of 0.8×."
    )
    options = f"--seconds {args.seconds:g} --rounds {args.rounds} --connections {args.connections}"
    if args.database_url:
        options += f" --database-url {args.database_url}"
    if args.redis_url:
        options += f" --redis-url {args.redis_url} --redis-db {args.redis_db}"
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    section = f"""## QR poll

`.venv/bin/python bench/poll.py {options}`

One gunicorn web process (one sync worker) on 127.0.0.1 on {stack}; load
from wrk (one thread, {args.connections} connections) on loopback,
{args.rounds} alternating rounds of {args.seconds:g} s per endpoint, medians
shown. Goal: the unchanged poll (what an open page asks every 2 s) at 0.8×
the bare view or better. Measured on {time.strftime("%Y-%m-%d")} ({machine}):

{table}

{verdict}

An open instance page asks every 2 s; almost every answer is "unchanged":
one cache round trip (the session and the poll's entry read together) and
no query, answered 204 by instances.middleware.QrPollMiddleware right after
SecurityMiddleware, so it skips the rest of the stack (static files, the
Content-Security-Policy, locale, CSRF, messages, URL resolution) that the
bare view goes through: that is why it can serve more than the baseline.
Anything else reaches the view's full path. The changed answer reads the user and the row and
renders the fragment with the QR code, which happens once per new code
(every 20–60 s) per open page.
"""
    section_write(section)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


if __name__ == "__main__":
    main()
