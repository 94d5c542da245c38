import re

import pytest
from playwright.sync_api import expect

from instances.models import Instance, InstanceState
from tests.factories import PASSWORD, InstanceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, user):
    page.goto("/contas/entrar/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Senha", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Instâncias", exact=True)).to_be_visible()


def test_add_connect_by_qr_rename_disconnect_and_reconnect(
    page, screenshot, owner, live_server, settings
):
    settings.SITE_URL = live_server.url
    _log_in(page, owner)
    screenshot("instances-list-empty")

    page.get_by_role("link", name="Adicionar").click()
    page.get_by_label("Nome da instância").fill("Loja Centro")
    page.get_by_role("button", name="Criar e conectar").click()

    qr = page.get_by_role("img", name="QR Code")
    expect(qr).to_be_visible()
    expect(page.get_by_text("Aparelhos conectados")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Este código muda em \d+ s"))).to_be_visible()
    screenshot("instance-qr")

    with page.context.expect_page() as phone_opening:
        page.get_by_role("link", name="Abrir o celular simulado").click()
    phone = phone_opening.value
    instance = Instance.objects.get(owner=owner)
    assert phone.url == instance.qr_code
    phone.get_by_label("Número deste celular").fill("(11) 98765-4321")
    phone.get_by_role("button", name="Conectar").click()
    expect(phone.get_by_text("Aparelho conectado")).to_be_visible()
    phone.close()

    # The first tab turns to "Conectado" by itself (HTMX poll), no reload.
    expect(page.get_by_role("heading", name="Conectado", exact=True)).to_be_visible(
        timeout=10_000
    )
    expect(page.get_by_text("+55 11 98765-4321 está conectado")).to_be_visible()
    expect(page.locator("#state-badge")).to_have_text("Conectado")
    expect(page.locator("#history")).to_contain_text("QR Code lido")  # same swap
    screenshot("instance-connected")

    page.get_by_label("Mais ações").click()
    expect(page.get_by_role("link", name="Editar")).to_be_visible()
    screenshot("instance-menu-open")
    page.get_by_role("link", name="Editar").click()
    page.get_by_label("Nome da instância").fill("Loja Centro SP")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Dados da instância salvos.")).to_be_visible()
    screenshot("instance-edit-data")
    page.get_by_role("link", name="Webhooks").click()
    expect(
        page.get_by_role("heading", name="URLs que recebem os eventos")
    ).to_be_visible()
    screenshot("instance-edit-webhooks")

    page.get_by_role("link", name="Instâncias").first.click()
    page.get_by_role("link", name="Loja Centro SP").click()
    page.get_by_label("Mais ações").click()
    page.get_by_role("link", name="Desconectar").click()
    page.get_by_role("button", name="Sim, desconectar").click()
    expect(page.get_by_role("heading", name="Desconectado", exact=True)).to_be_visible()
    assert Instance.objects.get(owner=owner).state == InstanceState.DISCONNECTED

    page.get_by_role("button", name="Conectar", exact=True).click()
    expect(page.get_by_role("img", name="QR Code")).to_be_visible()
    assert Instance.objects.get(owner=owner).qr_code != instance.qr_code


def test_the_list_of_a_customer_with_several_instances(
    page, screenshot, owner, connect_many
):
    _log_in(page, owner)
    expect(page.get_by_role("cell", name="Conectado")).to_have_count(2)
    expect(page.get_by_text("termina em 1 dia e 23 h").first).to_be_visible()
    screenshot("instances-list-full")


@pytest.fixture
def connect_many(owner):
    from instances import services
    from instances.engines import engine_get
    from instances.models import SimulatedSession

    for n, name in enumerate(["Vendas", "Suporte", "Cobrança", "Marketing"]):
        instance = services.instance_connect(
            instance=services.instance_create(owner=owner, name=name),
            actor_kind="customer",
        )
        if n < 2:
            code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
            services.engine_events_apply(
                [engine_get().phone_scan(code, f"55119876543{n}1")]
            )
    InstanceFactory(owner=owner, name="Nova (sem conexão)")
