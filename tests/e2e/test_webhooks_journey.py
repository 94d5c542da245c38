import pytest
from celery import current_app
from playwright.sync_api import expect

from instances import services as instance_services
from tests.e2e.test_instance_journey import _log_in
from tests.receiver import Receiver
from webhooks import tasks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    receiver = Receiver(script=[(200, b'{"ok": true}', {}, 0)])
    yield receiver
    receiver.close()


def test_fill_the_tab_save_test_and_resend_from_the_log(
    page, screenshot, owner, receiver, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    # The test's task runs as soon as it is asked for, as a worker would; the
    # tab finds its answer by polling.
    real_send_task = current_app.send_task

    def send_task(name, args=(), **options):
        if name == "webhooks.tasks.webhook_test_send_task":
            return tasks.webhook_test_send_task(*args)
        return real_send_task(name, args=args, **options)

    monkeypatch.setattr("webhooks.services.current_app.send_task", send_task)
    instance = instance_services.instance_create(owner=owner, name="Loja Centro")
    _log_in(page, owner)
    page.get_by_role("link", name="Loja Centro").click()
    page.get_by_label("Mais ações").click()
    page.get_by_role("link", name="Editar").click()
    page.get_by_role("link", name="Webhooks").click()

    # "URL para todos os eventos" counts only with its box on.
    same_url = page.get_by_role("textbox", name="URL para todos os eventos")
    expect(same_url).to_be_disabled()
    page.get_by_label("Usar a mesma URL para todos").check()
    expect(same_url).to_be_enabled()
    page.get_by_label("Usar a mesma URL para todos").uncheck()
    expect(same_url).to_be_disabled()
    date_padding = page.locator("input[type=datetime-local]").evaluate(
        "el => getComputedStyle(el).paddingLeft"
    )
    assert date_padding != "0px"  # like the other inputs

    page.get_by_role("textbox", name="Mensagem recebida").fill(receiver.url)
    page.get_by_role("textbox", name="Status da mensagem").fill("isto não é uma url")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Informe uma URL completa")).to_be_visible()
    expect(page.get_by_role("textbox", name="Mensagem recebida")).to_have_value(
        receiver.url
    )

    page.get_by_role("textbox", name="Status da mensagem").fill(receiver.url)
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Webhooks salvos.")).to_be_visible()
    expect(page.get_by_text("whsec_")).to_be_visible()
    screenshot("webhooks-tab")

    page.get_by_role("button", name="Enviar teste de Mensagem recebida").click()
    expect(page.get_by_text("HTTP 200")).to_be_visible()
    expect(page.get_by_text("Webhooks salvos.")).to_be_visible()  # no reload: inline
    assert receiver.received and receiver.received[0].headers["webhook-id"].startswith(
        "msg_"
    )
    screenshot("webhooks-test-result")

    page.get_by_role("link", name="Entregas").click()
    expect(page.get_by_role("cell", name="Entregue")).to_be_visible()
    screenshot("webhooks-deliveries")
    page.get_by_role("link", name="Detalhes").click()
    expect(page.get_by_text("HTTP 200")).to_be_visible()
    page.get_by_role("button", name="Reenviar").click()
    expect(page.get_by_text("Evento reenviado")).to_be_visible()
    expect(page.get_by_text("a entrega está na fila")).to_be_visible()
    assert instance.webhook_endpoints.count() == 6
