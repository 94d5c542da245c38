"""QR poll throughput against a bare Django view, in the same run.

Starts one gunicorn web process (one sync worker) on 127.0.0.1 with a
throw-away SQLite database, creates a customer with an instance waiting for
its QR code, then drives load from separate processes on loopback, in
alternating rounds, bounded in time and in requests:

    .venv/bin/python bench/poll.py [--seconds 5] [--rounds 3] [--clients 4]

It prints requests per second for each endpoint and the ratios against the
bare view, and writes them to bench/RESULTS.md (section "QR poll").
"""

import argparse
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from results import section_write

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS_PER_CLIENT = 200_000


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
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from accounts.models import User
from instances import services
user = User.objects.create_user(email="bench@plugmessage.local", password="x")
instance = services.instance_connect(
    instance=services.instance_create(owner=user, name="Bench"), actor_kind="customer"
)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key, instance.pk, instance.poll_version)
"""


def _client(request: dict, ok: tuple, seconds: float, results) -> None:
    """One load process: repeat `request` (httpx.Client.request arguments)
    until `seconds` pass or MAX_REQUESTS_PER_CLIENT, failing on any status not
    in `ok`; put how many it made."""
    deadline = time.monotonic() + seconds
    done = 0
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline and done < MAX_REQUESTS_PER_CLIENT:
            response = client.request(**request)
            if response.status_code not in ok:
                raise SystemExit(f"{request['url']} answered {response.status_code}")
            done += 1
    results.put(done)


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


def measure(request: dict, ok: tuple, seconds: float, clients: int) -> float:
    """Requests per second of `clients` load processes making `request`."""
    results = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(request, ok, seconds, results))
        for _ in range(clients)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    total = sum(results.get(timeout=seconds + 30) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
    return total / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="pm-bench-")
    env = _env(var_dir)
    cookie, instance_id, version = django_setup(env, SETUP)[-3:]

    server, base = start_web(env)
    try:
        endpoints = {
            "bare view (baseline)": "/bench/bare/",
            "QR poll, unchanged (204)": f"/instancias/{instance_id}/qr/?v={version}",
            "QR poll, changed (200 + QR)": f"/instancias/{instance_id}/qr/",
        }
        headers = {"HX-Request": "true", "Cookie": f"sessionid={cookie}"}
        figures = {name: [] for name in endpoints}
        for _ in range(args.rounds):
            for name, path in endpoints.items():
                figures[name].append(
                    measure(
                        {"method": "GET", "url": base + path, "headers": headers},
                        (200, 204),
                        args.seconds,
                        args.clients,
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=30)

    medians = {name: statistics.median(values) for name, values in figures.items()}
    baseline = medians["bare view (baseline)"]
    lines = [
        "| endpoint | requests/s (median of rounds) | ratio to bare |",
        "|---|---:|---:|",
    ]
    for name, value in medians.items():
        lines.append(f"| {name} | {value:,.0f} | {value / baseline:.2f}× |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        _write_results(table, args)


def _write_results(table: str, args) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    section = f"""## QR poll

`.venv/bin/python bench/poll.py --seconds {args.seconds:g} --rounds {args.rounds} --clients {args.clients}`

One gunicorn web process (one sync worker) on 127.0.0.1 with the embedded
defaults (SQLite; sessions and the poll's cache entry in the file cache under
`var/`); load from {args.clients} client processes on loopback,
{args.rounds} alternating rounds of {args.seconds:g} s per endpoint. Goal: the
unchanged poll (what an open page asks every 2 s) at 0.8× the bare view or better.
Measured on {time.strftime("%Y-%m-%d")} ({machine}):

{table}

An open instance page asks every 2 s; almost every answer is "unchanged",
served from the cache with no query (204). The changed answer reads the row and
renders the fragment with the QR code, which happens once per new code (every
20–60 s) per open page.
"""
    section_write(section)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


if __name__ == "__main__":
    main()
