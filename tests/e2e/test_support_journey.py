import pytest
from django.utils import timezone
from playwright.sync_api import expect

from instances import services as instance_services
from instances.models import Instance
from support.models import Ticket
from tests.e2e.conftest import save_screenshot
from tests.e2e.test_instance_journey import _log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_ticket_answered_in_the_admin_appears_without_reloading(
    browser, live_server, page, owner, staff, settings
):
    settings.MEDIA_ROOT = settings.VAR_DIR / "e2e-media"
    instance_services.instance_create(owner=owner, name="Loja Centro")
    _log_in(page, owner)
    page.get_by_role("navigation").get_by_role("link", name="Suporte").click()
    page.get_by_role("link", name="Abrir chamado").click()
    page.get_by_label("Categoria").select_option(label="Técnico")
    page.get_by_label("Assunto").fill("QR Code não aparece")
    page.get_by_label("Mensagem").fill(
        "Desde ontem a página fica em “Gerando QR Code…”."
    )
    page.get_by_label("Instância (opcional)").select_option(label="Loja Centro")
    page.get_by_role("button", name="Enviar chamado").click()
    expect(page.get_by_text("Nossa equipe vai responder por aqui.")).to_be_visible()
    ticket = Ticket.objects.get()

    staff_context = browser.new_context(base_url=live_server.url, locale="pt-BR")
    staff_page = staff_context.new_page()
    try:
        staff_page.goto("/admin/login/")
        staff_page.get_by_label("E-mail").fill(staff.email)
        staff_page.get_by_label("Senha").fill(PASSWORD)
        staff_page.get_by_role("button", name="Acessar").click()
        staff_page.goto(f"/admin/support/ticket/{ticket.pk}/change/")
        staff_page.get_by_label("Responder ao cliente").fill(
            "Olá! Atualizamos o motor; gere um novo QR Code, por favor."
        )
        staff_page.get_by_role("button", name="Salvar", exact=True).click()
        expect(staff_page.get_by_text("foi alterado com sucesso")).to_be_visible()
        staff_page.goto(f"/admin/support/customer/{owner.pk}/change/")
        expect(staff_page.get_by_role("heading", name="Instâncias (1)")).to_be_visible()
        save_screenshot(staff_page, "admin-customer-360")
    finally:
        staff_context.close()

    # The customer's page was never reloaded: the thread refreshes by itself.
    expect(page.get_by_text("Atualizamos o motor")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("A equipe respondeu: é a sua vez.")).to_be_visible()
    save_screenshot(page, "ticket-thread")
    page.get_by_role("navigation").get_by_role("link", name="Suporte").click()
    expect(page.get_by_role("cell", name="Aguardando você")).to_be_visible()
    save_screenshot(page, "ticket-list")


def test_search_the_help_centre_as_you_type(page, owner):
    _log_in(page, owner)
    page.goto("/suporte/ajuda/")
    expect(page.locator("details.faq")).to_have_count(16)
    page.get_by_label("Buscar nas perguntas").press_sequentially("boleto pix", delay=30)
    expect(page.locator("details.faq")).to_have_count(1)
    expect(page.get_by_text("Como pago um boleto ou um PIX?")).to_be_visible()
    assert "q=boleto" in page.url
    save_screenshot(page, "help-centre-search")


def test_best_practices_show_each_instance_checklist(page, owner):
    instance = instance_services.instance_create(owner=owner, name="Loja Centro")
    Instance.objects.filter(pk=instance.pk).update(
        number_activated_at=timezone.localdate(), opt_out_reply="Pronto, você saiu."
    )
    _log_in(page, owner)
    page.get_by_role("navigation").get_by_role("link", name="Boas práticas").click()
    expect(page.get_by_role("link", name="Loja Centro")).to_be_visible()
    expect(page.get_by_text("Confirmação enviada a quem sai")).to_be_visible()
    save_screenshot(page, "best-practices")
