import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_finds_an_action_in_the_reference_and_reads_it(page, screenshot):
    page.goto("/api/docs")
    expect(page.get_by_role("heading", name="Referência", exact=True)).to_be_visible()
    operation = page.locator("details#post-send-text")
    expect(operation).not_to_have_attribute("open", "")

    page.get_by_role("navigation", name="Ações da API").get_by_role(
        "link", name="Enviar texto", exact=True
    ).click()
    # The index link opens the action it points at.
    expect(operation).to_have_attribute("open", "")
    expect(operation.get_by_text("Corpo do pedido (JSON)")).to_be_visible()
    expect(operation.get_by_text("202 Aceito: na fila para envio")).to_be_visible()
    expect(
        operation.get_by_text("/instances/{instance_id}/token/{token}/send-text")
    ).to_be_visible()
    screenshot("api-reference")
    operation.screenshot(path=str(SCREENSHOTS / "api-reference-send-text.png"))

    # Opening it by hand works without the index, as any <details>.
    status = page.locator("details#get-status")
    status.get_by_text("Estado da instância").click()
    expect(status).to_have_attribute("open", "")
    expect(page.get_by_text("Swagger")).to_have_count(0)
    expect(page.get_by_text("Expand all")).to_have_count(0)
