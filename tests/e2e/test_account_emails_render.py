"""Each account email's HTML, as a mail client shows it: rendered in
Chromium with nothing but its own inline styles, on a desktop and on a
phone. Screenshots in /tmp/shots/account-email-<name>.png."""

import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PASSWORD, InstanceFactory, UserFactory

pytestmark = pytest.mark.django_db

# /tmp/shots, where the screenshots of the panel's pages are looked at too.
SHOTS = Path(tempfile.gettempdir()) / "shots"
NEW = "Outra-Senha-Boa-77"
BRAND = "rgb(15, 118, 110)"  # #0f766e, static/css/email.css


def _signup(client, outbox):
    client.post(
        reverse("account_signup"),
        {"email": "nova@empresa.com.br", "password1": NEW, "password2": NEW},
    )
    return outbox[-1]


def _confirmation(client, outbox):
    user = UserFactory(email="pendente@empresa.com.br", verified_email=False)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    return outbox[-1]


def _reset_key(client, outbox):
    user = UserFactory(email="dona@exemplo.com.br")
    client.post(reverse("account_reset_password"), {"email": user.email})
    return outbox[-1]


def _reset_done(client, outbox):
    link = re.search(r"https?://\S+", _reset_key(client, outbox).body).group()
    form = client.get(urlsplit(link).path, follow=True)
    client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})
    return outbox[-1]


def _unknown(client, outbox):
    client.post(reverse("account_reset_password"), {"email": "ninguem@exemplo.com.br"})
    return outbox[-1]


def _changed(client, outbox):
    client.force_login(UserFactory(email="dona@exemplo.com.br"))
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW},
        HTTP_USER_AGENT=(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        ),
    )
    return outbox[-1]


def _set(client, outbox):
    user = UserFactory(email="sem-senha@empresa.com.br")
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    client.post(reverse("account_set_password"), {"password1": NEW, "password2": NEW})
    return outbox[-1]


def _trial_expired(client, outbox):
    from instances.emails import trial_expired_send

    instance = InstanceFactory(name="Loja Centro")
    trial_expired_send(instance_id=str(instance.pk))
    return outbox[-1]


# name: (how to get it sent, its heading, its button)
EMAILS = {
    "signup-confirmation": (_signup, "Confirme seu e-mail", "Confirmar meu e-mail"),
    "confirmation": (_confirmation, "Confirme seu e-mail", "Confirmar meu e-mail"),
    "password-reset-key": (
        _reset_key,
        "Redefina sua senha",
        "Escolher uma senha nova",
    ),
    "unknown-account": (
        _unknown,
        "Não encontramos uma conta com este e-mail",
        "Criar minha conta",
    ),
    "password-changed": (
        _changed,
        "Sua senha foi alterada",
        "Redefinir minha senha",
    ),
    "password-set": (_set, "Sua conta agora tem senha", "Redefinir minha senha"),
    "password-reset": (
        _reset_done,
        "Sua senha foi redefinida",
        "Redefinir minha senha",
    ),
}


def _open(browser, html: str, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": 700}, locale="pt-BR"
    )
    page = context.new_page()
    page.set_content(html)
    return context, page


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("name", EMAILS)
def test_the_account_email_reads_well_in_a_browser(browser, client, mailoutbox, name):
    send, heading, button = EMAILS[name]
    message = send(client, mailoutbox)
    [(html, _)] = message.alternatives
    link = next(
        line for line in message.body.splitlines() if line.startswith("http")
    ).strip()
    SHOTS.mkdir(parents=True, exist_ok=True)

    for width, suffix in ((720, ""), (375, "-celular")):
        context, page = _open(browser, html, width)
        try:
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(page.get_by_role("link", name="PlugMessage")).to_be_visible()
            expect(page.get_by_text("Equipe PlugMessage")).to_be_visible()
            action = page.get_by_role("link", name=button)
            expect(action).to_be_visible()
            expect(action).to_have_attribute("href", link)
            # Styled by its own style attribute: no stylesheet was loaded.
            expect(action).to_have_css("background-color", BRAND)
            expect(page.get_by_role("link", name=link)).to_be_visible()
            assert _no_sideways_scroll(page), f"{name} scrolls sideways at {width}px"
            page.screenshot(
                path=str(SHOTS / f"account-email-{name}{suffix}.png"), full_page=True
            )
        finally:
            context.close()


def test_a_project_email_shares_the_layout(browser, client, mailoutbox):
    message = _trial_expired(client, mailoutbox)
    [(html, _)] = message.alternatives
    SHOTS.mkdir(parents=True, exist_ok=True)

    context, page = _open(browser, html, 720)
    try:
        expect(page.get_by_role("link", name="PlugMessage")).to_be_visible()
        expect(page.get_by_text("Loja Centro")).to_be_visible()
        expect(page.get_by_text("Mensagem automática do PlugMessage")).to_be_visible()
        assert _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / "account-email-layout-trial-expired.png"))
    finally:
        context.close()
