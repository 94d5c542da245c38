"""Issuing a month's invoices: time and queries for 1 000 and for 10 000
accounts with 3 subscribed instances each, in the same run.

    .venv/bin/python bench/invoices.py --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a throw-away database, fills it with bulk inserts (not measured),
then measures invoices_issue_for_period for a month in which the first
1 000 accounts were subscribed, and for one in which all 10 000 were. The
growth must be linear (time per account about the same at both sizes) with
a constant number of queries per account at most. Goal: 10 000 accounts in
under 60 s. Writes the figures to bench/RESULTS.md (section "Invoices").
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from poll import _with_db  # noqa: E402
from results import section_write  # noqa: E402

# Django runs in this process: the project's apps, not bench/webhooks.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

SMALL, LARGE, PER_ACCOUNT = 1_000, 10_000, 3


def _fill(small: int, large: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from billing.models import BillingProfile, SubscriptionPeriod
    from instances.models import Instance, token_digest, token_generate

    password = make_password(None)
    september = timezone.make_aware(datetime(2026, 9, 1))
    october = timezone.make_aware(datetime(2026, 10, 1))
    batch = 2_000
    for start in range(0, large, batch):
        users = User.objects.bulk_create(
            User(email=f"conta{n}@bench.local", password=password)
            for n in range(start, min(start + batch, large))
        )
        BillingProfile.objects.bulk_create(
            BillingProfile(
                account=user,
                name=f"Conta {user.pk}",
                document="11222333000181",
                email=user.email,
                postal_code="01310100",
                street="Avenida Paulista",
                number="1000",
                district="Bela Vista",
                city="São Paulo",
                state="SP",
            )
            for user in users
        )
        instances, periods = [], []
        for offset, user in enumerate(users):
            # The first `small` accounts since September, the rest since October.
            since = september if start + offset < small else october
            for i in range(PER_ACCOUNT):
                token = token_generate()
                instance = Instance(
                    id=uuid.uuid4(),
                    owner=user,
                    name=f"Instância {i + 1}",
                    token=token,
                    token_digest=token_digest(token),
                    created_at=since,
                    trial_ends_at=since,
                    subscribed_since=since,
                )
                instances.append(instance)
                periods.append(
                    SubscriptionPeriod(
                        account=user,
                        instance=instance,
                        instance_uuid=instance.id,
                        instance_name=instance.name,
                        started_at=since,
                    )
                )
        Instance.objects.bulk_create(instances)
        SubscriptionPeriod.objects.bulk_create(periods)


def _issue(period: date) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import services

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        created = services.invoices_issue_for_period(
            period=period, today=date(2026, 11, 1)
        )
        elapsed = time.perf_counter() - started
    return elapsed, len(queries.captured_queries), created


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--large", type=int, default=LARGE)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    import psycopg

    database = f"plugmessage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(
        DATABASE_URL=_with_db(args.database_url, database),
        VAR_DIR=tempfile.mkdtemp(prefix="pm-bench-"),
        DJANGO_SETTINGS_MODULE="plugmessage.settings",
    )
    os.environ.pop("REDIS_URL", None)
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        _fill(args.small, args.large)
        filled = time.perf_counter() - started
        small = _issue(date(2026, 9, 1))
        large = _issue(date(2026, 10, 1))
        from django.db import connections

        connections.close_all()
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    assert small[2] == args.small and large[2] == args.large, (small, large)
    rows = []
    for label, (elapsed, queries, created) in (
        (f"{args.small:,}", small),
        (f"{args.large:,}", large),
    ):
        rows.append(
            f"| {label} | {elapsed:.2f} s | {elapsed / created * 1000:.2f} ms "
            f"| {queries} | {queries / created:.3f} |"
        )
    growth = (large[0] / large[2]) / (small[0] / small[2])
    table = "\n".join(
        [
            "| accounts (3 instances each) | time | per account | queries | queries per account |",
            "|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    print(f"time per account at {args.large:,} ÷ at {args.small:,}: {growth:.2f}")
    if args.no_write:
        return
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    verdict = (
        "The goal is met." if large[0] < 60 and growth < 1.5 else "The goal is not met."
    )
    section = f"""## Invoices

`.venv/bin/python bench/invoices.py --database-url {args.database_url}`

A throw-away PostgreSQL database filled by bulk inserts ({filled:.0f} s, not
measured) with {args.large:,} accounts of 3 subscribed instances each; the first
{args.small:,} subscribed since September, all of them in October. Measured:
`invoices_issue_for_period` for September ({args.small:,} invoices) and for
October ({args.large:,} invoices), lines included; the boletos are issued
afterwards by their own task, one provider call each. Goal: {args.large:,}
accounts in under 60 s, growing linearly, with a constant number of queries
per account at most. Measured on {time.strftime("%Y-%m-%d")} ({machine}):

{table}

Time per account at {args.large:,} ÷ time per account at {args.small:,}:
{growth:.2f} (1.00 is perfectly linear). Queries come in batches of 500
accounts (their billing data, the invoices with ON CONFLICT DO NOTHING, the
ids that made it in, their lines), so they grow with the number of batches,
not of accounts. {verdict}
"""
    section_write(section)


if __name__ == "__main__":
    main()
