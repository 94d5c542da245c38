import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import (
    client_token_allows,
    client_token_create,
    client_token_enable,
)

pytestmark = pytest.mark.django_db


# Services


def test_the_client_token_is_off_and_absent_by_default(owner):
    assert owner.client_token_enabled is False
    assert owner.client_token_digest == ""
    assert owner.client_token_hint == ""


def test_creating_returns_a_token_that_matches_and_only_its_digest_is_kept(owner):
    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    owner.refresh_from_db()
    assert len(token) == 40 and token.isalnum()
    assert client_token_allows(user=owner, given=token)
    assert owner.client_token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert owner.client_token_hint == token[:4] + "…"
    assert owner.client_token_created_at is not None
    stored = User.objects.filter(pk=owner.pk).values().get()
    assert token not in {str(value) for value in stored.values()}


def test_each_account_gets_a_different_token(owner, other):
    assert client_token_create(user=owner) != client_token_create(user=other)


def test_rotation_invalidates_the_old_token_at_once(owner):
    old = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    new = client_token_create(user=owner)

    fresh = User.objects.get(pk=owner.pk)
    assert not client_token_allows(user=fresh, given=old)
    assert client_token_allows(user=fresh, given=new)
    assert fresh.client_token_enabled is True


def test_off_by_default_allows_anything(owner):
    assert client_token_allows(user=owner, given=None)
    assert client_token_allows(user=owner, given="")
    assert client_token_allows(user=owner, given="qualquer-coisa")


def test_a_token_created_but_off_still_allows_calls_without_it(owner):
    client_token_create(user=owner)

    assert client_token_allows(user=owner, given=None)
    assert client_token_allows(user=owner, given="errado")


def test_on_without_the_header_refuses(owner):
    client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    assert not client_token_allows(user=owner, given=None)
    assert not client_token_allows(user=owner, given="")


def test_on_with_a_wrong_token_refuses(owner, other):
    token = client_token_create(user=owner)
    other_token = client_token_create(user=other)
    client_token_enable(user=owner, enabled=True)

    assert not client_token_allows(user=owner, given=other_token)
    assert not client_token_allows(user=owner, given=token[:-1])
    assert not client_token_allows(user=owner, given=token + " ")
    assert not client_token_allows(user=owner, given=token.lower())


def test_on_with_the_right_token_allows(owner):
    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    assert client_token_allows(user=owner, given=token)


def test_turning_it_off_allows_calls_without_it_again(owner):
    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    client_token_enable(user=owner, enabled=False)

    owner.refresh_from_db()
    assert client_token_allows(user=owner, given=None)
    assert owner.client_token_hint == token[:4] + "…"


def test_the_check_makes_no_query(owner, django_assert_num_queries):
    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)
    loaded = User.objects.get(pk=owner.pk)

    with django_assert_num_queries(0):
        assert client_token_allows(user=loaded, given=token)
        assert not client_token_allows(user=loaded, given="errado")


def test_enabling_without_a_token_is_refused_in_portuguese(owner):
    with pytest.raises(ValidationError) as error:
        client_token_enable(user=owner, enabled=True)

    assert error.value.messages == ["Gere um Client-Token antes de ativá-lo."]
    owner.refresh_from_db()
    assert owner.client_token_enabled is False


def test_the_database_refuses_an_active_client_token_without_a_token(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=owner.pk).update(client_token_enabled=True)
