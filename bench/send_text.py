"""Send-text throughput (accepting and queuing) against a bare django-ninja
endpoint returning a constant, in the same run, driven by wrk.

    .venv/bin/python bench/send_text.py [--seconds 4] [--rounds 3] \
        [--connections 2] \
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] \
        [--redis-url redis://127.0.0.1:6379/0]

One gunicorn web process (one sync worker) on 127.0.0.1 on a throw-away
database (a new PostgreSQL database when --database-url is given, dropped at
the end; else SQLite under a temporary VAR_DIR) and, with --redis-url, Redis
databases of its own (--redis-db for the broker, the next one for the cache;
flushed at the end). A connected instance whose warm-up limit is lifted for
the run. Load comes from wrk (/usr/bin/wrk, one thread, a Lua script for
the body and headers): a Python client process caps a bare view near half of
what wrk reaches on this machine, which would flatter every ratio. Each
round runs every endpoint for --seconds (bounded in time; wrk's --timeout
bounds each request) and fails on any error or status other than the
expected one. Writes the figures to bench/RESULTS.md (section "Send text").
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import _env, django_setup, start_web, throwaway_stack  # noqa: E402
from results import section_write  # noqa: E402
from wrk import wrk_measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# A customer with an instance connected on the simulator and no daily limit
# (`instance`); the pipeline benchmark starts from it too.
CONNECTED_INSTANCE = """
from accounts.models import User
from instances import services
from instances.engines import engine_get
from instances.models import Instance, SimulatedSession
user = User.objects.create_user(email="bench@plugmessage.local", password="x")
instance = services.instance_connect(
    instance=services.instance_create(owner=user, name="Bench"), actor_kind="customer"
)
code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
Instance.objects.filter(pk=instance.pk).update(warmup_plan=[10**9])
"""

SETUP = (
    CONNECTED_INSTANCE
    + """
from instances.models import token_digest
from plugmessage.models import Heartbeat
Heartbeat.objects.create(name="bench")
print(instance.pk, instance.token, token_digest(instance.token))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=4,
        help="Redis database of the broker; the cache takes the next one. "
        "Both are flushed at the end: choose numbers nobody else uses.",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    env = _env(tempfile.mkdtemp(prefix="pm-bench-"))
    env["CONN_MAX_AGE"] = "60"
    with throwaway_stack(env, args) as database:
        instance_id, token, digest = django_setup(env, SETUP)[-3:]
        server, base = start_web(env)
        try:
            json_headers = {"Content-Type": "application/json"}
            body = json.dumps(
                {
                    "phone": "5521998765432",
                    "text": "Olá! Seu pedido saiu para entrega.",
                },
                ensure_ascii=False,
            )
            endpoints = {
                "bare": (f"{base}/bench/ninja/", json_headers),
                "write": (f"{base}/bench/ninja-write/", json_headers),
                "least": (
                    f"{base}/bench/ninja-least-send/",
                    {**json_headers, "X-Digest": digest},
                ),
                "send": (
                    f"{base}/instances/{instance_id}/send-text",
                    {**json_headers, "Authorization": f"Bearer {token}"},
                ),
            }
            figures = {name: [] for name in endpoints}
            for _ in range(args.rounds):
                for name, (url, headers) in endpoints.items():
                    figures[name].append(
                        wrk_measure(url, headers, body, args.seconds, args.connections)
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)

    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(json.dumps(figures))
    table = _table(medians)
    print(table)
    if not args.no_write:
        _write(args, table, medians, bool(database))


def _table(medians: dict) -> str:
    baseline = medians["bare"]
    rows = [
        ("bare django-ninja endpoint (baseline)", "bare"),
        ("reference: the bare endpoint plus one committed UPDATE", "write"),
        ("reference: token lookup + one committed UPDATE + one cache add", "least"),
        ("send-text, accepted and queued (202)", "send"),
    ]
    lines = [
        "| endpoint | requests/s (median of rounds) | ratio to bare |",
        "|---|---:|---:|",
    ]
    for label, name in rows:
        value = medians[name]
        lines.append(f"| {label} | {value:,.0f} | {value / baseline:.2f}× |")
    return "\n".join(lines)


def _write(args, table: str, medians: dict, on_postgres: bool) -> None:
    stack = (
        "PostgreSQL and Redis"
        if on_postgres and args.redis_url
        else "the embedded defaults (SQLite, the filesystem broker)"
    )
    ratio = medians["send"] / medians["bare"]
    verdict = (
        "The goal is met."
        if ratio >= 0.2
        else f"The goal is not met: {ratio:.2f}× of 0.2×."
    )
    options = f"--seconds {args.seconds:g} --rounds {args.rounds} --connections {args.connections}"
    if args.database_url:
        options += f" --database-url {args.database_url}"
    if args.redis_url:
        options += f" --redis-url {args.redis_url}"
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    section = f"""## Send text

`.venv/bin/python bench/send_text.py {options}`

One gunicorn web process (one sync worker) on 127.0.0.1 on {stack}; load
from wrk (one thread, {args.connections} connections) on loopback,
{args.rounds} alternating rounds of {args.seconds:g} s per endpoint, medians
shown. Goal: send-text accepted at 0.2× the bare django-ninja endpoint or
better. Measured on {time.strftime("%Y-%m-%d")} ({machine}):

{table}

{verdict}

A send is two statements: one finds the instance by its token digest (its
owner and whether the number is excluded come in the same row), one counts
the day's send and inserts the message (a data-modifying CTE, committed on
its own). On PostgreSQL the parameters are bound by the server and a
statement a connection repeats is prepared once (DATABASE_PREPARE_THRESHOLD,
5 by default), so neither is parsed and planned again (without it, this
machine gave 0.19×). What is left is the request itself (Django, ninja,
gunicorn) and the two round trips, as the references show.
"""
    section_write(section)


if __name__ == "__main__":
    main()
