"""Faults, for real: the whole system runs while its worker is killed with
SIGKILL in the middle of its work and Redis is stopped and started again;
nothing accepted may be lost, no message sent twice, and the worker must be
alive at the end.

    .venv/bin/python bench/faults.py [--outage 15] [--rate 10] \
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Everything on 127.0.0.1: a throw-away PostgreSQL database (dropped at the
end), a redis-server of its own on a free port (append-only file on, as
production should run it; stopped with SIGTERM and started again on the
same file), one gunicorn web process, one Celery worker (prefork, two
processes, as the Procfile starts it), Celery beat, and a receiver thread
that answers every webhook 200. A connected instance on the simulator sends
its message.sent and message.status webhooks to the receiver.

The timeline, bounded: messages are sent through the Bearer API at --rate
per second from the start; at 5 s the worker's whole process group gets
SIGKILL, and a new worker starts 2 s later; at 12 s Redis stops for
--outage seconds (sends keep coming: the API must accept them); sending
stops 5 s after Redis is back; then the run waits (--deadline seconds at
most) until every accepted message is read and its four webhooks (the
message sent; its status sent, delivered, read) have arrived.

Figures: messages accepted (and refused, with their statuses), webhooks
expected, lost (messages not read, webhooks missing), sent twice (a step
announced by two different webhooks: the message went to WhatsApp twice),
redelivered (one webhook received again: at least once, by design), seconds
from Redis's return until every message accepted during the outage was
sent, seconds to drain everything, the web process's log lines about the
outage and any traceback, and whether the worker was alive at the end.
Writes bench/RESULTS.md (section "Faults") unless --no-write.

tests/plugmessage/test_faults.py runs the same scenario in CI.
"""

import argparse
import contextlib
import http.server
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import _env, _free_port, _with_db, django_setup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
STEPS = ("message.sent", "sent", "delivered", "read")


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Redis:
    """A redis-server of the run's own, with its append-only file, to stop
    and start again."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--dir", str(self.directory), "--save", ""]
            + ["--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, 15, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class Receiver:
    """Answers every webhook 200 at once and keeps (webhook-id, body)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        lock = threading.Lock()
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    received.append(
                        (self.headers.get("webhook-id", ""), json.loads(body))
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class System:
    """Web, worker and beat, started as `make run` and production do, on the
    given database and Redis; their output in files under `directory`."""

    def __init__(self, env: dict, directory: Path):
        self.env = env
        self.directory = directory
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web = self.worker = self.beat = None
        self.workers_started = 0

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "a")  # noqa: SIM115 - kept open
        return subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, children included
        )

    def start(self) -> None:
        self.web = self._start(
            "web",
            ["gunicorn", "plugmessage.wsgi", "--workers", "2"]
            + ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"],
        )
        self.worker_start()
        self.beat = self._start(
            "beat",
            ["celery", "-A", "plugmessage", "beat", "--loglevel=WARNING"]
            + [f"--schedule={self.directory / 'beat-schedule'}"],
        )
        wait_until(self._web_answers, 30, "the web process to answer")

    def _web_answers(self) -> bool:
        try:
            return httpx.get(f"{self.base}/saude/", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def worker_start(self) -> None:
        self.workers_started += 1
        self.worker = self._start(
            f"worker-{self.workers_started}",
            ["celery", "-A", "plugmessage", "worker", "--loglevel=WARNING"]
            + ["--concurrency=2"],
        )

    def worker_kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=15)

    def stop(self) -> None:
        for process in (self.web, self.worker, self.beat):
            if process is None or process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str) -> str:
        return "".join(
            path.read_text(errors="replace")
            for path in sorted(self.directory.glob(f"{name}*.log"))
        )


class Sender(threading.Thread):
    """Sends texts through the Bearer API at `rate` a second until stopped;
    keeps the id and moment of each accepted send and the status (or error)
    of each refused one."""

    def __init__(self, base: str, instance_id: str, token: str, rate: float):
        super().__init__(daemon=True)
        self.url = f"{base}/instances/{instance_id}/send-text"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rate = rate
        self.accepted: list[tuple[str, float]] = []
        self.refused: Counter = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            n = 0
            while not self.stopping.wait(1 / self.rate):
                n += 1
                body = {"phone": "5521998765432", "text": f"Pedido {n} confirmado"}
                try:
                    answer = client.post(self.url, json=body, headers=self.headers)
                except httpx.HTTPError as error:
                    self.refused[error.__class__.__name__] += 1
                    continue
                if answer.status_code == 202:
                    self.accepted.append((answer.json()["id"], time.monotonic()))
                else:
                    self.refused[str(answer.status_code)] += 1


def _steps(received: list[tuple[str, dict]]):
    """Per message: each step's distinct webhook ids; and how many webhooks
    came more than once (the same webhook-id)."""
    steps: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    counts = Counter(webhook_id for webhook_id, _body in received)
    for webhook_id, body in received:
        data = body.get("data", {})
        step = "message.sent" if body.get("type") == "message.sent" else None
        if body.get("type") == "message.status":
            step = data.get("status")
        if step:
            steps[str(data.get("message_id"))][step].add(webhook_id)
    return steps, sum(n - 1 for n in counts.values() if n > 1)


def run(
    *,
    env: dict,
    instance_id: str,
    token: str,
    database_check,
    directory: Path,
    redis: Redis,
    receiver: Receiver,
    rate: float = 10,
    outage: float = 15,
    deadline: float = 240,
) -> dict:
    """The scenario on an instance that is connected and sends its webhooks
    to `receiver`; `database_check(ids)` returns how many of the messages
    with those ids are read. Returns the figures."""
    system = System(env, directory)
    system.start()
    sender = Sender(system.base, instance_id, token, rate)
    try:
        started = time.monotonic()
        sender.start()
        time.sleep(5)
        system.worker_kill()
        time.sleep(2)
        system.worker_start()
        time.sleep(5)
        redis.stop()
        outage_began = time.monotonic()
        time.sleep(outage)
        redis.start()
        back = time.monotonic()
        time.sleep(5)
        sender.stopping.set()
        sender.join(timeout=30)
        accepted = [message_id for message_id, _at in sender.accepted]
        during = [
            message_id
            for message_id, at in sender.accepted
            if outage_began <= at <= back
        ]

        def complete() -> bool:
            steps, _again = _steps(receiver.received)
            return database_check(accepted) == len(accepted) and all(
                all(steps[m][step] for step in STEPS) for m in accepted
            )

        def outage_sends_out() -> bool:
            steps, _again = _steps(receiver.received)
            return all(steps[m]["sent"] for m in during)

        with contextlib.suppress(TimeoutError):
            wait_until(outage_sends_out, deadline, "the sends of the outage")
        sent_after_return = time.monotonic() - back
        with contextlib.suppress(TimeoutError):
            wait_until(complete, deadline, "every message read and announced")
        drained = time.monotonic() - back
        worker_alive = system.worker.poll() is None
        steps, redelivered = _steps(receiver.received)
        read = database_check(accepted)
        web_log = system.log("web")
        worker_log = system.log("worker")
        return {
            "accepted": len(accepted),
            "accepted_during_outage": len(during),
            "refused": dict(sender.refused),
            "webhooks_expected": len(accepted) * len(STEPS),
            "webhooks_received": len(receiver.received),
            "lost_messages": len(accepted) - read,
            "lost_webhooks": sum(
                1 for m in accepted for step in STEPS if not steps[m][step]
            ),
            "sent_twice": sum(
                1 for m in accepted for step in STEPS if len(steps[m][step]) > 1
            ),
            "redelivered": redelivered,
            "seconds_outage_sends_out_after_return": round(sent_after_return, 1),
            "seconds_to_drain_after_return": round(drained, 1),
            "seconds_total": round(time.monotonic() - started, 1),
            "worker_alive": worker_alive,
            "worker_unrecoverable": worker_log.count("Unrecoverable error"),
            "web_outage_lines": web_log.count("broker unavailable"),
            "web_tracebacks": web_log.count("Traceback"),
            "outage_seconds": outage,
        }
    finally:
        sender.stopping.set()
        system.stop()


SETUP = """
from accounts.models import User
from instances import services
from instances.engines import engine_get
from instances.models import Instance, SimulatedSession
from webhooks.services import webhook_endpoints_save
user = User.objects.create_user(email="faults@plugmessage.local", password="x")
instance = services.instance_connect(
    instance=services.instance_create(owner=user, name="Faults"), actor_kind="customer"
)
code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
Instance.objects.filter(pk=instance.pk).update(warmup_plan=[10**9])
webhook_endpoints_save(
    instance=instance,
    values={kind: ("{url}", True) for kind in ("message.sent", "message.status")},
)
print(instance.pk, instance.token)
"""


def system_env(var_dir: Path, database_url: str, redis_url: str) -> dict:
    """The benchmarks' environment (bench/poll.py), on this run's database
    and Redis, with the waits a killed worker leaves shortened."""
    env = _env(str(var_dir))
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ALLOWED_HOSTS="127.0.0.1",
        WEBHOOKS_ALLOW_LOOPBACK="1",
        # A killed worker's leases and claims run out in seconds, not minutes.
        WEBHOOKS_LEASE_SECONDS="10",
        MESSAGES_STUCK_SECONDS="20",
        SIMULATOR_DELIVERED_AFTER="0.5",
        SIMULATOR_READ_AFTER="1",
        C_FORCE_ROOT="1",
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--outage", type=float, default=15)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--deadline", type=float, default=240)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    import psycopg

    directory = Path(tempfile.mkdtemp(prefix="pm-faults-"))
    database = f"plugmessage_faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = _with_db(args.database_url, database)
    redis = Redis(directory)
    receiver = Receiver()
    try:
        redis.start()
        env = system_env(directory, database_url, redis.url)
        instance_id, token = django_setup(env, SETUP.replace("{url}", receiver.url))[
            -2:
        ]

        def read_count(ids: list[str]) -> int:
            if not ids:
                return 0
            with psycopg.connect(database_url) as conn:
                return conn.execute(
                    "SELECT count(*) FROM instances_message"
                    " WHERE id = ANY(%s::uuid[]) AND status = 'read'",
                    [ids],
                ).fetchone()[0]

        figures = run(
            env=env,
            instance_id=instance_id,
            token=token,
            database_check=read_count,
            directory=directory,
            redis=redis,
            receiver=receiver,
            rate=args.rate,
            outage=args.outage,
            deadline=args.deadline,
        )
    finally:
        receiver.close()
        redis.stop()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        _write(args, figures)


def _write(args, figures: dict) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results import section_write

    refused = ", ".join(f"{n} × {k}" for k, n in figures["refused"].items()) or "none"
    ok = (
        figures["lost_messages"] == 0
        and figures["lost_webhooks"] == 0
        and figures["sent_twice"] == 0
        and figures["worker_alive"]
    )
    section_write(
        f"""## Faults

`.venv/bin/python bench/faults.py --outage {args.outage:g} --rate {args.rate:g}`

The whole system on 127.0.0.1 (gunicorn, a Celery worker with two
processes, beat, PostgreSQL, a Redis of the run's own with its append-only
file, a webhook receiver), sending {args.rate:g} texts a second through the
API. At 5 s the worker's process group is killed with SIGKILL in the middle
of its work and a new worker starts 2 s later; at 12 s Redis stops for
{args.outage:g} s while sends keep coming. Measured on
{time.strftime("%Y-%m-%d")} ({platform.machine()}, {os.cpu_count()} CPUs,
Python {platform.python_version()}):

| figure | value |
|---|---:|
| messages accepted (202) | {figures["accepted"]} |
| of them during the Redis outage | {figures["accepted_during_outage"]} |
| sends refused (status × count) | {refused} |
| webhooks expected / received | {figures["webhooks_expected"]} / {figures["webhooks_received"]} |
| messages lost (not read) | {figures["lost_messages"]} |
| webhooks lost | {figures["lost_webhooks"]} |
| messages sent twice | {figures["sent_twice"]} |
| webhooks delivered again (at least once) | {figures["redelivered"]} |
| seconds from Redis's return until the outage's sends were sent | {figures["seconds_outage_sends_out_after_return"]} |
| seconds from Redis's return until everything was read and announced | {figures["seconds_to_drain_after_return"]} |
| worker alive at the end / "Unrecoverable error" lines | {"yes" if figures["worker_alive"] else "no"} / {figures["worker_unrecoverable"]} |
| web log (two gunicorn processes, one line each per outage): lines about the outage / tracebacks | {figures["web_outage_lines"]} / {figures["web_tracebacks"]} |

{"Nothing was lost or sent twice, and the worker survived." if ok else "The run FAILED: see the figures."}
Sends accepted during the outage wait in the database; beat's dispatch
(every 5 s) queues them once Redis answers again. A webhook delivered
again is one whose worker was killed after posting it and before recording
it: deliveries are at least once, and receivers deduplicate by
`webhook-id`.
"""
    )


if __name__ == "__main__":
    main()
