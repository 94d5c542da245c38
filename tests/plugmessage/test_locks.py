"""The row-lock helper: only inside a transaction of the code's own, and on
PostgreSQL never waiting longer than the lock timeout."""

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.models import User
from plugmessage.locks import LockOutsideTransaction, LockTimeout, lock_one, lock_rows
from tests.helpers import ROOT, at_the_same_moment, holding_the_row

POSTGRESQL_ONLY = "row locks are tested on PostgreSQL (make test with DATABASE_URL)"


def test_no_code_but_the_helper_locks_rows():
    packages = [
        folder
        for folder in ROOT.iterdir()
        if (folder / "__init__.py").exists() and folder.name != "tests"
    ]
    bare = [
        str(path.relative_to(ROOT))
        for folder in packages
        for path in folder.rglob("*.py")
        if path != ROOT / "plugmessage" / "locks.py"
        and ".select_for_update(" in path.read_text()
    ]
    assert packages and bare == []


@pytest.mark.django_db
def test_the_test_cases_own_transaction_does_not_count_as_one(owner):
    with pytest.raises(LockOutsideTransaction):
        lock_one(User, pk=owner.pk)
    with pytest.raises(LockOutsideTransaction):
        lock_rows(User.objects.all())


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_lock_in_autocommit_on_every_database(owner):
    with pytest.raises(LockOutsideTransaction, match="transaction.atomic"):
        lock_one(User, pk=owner.pk)
    with pytest.raises(LockOutsideTransaction):
        lock_rows(User.objects.filter(pk=owner.pk), skip_locked=True)


@pytest.mark.django_db
def test_inside_a_transaction_it_returns_the_rows_read_afresh(owner, other):
    User.objects.filter(pk=owner.pk).update(full_name="Ana Renomeada")
    with transaction.atomic():
        locked = lock_one(User.objects.filter(is_staff=False), pk=owner.pk)
        emails = lock_rows(
            User.objects.order_by("email").values_list("email", flat=True)[:2]
        )

    assert locked.full_name == "Ana Renomeada"
    assert emails == ["dona@exemplo.com.br", "outro@exemplo.com.br"]
    with transaction.atomic(), pytest.raises(User.DoesNotExist):
        lock_one(User, pk=0)


@pytest.mark.django_db(transaction=True)
def test_the_lock_timeout_is_set_for_the_rest_of_the_transaction(owner, settings):
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRESQL_ONLY)
    settings.LOCK_TIMEOUT_MS = 1234
    with transaction.atomic():
        lock_one(User, pk=owner.pk)
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "1234ms"
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db(transaction=True)
def test_a_row_held_elsewhere_is_given_up_after_the_timeout_not_waited_for(owner):
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRESQL_ONLY)
    held, release, waited = threading.Event(), threading.Event(), []

    def wait_for_the_row():
        assert held.wait(timeout=20)
        started = time.monotonic()
        try:
            with transaction.atomic():
                lock_one(User, pk=owner.pk, timeout_ms=200)
        finally:
            waited.append(time.monotonic() - started)
            release.set()

    results, errors = at_the_same_moment(
        [holding_the_row(User, owner.pk, held=held, release=release), wait_for_the_row]
    )

    assert results == ["held"]
    assert [type(error) for error in errors] == [LockTimeout]
    assert 0.2 <= waited[0] < 5


@pytest.mark.django_db(transaction=True)
def test_skip_locked_leaves_out_rows_held_elsewhere(owner, other):
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRESQL_ONLY)
    held, release = threading.Event(), threading.Event()

    def claim_the_free_rows():
        assert held.wait(timeout=20)
        try:
            with transaction.atomic():
                return lock_rows(
                    User.objects.order_by("email").values_list("email", flat=True),
                    skip_locked=True,
                )
        finally:
            release.set()

    results, errors = at_the_same_moment(
        [
            holding_the_row(User, owner.pk, held=held, release=release),
            claim_the_free_rows,
        ]
    )

    assert errors == []
    assert len(results) == 2
    assert "held" in results
    assert ["outro@exemplo.com.br"] in results
