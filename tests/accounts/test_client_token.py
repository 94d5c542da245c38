import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from accounts.services import (
    client_token_allows,
    client_token_create,
    client_token_enable,
    client_token_is_current,
)
from tests.factories import UserFactory

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


# The Segurança page

SECURITY = reverse("accounts:security")
GENERATE = reverse("accounts:client_token_generate")
ACTIVATE = reverse("accounts:client_token_activate")
DEACTIVATE = reverse("accounts:client_token_deactivate")


def test_the_owner_sees_an_explained_client_token_that_is_off(owner_client):
    response = owner_client.get(SECURITY)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Client-Token" in body
    assert "401" in body
    assert "Desativado" in body
    assert "Nenhum token gerado ainda." in body
    assert f'action="{GENERATE}"' in body
    assert ACTIVATE not in body
    assert response.templates[0].name == "accounts/security.html"


def test_minha_conta_links_to_the_security_tab(owner_client):
    body = owner_client.get(reverse("accounts:profile")).content.decode()

    assert f'href="{SECURITY}"' in body
    security = owner_client.get(SECURITY).content.decode()
    assert f'<a href="{SECURITY}" aria-current="page">Segurança</a>' in security


def test_an_anonymous_visitor_is_sent_to_login_from_every_security_view(client, owner):
    for url in (SECURITY, GENERATE, ACTIVATE):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    for url in (GENERATE, ACTIVATE, DEACTIVATE):
        response = client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    owner.refresh_from_db()
    assert owner.client_token_digest == ""
    assert owner.client_token_enabled is False


def test_the_security_page_is_get_only(owner_client, owner):
    response = owner_client.post(SECURITY)

    assert response.status_code == 405
    owner.refresh_from_db()
    assert owner.client_token_digest == ""


def test_deactivating_is_post_only(owner_client, owner):
    client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    response = owner_client.get(DEACTIVATE)

    assert response.status_code == 405
    owner.refresh_from_db()
    assert owner.client_token_enabled is True


def test_generating_shows_the_token_once_with_a_copy_button(owner_client, owner):
    response = owner_client.post(GENERATE)

    assert response.status_code == 302
    assert response.url == SECURITY
    owner.refresh_from_db()
    page = owner_client.get(SECURITY)
    token = page.context["new_token"]
    assert client_token_is_current(user=owner, token=token)
    body = page.content.decode()
    assert f'<code id="client-token">{token}</code>' in body
    assert 'data-copy="client-token"' in body
    assert "não será mostrado de novo" in body
    assert owner.client_token_hint in body

    second = owner_client.get(SECURITY).content.decode()
    assert token not in second
    assert owner.client_token_hint in second


def test_the_token_never_travels_in_the_redirect(owner_client, owner):
    response = owner_client.post(GENERATE)

    page = owner_client.get(SECURITY)
    token = page.context["new_token"]
    assert token not in response.url
    assert token not in str(response.cookies)
    assert token not in str(page.cookies)


def test_pages_that_may_show_the_token_are_not_cached(owner_client):
    for response in (owner_client.post(GENERATE), owner_client.get(SECURITY)):
        assert "no-store" in response["Cache-Control"]


def test_a_token_replaced_before_it_was_shown_is_not_shown(owner_client, owner):
    owner_client.post(GENERATE)
    client_token_create(user=owner)  # another tab rotates first

    page = owner_client.get(SECURITY)

    assert page.context["new_token"] is None
    assert 'id="client-token"' not in page.content.decode()


def test_rotation_asks_first_and_says_what_breaks(owner_client, owner):
    client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)
    digest = User.objects.get(pk=owner.pk).client_token_digest

    response = owner_client.get(GENERATE)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Sim, gerar novo token" in body
    assert "deixa de funcionar imediatamente" in body
    assert "401" in body
    assert owner.client_token_hint in body
    assert User.objects.get(pk=owner.pk).client_token_digest == digest


def test_confirmed_rotation_replaces_the_token_and_shows_the_new_one(
    owner_client, owner
):
    old = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    owner_client.post(GENERATE)
    page = owner_client.get(SECURITY)

    new = page.context["new_token"]
    owner.refresh_from_db()
    assert new != old
    assert not client_token_allows(user=owner, given=old)
    assert client_token_allows(user=owner, given=new)
    assert owner.client_token_enabled is True
    assert "O anterior já não funciona." in page.content.decode()


def test_without_a_token_there_is_nothing_to_rotate_or_activate(owner_client):
    assert owner_client.get(GENERATE).url == SECURITY
    assert owner_client.get(ACTIVATE).url == SECURITY


def test_activating_asks_first_and_warns_about_401(owner_client, owner):
    client_token_create(user=owner)

    response = owner_client.get(ACTIVATE)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Sim, ativar" in body
    assert "401" in body
    assert owner.client_token_hint in body
    owner.refresh_from_db()
    assert owner.client_token_enabled is False


def test_the_owner_activates_and_deactivates(owner_client, owner):
    token = client_token_create(user=owner)

    response = owner_client.post(ACTIVATE)

    assert response.url == SECURITY
    owner.refresh_from_db()
    assert owner.client_token_enabled is True
    assert not client_token_allows(user=owner, given=None)
    page = owner_client.get(SECURITY).content.decode()
    assert "Client-Token ativado" in page
    assert f'action="{DEACTIVATE}"' in page
    assert token not in page

    owner_client.post(DEACTIVATE)

    owner.refresh_from_db()
    assert owner.client_token_enabled is False
    assert client_token_allows(user=owner, given=None)
    assert "Client-Token desativado" in owner_client.get(SECURITY).content.decode()


def test_activating_without_a_token_is_refused_and_explained(owner_client, owner):
    response = owner_client.post(ACTIVATE, follow=True)

    owner.refresh_from_db()
    assert owner.client_token_enabled is False
    assert "Gere um Client-Token antes de ativá-lo." in response.content.decode()


def test_each_customer_changes_only_their_own_token(client, owner, other):
    client_token_create(user=owner)
    owner_digest = User.objects.get(pk=owner.pk).client_token_digest
    client.force_login(other)

    client.post(GENERATE)
    client.post(ACTIVATE)
    page = client.get(SECURITY)

    owner.refresh_from_db()
    other.refresh_from_db()
    assert owner.client_token_digest == owner_digest
    assert owner.client_token_enabled is False
    assert other.client_token_enabled is True
    assert other.client_token_digest != owner_digest
    assert owner.email not in page.content.decode()


# The admin


def test_staff_see_whether_it_is_on_and_its_hint_but_never_the_token(
    staff_client, owner
):
    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)
    owner.refresh_from_db()

    response = staff_client.get(reverse("admin:accounts_user_change", args=[owner.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Client-Token da API" in body
    assert "Ativo: as chamadas à API sem ele são recusadas" in body
    assert owner.client_token_hint in body
    assert owner.client_token_digest not in body
    assert token not in body
    assert 'name="client_token' not in body


def test_the_admin_lists_customers_by_client_token_state(staff_client, owner, other):
    client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)

    response = staff_client.get(
        reverse("admin:accounts_user_changelist"), {"client_token_enabled__exact": "1"}
    )

    body = response.content.decode()
    assert owner.email in body
    assert other.email not in body


def test_a_superuser_edit_cannot_touch_the_client_token(client, owner):
    client_token_create(user=owner)
    before = User.objects.filter(pk=owner.pk).values().get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        {
            "full_name": "Ana Dona",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "client_token_enabled": "on",
            "client_token_digest": "0" * 64,
            "client_token_hint": "abcd…",
        },
    )

    assert response.status_code == 302
    after = User.objects.filter(pk=owner.pk).values().get()
    for field in ("enabled", "digest", "hint", "created_at"):
        assert after[f"client_token_{field}"] == before[f"client_token_{field}"]


def test_the_customer_360_page_says_whether_the_client_token_is_on(staff_client, owner):
    page = reverse("admin:support_customer_change", args=[owner.pk])
    assert "Nunca gerado" in staff_client.get(page).content.decode()

    token = client_token_create(user=owner)
    client_token_enable(user=owner, enabled=True)
    owner.refresh_from_db()

    body = staff_client.get(page).content.decode()
    assert "Client-Token da API: Ativo" in body
    assert f"<code>{owner.client_token_hint}</code>" in body
    assert token not in body
    assert owner.client_token_digest not in body
