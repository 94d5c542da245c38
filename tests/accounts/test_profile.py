import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def test_the_owner_sees_the_email_read_only(owner_client, owner):
    response = owner_client.get(PROFILE)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="{owner.email}" readonly' in body
    assert "não pode ser alterado" in body
    assert reverse("support:home") in body
    assert 'name="email"' not in body


def test_an_anonymous_visitor_is_sent_to_login(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_page_shows_only_the_logged_in_customer(client, owner, other):
    client.force_login(other)
    body = client.get(PROFILE).content.decode()

    assert other.email in body
    assert owner.email not in body
    assert owner.full_name not in body


def test_the_owner_renames_themselves(owner_client, owner):
    response = owner_client.post(PROFILE, {"full_name": "  Ana Maria Dona "})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.full_name == "Ana Maria Dona"
    page = owner_client.get(PROFILE)
    assert "Seus dados foram salvos." in page.content.decode()


def test_a_name_too_long_is_refused_and_kept(owner_client, owner):
    long_name = "A" * 151
    response = owner_client.post(PROFILE, {"full_name": long_name})

    assert response.status_code == 200
    assert "no máximo 150" in response.content.decode()
    assert f'value="{long_name}"' in response.content.decode()
    owner.refresh_from_db()
    assert owner.full_name == "Ana Dona"


def test_the_anonymous_post_changes_nothing(client, owner):
    response = client.post(PROFILE, {"full_name": "Invasor"})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.full_name == "Ana Dona"
