"""Rule 1: the email chosen at sign-up never changes through the panel."""

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TAMPERED = "tomada@atacante.com"


def _assert_email_unchanged(user, email):
    user.refresh_from_db()
    assert user.email == email
    assert list(
        EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    ) == [email]
    assert not User.objects.filter(email__iexact=TAMPERED).exists()
    assert not EmailAddress.objects.filter(email__iexact=TAMPERED).exists()


def test_allauths_email_management_view_is_not_routed(owner_client):
    with pytest.raises(NoReverseMatch):
        reverse("account_email")
    assert owner_client.get("/contas/email/").status_code == 404
    assert (
        owner_client.post(
            "/contas/email/", {"email": TAMPERED, "action_add": ""}
        ).status_code
        == 404
    )


def test_a_tampered_profile_post_keeps_the_email(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:profile"), {"full_name": "Ana", "email": TAMPERED}
    )

    assert response.status_code == 302
    _assert_email_unchanged(owner, "dona@exemplo.com.br")
    owner.refresh_from_db()
    assert owner.full_name == "Ana"


def test_a_tampered_password_change_keeps_the_email(owner_client, owner):
    new = "Nova-Senha-Forte-31"
    response = owner_client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": new,
            "password2": new,
            "email": TAMPERED,
        },
    )

    assert response.status_code == 302
    _assert_email_unchanged(owner, "dona@exemplo.com.br")
    owner.refresh_from_db()
    assert owner.check_password(new)


def test_a_tampered_logout_keeps_the_email(owner_client, owner):
    owner_client.post(reverse("account_logout"), {"email": TAMPERED})

    _assert_email_unchanged(owner, "dona@exemplo.com.br")


def test_a_tampered_password_reset_keeps_the_email(client, owner):
    client.post(
        reverse("account_reset_password"), {"email": owner.email, "login": TAMPERED}
    )

    _assert_email_unchanged(owner, "dona@exemplo.com.br")


def test_the_database_refuses_the_same_email_in_another_case(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="DONA@EXEMPLO.COM.BR", password="x")
