import pytest
from playwright.sync_api import expect

from instances.models import ExclusionEntry, ExclusionSource, Message
from privacy import services
from tests.factories import PASSWORD, InstanceFactory
from tests.privacy.conftest import CONTACT, received, sent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def requested(monkeypatch):
    """The erasures asked for, waiting for the test to play the worker."""
    ids = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args: ids.extend(args),
    )
    return ids


@pytest.fixture
def conversation(owner):
    instance = InstanceFactory(owner=owner, name="Loja Centro")
    sent(instance)
    sent(instance)
    received(instance)
    sent(instance, to="+5511976543210")
    ExclusionEntry.objects.create(
        instance=instance, phone=CONTACT, source=ExclusionSource.OPT_OUT
    )
    return instance


def _log_in(page, user):
    page.goto("/contas/entrar/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Senha", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Instâncias", exact=True)).to_be_visible()


def test_erase_a_contacts_data_from_the_instance_menu(
    page, screenshot, owner, conversation, requested
):
    _log_in(page, owner)
    page.goto(f"/instancias/{conversation.pk}/")
    page.get_by_label("Mais ações").click()
    page.get_by_role("link", name="Apagar dados de um contato").click()

    page.get_by_label("Número do contato").fill("21 9876")
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_text("Número de telefone inválido")).to_be_visible()
    expect(page.get_by_label("Número do contato")).to_have_value("21 9876")
    screenshot("contact-erase-invalid")

    page.get_by_label("Número do contato").fill("(21) 99876-5432")
    page.get_by_role("button", name="Continuar").click()
    expect(
        page.get_by_role("heading", name="Apagar os dados de +55 21 99876-5432?")
    ).to_be_visible()
    expect(page.get_by_text("2 mensagens enviadas")).to_be_visible()
    expect(page.get_by_text("1 mensagens recebidas")).to_be_visible()
    expect(page.get_by_text("O número continua na lista de exclusão")).to_be_visible()
    screenshot("contact-erase-confirm")
    assert Message.objects.count() == 3

    page.get_by_role("button", name="Sim, apagar os dados").click()
    expect(page.get_by_text("Apagando os dados de +55 21 *****-5432")).to_be_visible()
    screenshot("contact-erase-pending")

    # The worker does it; the page finds out by itself (htmx poll).
    services.contact_erasure_run(erasure_id=requested[0])
    expect(
        page.get_by_role("heading", name="Dados de +55 21 *****-5432 apagados")
    ).to_be_visible(timeout=10_000)
    expect(page.get_by_text("2 mensagens enviadas")).to_be_visible()
    screenshot("contact-erase-done")
    assert list(Message.objects.values_list("to", flat=True)) == ["+5511976543210"]
    assert ExclusionEntry.objects.filter(phone=CONTACT).exists()


def test_erasing_works_without_javascript(
    browser, live_server, owner, conversation, requested
):
    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page, owner)
        page.goto(f"/instancias/{conversation.pk}/apagar-contato/")
        page.get_by_label("Número do contato").fill("5521998765432")
        page.get_by_role("button", name="Continuar").click()
        page.get_by_role("button", name="Sim, apagar os dados").click()
        expect(page.get_by_text("Apagando os dados de")).to_be_visible()

        services.contact_erasure_run(erasure_id=requested[0])
        page.get_by_role("link", name="Atualizar").click()
        expect(
            page.get_by_role("heading", name="Dados de +55 21 *****-5432 apagados")
        ).to_be_visible()
    finally:
        context.close()
    assert Message.objects.count() == 1
