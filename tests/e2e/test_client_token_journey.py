import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import client_token_allows
from tests.e2e.conftest import save_screenshot
from tests.e2e.test_instance_journey import _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_generate_copy_activate_rotate_and_deactivate_the_client_token(
    browser, live_server, owner
):
    context = browser.new_context(base_url=live_server.url, locale="pt-BR")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _log_in(page, owner)
        page.get_by_role("navigation").get_by_role("link", name="Minha conta").click()
        page.get_by_role("link", name="Segurança").click()
        expect(page.get_by_text("Nenhum token gerado ainda.")).to_be_visible()
        expect(page.get_by_role("link", name="Ativar")).to_have_count(0)

        page.get_by_role("button", name="Gerar token").click()
        expect(page.get_by_text("não será mostrado de novo")).to_be_visible()
        first = page.locator("#client-token").text_content()
        page.get_by_role("button", name="Copiar").click()
        assert page.evaluate("navigator.clipboard.readText()") == first
        save_screenshot(page, "client-token-created")

        page.reload()
        expect(page.get_by_text(first[:4] + "…")).to_be_visible()
        expect(page.get_by_text(first)).to_have_count(0)

        page.get_by_role("link", name="Ativar").click()
        expect(page.get_by_text("recusadas com o erro 401")).to_be_visible()
        page.get_by_role("button", name="Sim, ativar").click()
        expect(page.get_by_text("Ativo", exact=True)).to_be_visible()
        assert not client_token_allows(user=User.objects.get(pk=owner.pk), given=None)

        page.get_by_role("link", name="Gerar novo token").click()
        page.get_by_role("button", name="Sim, gerar novo token").click()
        expect(page.get_by_text("O anterior já não funciona.")).to_be_visible()
        second = page.locator("#client-token").text_content()
        fresh = User.objects.get(pk=owner.pk)
        assert client_token_allows(user=fresh, given=second)
        assert not client_token_allows(user=fresh, given=first)

        page.get_by_role("button", name="Desativar").click()
        expect(page.get_by_text("Desativado", exact=True)).to_be_visible()
        assert client_token_allows(user=User.objects.get(pk=owner.pk), given=None)
    finally:
        context.close()
