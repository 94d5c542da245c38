"""Row locks: the one way this project takes them.

A bare ``select_for_update`` has two traps. Outside ``transaction.atomic`` it
fails on PostgreSQL (TransactionManagementError: a 500) and silently locks
nothing on SQLite, and a test that runs inside its test case's transaction
sees neither. And a row another transaction holds is waited for without end.
``lock_rows`` and ``lock_one`` refuse the first and bound the second, as
pretix's ``lock_objects`` does.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import OperationalError, connections
from django.db.models import Model, Q, QuerySet
from django.db.transaction import TransactionManagementError
from django.utils.translation import gettext as _

# PostgreSQL's SQLSTATE lock_not_available, raised when lock_timeout expires.
LOCK_NOT_AVAILABLE = "55P03"


class LockOutsideTransaction(TransactionManagementError):
    """Rows were to be locked outside ``transaction.atomic``: a bug in the
    caller, whatever the database."""


class LockTimeout(Exception):
    """Another transaction held the rows for longer than the lock timeout."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message or _("Outra operação está alterando este registro. Tente de novo.")
        )


def lock_rows(
    queryset: QuerySet,
    *,
    skip_locked: bool = False,
    timeout_ms: int | None = None,
) -> list:
    """Lock the rows `queryset` selects (SELECT ... FOR UPDATE) and return
    them, evaluated now, as a list. The queryset may be ordered, sliced or a
    ``values_list``: what it returns is what the list holds.

    Guarantees:
    - It runs only inside ``transaction.atomic``, on every database, or
      raises LockOutsideTransaction before any query. The atomic blocks a
      Django test case wraps each test in do not count: production has none,
      so a lock only they would cover is the bug this check is for.
    - On PostgreSQL the rows stay locked until the outermost transaction
      ends, not the atomic block this was called in.
    - On PostgreSQL it waits at most `timeout_ms` (settings.LOCK_TIMEOUT_MS
      by default) for rows another transaction holds, then raises LockTimeout.
      The transaction is then unusable: let the error leave the atomic block.
      The timeout is set with SET LOCAL, so it also bounds any later lock
      wait in the same transaction, and ends with it.
    - With `skip_locked`, rows another transaction holds are left out instead
      of waited for (claiming work from a queue).
    - On SQLite nothing is locked row by row (a writer locks the whole
      database); only the transaction check applies.
    """
    locking = _locking(queryset, skip_locked=skip_locked, timeout_ms=timeout_ms)
    with lock_timeout_raised():
        return list(locking)


def lock_one(
    model_or_queryset: type[Model] | QuerySet,
    *,
    timeout_ms: int | None = None,
    **lookup,
) -> Model:
    """Lock and return the one row that `lookup` finds, read afresh under the
    lock: ``lock_one(Instance, pk=instance.pk)``. Raises DoesNotExist or
    MultipleObjectsReturned as ``get()`` does; otherwise guarantees what
    lock_rows does."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    locking = _locking(queryset, skip_locked=False, timeout_ms=timeout_ms)
    with lock_timeout_raised():
        return locking.get(**lookup)


def _locking(queryset: QuerySet, *, skip_locked: bool, timeout_ms: int | None):
    locking = queryset.select_for_update(skip_locked=skip_locked)
    connection = connections[locking.db]
    if not _in_transaction(connection):
        raise LockOutsideTransaction(
            f"{queryset.model.__name__} rows are locked only inside "
            "transaction.atomic: outside one, PostgreSQL refuses FOR UPDATE "
            "and SQLite ignores it."
        )
    if connection.vendor == "postgresql":
        if timeout_ms is None:
            timeout_ms = settings.LOCK_TIMEOUT_MS
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(timeout_ms)}ms'")
    return locking


def _in_transaction(connection) -> bool:
    # Django's test cases mark their own atomic blocks _from_testcase (its
    # durable=True check skips them the same way).
    return connection.in_atomic_block and any(
        not getattr(block, "_from_testcase", False)
        for block in connection.atomic_blocks
    )


@contextmanager
def lock_timeout_raised() -> Iterator[None]:
    """Turn PostgreSQL's lock_not_available into LockTimeout: for the
    statements after a lock_rows or lock_one in the same transaction (an
    UPDATE or DELETE that waits on rows held elsewhere), whose wait the
    timeout set there also bounds."""
    try:
        yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise LockTimeout() from error
        raise


# Leases: a worker holds a row (a delivery, an engine event, a logout to
# retry) by writing until when in its `locked_until`, with no transaction
# open while it works; one that dies lets the lease run out.


def lease_free(now: datetime) -> Q:
    """The rows nobody holds at `now`: never leased, or the lease ran out."""
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def lease_take(queryset: QuerySet, *, now: datetime, until: datetime) -> bool:
    """Lease, until `until`, the rows of `queryset` nobody holds, in one
    conditional UPDATE (of two takers, one wins). True when any was taken."""
    return bool(queryset.filter(lease_free(now)).update(locked_until=until))
