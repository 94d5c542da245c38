import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def test_a_verified_customer_lands_on_instances(client, owner):
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("instances:list")


def test_the_email_is_matched_in_any_letter_case(client, owner):
    response = client.post(
        LOGIN, {"login": "DONA@Exemplo.com.br", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("instances:list")


def test_a_wrong_password_gets_a_message_and_keeps_the_email(client, owner):
    response = client.post(LOGIN, {"login": owner.email, "password": "errada-123"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "incorretos" in body
    assert f'value="{owner.email}"' in body
    assert "errada-123" not in body


def test_failed_logins_are_rate_limited_per_account(client, owner):
    for _ in range(5):
        client.post(LOGIN, {"login": owner.email, "password": "errada-123"})

    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Muitas tentativas" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_asks_with_a_post_and_ends_the_session(owner_client):
    response = owner_client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response.url == LOGIN
    assert owner_client.get(reverse("instances:list")).status_code == 302


def test_password_reset_sends_a_working_link(client, owner, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": owner.email})

    assert len(mailoutbox) == 1
    path = next(
        word for word in mailoutbox[0].body.split() if "/senha/redefinir/chave/" in word
    )
    path = path[path.index("/contas/") :]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new = "Outra-Senha-Boa-77"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"password1": new, "password2": new},
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new)


def test_after_login_the_panel_says_voce_entrou_not_conectado(client, owner):
    """ "Conectado" is the WhatsApp state customers learn on every page: the
    login message does not use it."""
    response = client.post(
        LOGIN, {"login": owner.email, "password": PASSWORD}, follow=True
    )

    body = response.content.decode()
    assert "Você entrou como" in body
    assert "Conectado com sucesso" not in body


def test_password_reset_answers_the_same_for_an_unknown_email(
    client, owner, mailoutbox
):
    url = reverse("account_reset_password")
    known = client.post(url, {"email": owner.email})
    unknown = client.post(url, {"email": "ninguem@exemplo.com.br"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    page = client.get(unknown.url).content.decode()
    assert "não está atribuído" not in page
    # The owner gets a link; the unknown address is told there is no account.
    assert [m.to for m in mailoutbox] == [[owner.email], ["ninguem@exemplo.com.br"]]
