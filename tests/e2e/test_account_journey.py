import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "joana@padaria.com.br"
PASSWORD = "Pao-de-Queijo-2026"


def test_sign_up_verify_log_in_and_see_the_permanent_email(
    page, screenshot, mailoutbox
):
    page.goto("/contas/cadastro/")
    screenshot("signup")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Senha", exact=True).fill(PASSWORD)
    page.get_by_label("Repita a senha").fill(PASSWORD)
    page.get_by_role("button", name="Criar conta").click()

    expect(
        page.get_by_role("heading", name="Verifique seu endereço de e-mail")
    ).to_be_visible()
    assert len(mailoutbox) == 1
    link = re.search(
        r"https?://\S+/contas/confirmar-email/\S+/", mailoutbox[0].body
    ).group(0)

    page.goto(link)
    page.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    screenshot("login")

    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Senha", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()

    expect(page.get_by_role("heading", name="Instâncias", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Instâncias")).to_have_attribute(
        "aria-current", "page"
    )
    screenshot("instances-empty")

    page.get_by_role("link", name="Minha conta").click()
    email = page.get_by_label("E-mail")
    expect(email).to_have_value(EMAIL)
    expect(email).not_to_be_editable()
    expect(page.get_by_text("não pode ser alterado")).to_be_visible()
    screenshot("minha-conta")
    assert User.objects.get(email=EMAIL).emailaddress_set.get().verified


def test_bad_sign_up_input_is_explained_beside_the_fields(page, screenshot):
    page.goto("/contas/cadastro/")
    page.get_by_label("E-mail").fill("joana@padaria")
    page.get_by_label("Senha", exact=True).fill("12345678")
    page.get_by_label("Repita a senha").fill("87654321")
    page.get_by_role("button", name="Criar conta").click()

    expect(page.get_by_text("Informe um endereço de email válido.")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value("joana@padaria")
    expect(page.get_by_label("Senha", exact=True)).to_have_value("")
    screenshot("signup-errors")


def test_the_panel_fits_a_phone_screen(page, screenshot, owner):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/contas/entrar/")
    page.get_by_label("E-mail").fill(owner.email)
    page.get_by_label("Senha", exact=True).fill("senha-de-teste-9281")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Instâncias", exact=True)).to_be_visible()

    expect(page.get_by_role("link", name="Boletos")).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("link", name="Boletos")).to_be_visible()
    screenshot("phone-menu")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375


def test_the_api_docs_open_from_the_sidebar(page, screenshot, owner):
    page.goto("/contas/entrar/")
    page.get_by_label("E-mail").fill(owner.email)
    page.get_by_label("Senha", exact=True).fill("senha-de-teste-9281")
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("link", name="Documentação").click()

    expect(page.get_by_role("heading", name="Documentação da API")).to_be_visible()
    expect(page.get_by_text("/instances/{instance_id}/send-text").first).to_be_visible(
        timeout=15_000
    )
    screenshot("api-docs")
