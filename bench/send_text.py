"""Send-text throughput (accepting and queuing) against a bare django-ninja
endpoint returning a constant, in the same run.

    .venv/bin/python bench/send_text.py [--seconds 5] [--rounds 3] [--clients 2]

One gunicorn web process (one sync worker) on 127.0.0.1 with the embedded
defaults (SQLite, the filesystem broker under a throw-away VAR_DIR); a
connected instance whose warm-up limit is lifted for the run; load from
separate client processes on loopback, bounded in time and requests. Each
accepted send checks the token, the number, the exclusion list and the
warm-up count, writes the message and asks for a dispatch. Writes the figures to
bench/RESULTS.md (section "Send text").
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import _env, _with_db, measure, start_web  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
from accounts.models import User
from instances import services
from instances.engines import engine_get
from instances.models import Instance, SimulatedSession
from plugmessage.models import Heartbeat
Heartbeat.objects.create(name="bench")
user = User.objects.create_user(email="bench@plugmessage.local", password="x")
instance = services.instance_connect(
    instance=services.instance_create(owner=user, name="Bench"), actor_kind="customer"
)
code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
Instance.objects.filter(pk=instance.pk).update(warmup_plan=[10**9])
print(instance.pk, instance.token)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    env = _env(tempfile.mkdtemp(prefix="pm-bench-"))
    env["CONN_MAX_AGE"] = "60"
    database = None
    if args.database_url:
        import psycopg

        database = f"plugmessage_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = _with_db(args.database_url, database)
    if args.redis_url:
        env["REDIS_URL"] = _with_db(args.redis_url, "14")
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(
        [python, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    instance_id, token = out[-2:]
    server, base = start_web(env)
    json_headers = {"Content-Type": "application/json"}
    send = (
        f"{base}/instances/{instance_id}/send-text",
        {**json_headers, "Authorization": f"Bearer {token}"},
        json.dumps(
            {"phone": "5521998765432", "text": "Olá! Seu pedido saiu para entrega."}
        ).encode(),
    )
    bare = (f"{base}/bench/ninja/", json_headers, send[2])
    write = (f"{base}/bench/ninja-write/", json_headers, send[2])
    least = (f"{base}/bench/ninja-least-send/", json_headers, send[2])
    try:
        figures = {"bare": [], "write": [], "least": [], "send": []}
        for _ in range(args.rounds):
            for name, (url, headers, body) in (
                ("bare", bare),
                ("write", write),
                ("least", least),
                ("send", send),
            ):
                request = {
                    "method": "POST",
                    "url": url,
                    "headers": headers,
                    "content": body,
                }
                figures[name].append(
                    measure(request, (202,), args.seconds, args.clients)
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    baseline = statistics.median(figures["bare"])
    accepted = statistics.median(figures["send"])
    written = statistics.median(figures["write"])
    least_send = statistics.median(figures["least"])
    table = "\n".join(
        [
            "| endpoint | requests/s (median of rounds) | ratio to bare |",
            "|---|---:|---:|",
            f"| bare django-ninja endpoint (baseline) | {baseline:,.0f} | 1.00× |",
            f"| reference: the bare endpoint plus one committed UPDATE | {written:,.0f} | {written / baseline:.2f}× |",
            f"| reference: token lookup + one committed UPDATE + one cache add | {least_send:,.0f} | {least_send / baseline:.2f}× |",
            f"| send-text, accepted and queued (202) | {accepted:,.0f} | {accepted / baseline:.2f}× |",
        ]
    )
    print(table)
    if not args.no_write:
        path = ROOT / "bench" / "RESULTS.md"
        text = path.read_text()
        start = text.find("## Send text")
        if start != -1:
            end = text.find("\n## ", start + 1)
            text = text[:start] + (text[end + 1 :] if end != -1 else "")
        stack = (
            "PostgreSQL and Redis"
            if database
            else "the embedded defaults (SQLite, the filesystem broker)"
        )
        verdict = (
            "The goal is met."
            if accepted / baseline >= 0.5
            else (
                "The goal is not met. The reference rows are the floor on this "
                f"machine: one committed write alone brings the bare endpoint to "
                f"{written / baseline:.2f}×, and the least a send must do to "
                f"{least_send / baseline:.2f}×. Reaching 0.5× would need the request "
                "to skip the database (a token cache and a queue in Redis in front "
                "of the write), giving up the checks the API promises when it "
                "answers."
            )
        )
        machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        section = f"""## Send text

`.venv/bin/python bench/send_text.py --seconds {args.seconds:g} --rounds {args.rounds} --clients {args.clients}{" --database-url " + args.database_url if database else ""}{" --redis-url " + args.redis_url if args.redis_url else ""}`

One gunicorn web process (one sync worker) on 127.0.0.1 on {stack}; load from {args.clients} client
processes on loopback, {args.rounds} alternating rounds of {args.seconds:g} s per
endpoint. An accepted send checks the token, the number, the exclusion list and
the warm-up count, writes the message and asks for a dispatch. Goal: 0.5× the
bare django-ninja endpoint or better. Measured on {time.strftime("%Y-%m-%d")} ({machine}):

{table}

The first reference row is the bare endpoint plus one committed UPDATE of one
row through the ORM: the least any durable acceptance costs. The second adds
what every send needs besides: finding the instance by its token and the
dispatch signal, each done once and as cheaply as possible. An accepted send does
more than that: it looks up the instance by its token, checks the exclusion
list, counts the send against the warm-up limit and writes the message (the
last two in one transaction), then asks for a dispatch (one conditional add in Redis; the
dispatch task, not the request, publishes the send tasks). {verdict}
"""
        path.write_text(text.rstrip() + "\n\n" + section)


if __name__ == "__main__":
    main()
