import base64
from datetime import date

import pytest
from playwright.sync_api import expect

from billing import services
from billing.models import Invoice, SubscriptionPeriod
from billing.providers.base import PaymentNotice
from instances import services as instance_services
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.e2e.conftest import save_screenshot
from tests.e2e.test_instance_journey import _log_in
from tests.factories import InstanceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_trial_banner_then_assinar_with_billing_data(page, screenshot, owner):
    instance_services.instance_create(owner=owner, name="Loja Centro")
    _log_in(page, owner)
    expect(page.get_by_text("Teste grátis: termina em 1 dia e 23 h")).to_be_visible()
    page.get_by_role("link", name="Loja Centro").click()
    banner = page.get_by_role("status").filter(has_text="Teste grátis")
    expect(banner).to_contain_text("termina em 1 dia e 23 h")
    screenshot("trial-banner")

    banner.get_by_role("link", name="Assinar").click()
    expect(page.get_by_text("R$ 99,00 por mês")).to_be_visible()
    page.get_by_label("Nome ou razão social").fill("Ana Dona ME")
    page.get_by_label("CPF ou CNPJ").fill("529.982.247-24")  # a wrong check digit
    page.get_by_label("E-mail para faturas").fill("contas@anadona.com.br")
    page.get_by_label("CEP").fill("01310-100")
    page.get_by_label("Logradouro").fill("Avenida Paulista")
    page.get_by_label("Número").fill("1000")
    page.get_by_label("Bairro").fill("Bela Vista")
    page.get_by_label("Cidade").fill("São Paulo")
    page.get_by_label("UF").select_option("SP")
    page.get_by_role("button", name="Confirmar assinatura").click()

    expect(page.get_by_text("CPF inválido: confira os dígitos.")).to_be_visible()
    expect(page.get_by_label("Logradouro")).to_have_value("Avenida Paulista")
    page.get_by_label("CPF ou CNPJ").fill("529.982.247-25")
    screenshot("assinar")
    page.get_by_role("button", name="Confirmar assinatura").click()

    expect(
        page.get_by_text("Instância “Loja Centro” assinada. Obrigado!")
    ).to_be_visible()
    expect(page.get_by_text("Assinada desde")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Teste grátis")).to_have_count(0)
    assert SubscriptionPeriod.objects.filter(ended_at__isnull=True).count() == 1


def _invoices(owner):
    """September paid, October open and past due."""
    billing_profile_for(owner)
    instance = InstanceFactory(owner=owner, name="Vendas")
    subscribed(instance, sp(2026, 9, 1))
    services.invoices_issue_for_period(period=date(2026, 9, 1), today=date(2026, 10, 1))
    services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    september = Invoice.objects.get(period=date(2026, 9, 1))
    paid = services.charge_issue(invoice=september)
    services.payment_record(
        notice=PaymentNotice(
            notice_ref="evt-setembro",
            charge_ref=paid.provider_ref,
            paid_on=date(2026, 10, 8),
            amount_cents=paid.amount_cents,
            method="pix",
        ),
        provider_name=paid.provider,
    )
    october = Invoice.objects.get(period=date(2026, 10, 1))
    return october, services.charge_issue(invoice=october)


def test_boletos_copy_view_pdf_and_2a_via(browser, live_server, owner, tmp_path):
    october, charge = _invoices(owner)
    context = browser.new_context(base_url=live_server.url, locale="pt-BR")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _log_in(page, owner)
        page.get_by_role("navigation").get_by_role("link", name="Boletos").click()
        open_card = page.locator("section").filter(has_text="Em aberto")
        expect(open_card.get_by_text("Uso de 10/2026")).to_be_visible()
        expect(open_card.get_by_text("Vencido")).to_be_visible()
        history = page.locator("section").filter(has_text="Histórico de pagamentos")
        expect(history.get_by_role("cell", name="08/10/2026")).to_be_visible()
        expect(history.get_by_role("cell", name="PIX")).to_be_visible()
        save_screenshot(page, "boletos")

        page.get_by_role("button", name="Copiar linha digitável").click()
        assert page.evaluate("navigator.clipboard.readText()") == charge.linha_digitavel
        page.get_by_role("button", name="Copiar código PIX").click()
        assert page.evaluate("navigator.clipboard.readText()") == charge.pix_payload

        page.get_by_role("link", name="Ver boleto").click()
        expect(page.get_by_role("heading", name="Fatura de 10/2026")).to_be_visible()
        expect(page.locator(".barcode svg rect").first).to_be_attached()
        save_screenshot(page, "boleto")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Baixar PDF").click()
        pdf_path = tmp_path / "fatura.pdf"
        download_info.value.save_as(pdf_path)
        assert pdf_path.read_bytes().startswith(b"%PDF")
        # The PDF opens: Chromium's own viewer loads it from a data URL.
        viewer = context.new_page()
        encoded = base64.b64encode(pdf_path.read_bytes()).decode()
        viewer.goto(f"data:application/pdf;base64,{encoded}")
        viewer.close()

        page.get_by_role("navigation").get_by_role("link", name="Boletos").click()
        page.get_by_role("link", name="Gerar 2ª via").click()
        expect(page.get_by_text("Multa (2%)")).to_be_visible()
        save_screenshot(page, "segunda-via")
        page.get_by_role("button", name="Gerar 2ª via").click()
        expect(
            page.get_by_text("2ª via gerada. O boleto anterior foi cancelado.")
        ).to_be_visible()
        expect(page.get_by_text("Multa e juros incluídos")).to_be_visible()
    finally:
        context.close()
    assert october.charges.filter(status="cancelled").count() == 1
