"""The account emails allauth sends (templates/account/email/): PlugMessage's
words in Portuguese, text and HTML in the shared layout, the site's name from
SITE_NAME, every link alone on its line and working when followed."""

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "Cafe-com-Leite-2026"
NEW = "Outra-Senha-Boa-77"
# Punctuation that, glued to a link, mail clients take into the link.
GLUED = ".,;:!?)»\"'"


class _Page(HTMLParser):
    """The links (href and text), the style attributes and the <style>
    elements of an HTML email."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.styled: list[str] = []
        self.style_elements = 0
        self._href: str | None = None
        self._text: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.styled.append(tag)
        if tag == "style":
            self.style_elements += 1
        if tag == "a":
            self._href, self._text = attrs.get("href"), []

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None

    def handle_data(self, data):
        self.text.append(data)
        if self._href is not None:
            self._text.append(data)


def _html(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def _link(body: str, path_prefix: str) -> str:
    """The one link in the text body under `path_prefix`, checked to stand
    alone on its line with no punctuation glued to it."""
    links = [
        link
        for link in re.findall(r"https?://\S+", body)
        if urlsplit(link).path.startswith(path_prefix)
    ]
    assert len(links) == 1, links
    [link] = links
    assert link[-1] not in GLUED
    assert link in [line.strip() for line in body.splitlines()]
    return link


def _assert_in_plugmessage_voice(message, subject: str, link: str) -> None:
    assert message.subject == f"[PlugMessage] {subject}"
    body = message.body
    assert body.startswith("Olá,\n")
    assert "Equipe PlugMessage" in body
    assert "Olá da" not in body and "Hello" not in body
    assert "testserver!" not in body
    assert f"{link}." not in body

    html = _html(message)
    page = _Page(html)
    assert '<html lang="pt-br">' in html
    assert "Equipe PlugMessage" in html
    assert "Olá da" not in html
    # The stylesheet went into style attributes: no <style> is left, and
    # the layout and the button carry their styles themselves.
    assert page.style_elements == 0
    assert {"body", "table", "td", "a", "p"} <= set(page.styled)
    # The HTML email's button and the address written out below it are the
    # text email's link, whole.
    assert [text for href, text in page.links if href == link][1] == link
    assert len([href for href, _ in page.links if href == link]) == 2


def _signup(client, email="nova@empresa.com.br"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": STRONG, "password2": STRONG},
    )


def test_the_sign_up_email_asks_to_confirm_with_a_working_link(client, mailoutbox):
    _signup(client)

    [message] = mailoutbox
    assert message.to == ["nova@empresa.com.br"]
    link = _link(message.body, "/contas/confirmar-email/")
    _assert_in_plugmessage_voice(
        message, "Confirme seu e-mail para ativar sua conta", link
    )
    assert "Obrigado por criar sua conta no PlugMessage" in message.body
    assert re.search(r"O link vale por 3\sdias", message.body)
    assert "Confirmar meu e-mail" in _html(message)

    path = urlsplit(link).path
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert EmailAddress.objects.get(email="nova@empresa.com.br").verified


def test_logging_in_unconfirmed_sends_the_confirmation_again(client, mailoutbox):
    user = UserFactory(email="pendente@empresa.com.br", verified_email=False)

    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    [message] = mailoutbox
    link = _link(message.body, "/contas/confirmar-email/")
    _assert_in_plugmessage_voice(message, "Confirme seu e-mail", link)
    assert "confirme que o e-mail pendente@empresa.com.br é seu" in message.body
    assert re.search(r"O link vale por 3\sdias", message.body)

    client.post(urlsplit(link).path)
    assert EmailAddress.objects.get(user=user).verified


def test_the_password_reset_email_links_to_a_new_password(client, owner, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": owner.email})

    [message] = mailoutbox
    assert message.to == [owner.email]
    link = _link(message.body, "/contas/senha/redefinir/chave/")
    _assert_in_plugmessage_voice(message, "Redefina sua senha", link)
    assert f"sua conta no PlugMessage ({owner.email})" in message.body
    assert re.search(
        r"O link vale por 3\sdias e só pode ser usado uma vez", message.body
    )

    form = client.get(urlsplit(link).path, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW)

    # …and the customer is told the password was reset.
    notice = mailoutbox[1]
    forgot = _link(notice.body, reverse("account_reset_password"))
    _assert_in_plugmessage_voice(notice, "Sua senha foi redefinida", forgot)
    assert "foi redefinida pelo link" in notice.body


def test_the_reset_link_lasts_as_long_as_the_setting_says(
    client, owner, mailoutbox, settings
):
    settings.PASSWORD_RESET_TIMEOUT = 3600

    client.post(reverse("account_reset_password"), {"email": owner.email})

    assert re.search(r"O link vale por 1\shora", mailoutbox[0].body)
    assert re.search(r"O link vale por 1(\s|&nbsp;)hora", _html(mailoutbox[0]))


def test_an_unknown_email_is_told_there_is_no_account(client, owner, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "ninguem@exemplo.com.br"})

    [message] = mailoutbox
    assert message.to == ["ninguem@exemplo.com.br"]
    link = _link(message.body, reverse("account_signup"))
    _assert_in_plugmessage_voice(
        message, "Não encontramos uma conta com este e-mail", link
    )
    assert "não há nenhuma conta com este endereço" in message.body
    assert "/senha/redefinir/chave/" not in message.body
    assert client.get(urlsplit(link).path).status_code == 200


@time_machine.travel(datetime(2026, 3, 10, 15, 4, tzinfo=UTC), tick=False)
def test_a_changed_password_is_told_with_when_and_where(client, owner, mailoutbox):
    client.force_login(owner)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW},
        HTTP_USER_AGENT="Firefox de teste",
    )

    assert response.status_code == 302
    [message] = mailoutbox
    assert message.to == [owner.email]
    link = _link(message.body, reverse("account_reset_password"))
    _assert_in_plugmessage_voice(message, "Sua senha foi alterada", link)
    assert f"A senha da sua conta no PlugMessage ({owner.email}) foi alterada" in (
        message.body
    )
    # São Paulo's time, three hours behind UTC.
    assert "Quando: 10/03/2026 às 12:04 (horário de Brasília)" in message.body
    assert "Endereço IP: 127.0.0.1" in message.body
    assert "Navegador: Firefox de teste" in message.body
    assert "Se não foi você" in message.body
    html = _html(message)
    assert "10/03/2026 às 12:04" in html and "Firefox de teste" in html

    client.logout()
    assert client.get(urlsplit(link).path).status_code == 200


def test_a_password_set_for_the_first_time_is_told(client, mailoutbox):
    user = UserFactory(email="sem-senha@empresa.com.br")
    user.set_unusable_password()
    user.save()
    client.force_login(user)

    response = client.post(
        reverse("account_set_password"), {"password1": NEW, "password2": NEW}
    )

    assert response.status_code == 302
    [message] = mailoutbox
    link = _link(message.body, reverse("account_reset_password"))
    _assert_in_plugmessage_voice(message, "Sua conta agora tem senha", link)
    assert "Foi definida uma senha para a sua conta no PlugMessage" in message.body
    # The test client sends no User-Agent.
    assert "Navegador: desconhecido" in message.body
    assert "Unspecified" not in message.body + _html(message)


def test_the_emails_carry_the_site_name_from_settings(client, settings, mailoutbox):
    settings.SITE_NAME = "Zap Empresa"

    _signup(client)

    [message] = mailoutbox
    assert message.subject == "[Zap Empresa] Confirme seu e-mail para ativar sua conta"
    assert "sua conta no Zap Empresa" in message.body
    assert "Equipe Zap Empresa" in message.body
    assert "PlugMessage" not in message.body
    assert "PlugMessage" not in _html(message)
    assert "Zap Empresa" in _Page(_html(message)).links[0][1]
    assert User.objects.filter(email="nova@empresa.com.br").exists()
