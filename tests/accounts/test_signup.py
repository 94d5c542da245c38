import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
STRONG = "Cafe-com-Leite-2026"


def _signup(client, email, password1=STRONG, password2=STRONG):
    return client.post(
        SIGNUP, {"email": email, "password1": password1, "password2": password2}
    )


def _errors_for(response, field):
    return response.context["form"].errors.get(field, [])


def test_the_signup_page_is_in_portuguese(client):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="pt-br"' in body
    assert "Cadastr" in body
    assert "Senha" in body


def test_it_creates_an_unverified_account_and_sends_the_link(client):
    response = _signup(client, "nova@empresa.com.br")

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="nova@empresa.com.br")
    assert user.has_usable_password()
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nova@empresa.com.br"]
    assert re.search(r"/contas/confirmar-email/[-:\w]+/", mail.outbox[0].body)


def test_the_emailed_link_verifies_the_address(client):
    _signup(client, "nova@empresa.com.br")
    link = re.search(
        r"https?://[^/]+(/contas/confirmar-email/[-:\w]+/)", mail.outbox[0].body
    )

    page = client.get(link.group(1))
    assert page.status_code == 200
    confirmed = client.post(link.group(1))

    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(email="nova@empresa.com.br").verified


def test_an_unverified_account_cannot_reach_the_panel(client):
    _signup(client, "nova@empresa.com.br")
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "nova@empresa.com.br", "password": STRONG}
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert client.get(reverse("instances:list")).status_code == 302


def test_it_refuses_an_invalid_email_and_keeps_it(client):
    response = _signup(client, "nao-e-um-email")

    assert response.status_code == 200
    assert _errors_for(response, "email")
    assert "email válido" in str(_errors_for(response, "email"))
    body = response.content.decode()
    assert 'value="nao-e-um-email"' in body
    assert STRONG not in body
    assert not User.objects.exists()


@pytest.mark.parametrize("used", ["dona@exemplo.com.br", "DONA@Exemplo.COM.BR"])
def test_it_refuses_an_email_already_used_in_any_case(client, owner, used):
    response = _signup(client, used)

    assert response.status_code == 200
    errors = str(_errors_for(response, "email"))
    assert "já" in errors.lower()
    assert f'value="{used}"' in response.content.decode()
    assert User.objects.count() == 1


def test_it_refuses_a_weak_password(client):
    response = _signup(client, "nova@empresa.com.br", "12345678", "12345678")

    assert response.status_code == 200
    errors = " ".join(_errors_for(response, "password1"))
    assert "senha" in errors.lower()
    body = response.content.decode()
    assert 'value="nova@empresa.com.br"' in body
    assert 'value="12345678"' not in body
    assert not User.objects.exists()


def test_it_refuses_mismatched_passwords(client):
    response = _signup(client, "nova@empresa.com.br", STRONG, STRONG + "x")

    assert response.status_code == 200
    errors = " ".join(_errors_for(response, "password2"))
    assert "mesma senha" in errors.lower()
    assert 'value="nova@empresa.com.br"' in response.content.decode()
    assert not User.objects.exists()


def test_signup_is_rate_limited_per_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    statuses = [
        _signup(client, f"pessoa{n}@empresa.com.br").status_code for n in range(4)
    ]
    client.logout()
    assert statuses[:3] == [302, 302, 302]
    assert statuses[3] == 429
    assert User.objects.count() == 3
