"""A number already live on another instance, scanned on the simulated
phone: the open page turns to "Desconectado" by itself, with the reason, the
refused attempt in Histórico and a way to try again; the list agrees."""

import re

import pytest
from playwright.sync_api import expect

from instances import services
from instances.engines import engine_get
from instances.models import Instance, InstanceState, SimulatedSession
from tests.e2e.test_instance_journey import _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
NUMBER = "5511987654321"


@pytest.fixture
def live_elsewhere(other):
    """Another customer's instance, connected to NUMBER."""
    instance = services.instance_connect(
        instance=services.instance_create(owner=other, name="Do outro"),
        actor_kind="customer",
    )
    session = SimulatedSession.objects.get(engine_ref=instance.engine_ref)
    services.engine_events_apply([engine_get().phone_scan(session.code, NUMBER)])
    instance.refresh_from_db()
    assert instance.state == InstanceState.CONNECTED
    return instance


def test_a_number_live_elsewhere_is_refused_on_the_open_page(
    page, screenshot, owner, live_elsewhere, live_server, settings
):
    settings.SITE_URL = live_server.url
    _log_in(page, owner)
    page.get_by_role("link", name="Adicionar").click()
    page.get_by_label("Nome da instância").fill("Loja Centro")
    page.get_by_role("button", name="Criar e conectar").click()
    expect(page.get_by_role("img", name="QR Code")).to_be_visible()

    with page.context.expect_page() as phone_opening:
        page.get_by_role("link", name="Abrir o celular simulado").click()
    phone = phone_opening.value
    phone.get_by_label("Número deste celular").fill("(11) 98765-4321")
    phone.get_by_role("button", name="Conectar").click()
    # The phone is told too; wait for its answer before closing it (closing a
    # page while its form is still being posted can leave Chromium waiting).
    expect(phone.get_by_role("alert")).to_contain_text("já está conectado")
    phone.close()

    # The open page turns by itself (the poll), badge and Histórico included.
    expect(page.get_by_role("alert")).to_contain_text(
        "+55 11 98765-4321 já está conectado em outra instância", timeout=10_000
    )
    expect(page.locator("#state-badge")).to_have_text("Desconectado")
    expect(page.locator("#history")).to_contain_text("Conexão recusada")
    expect(page.get_by_role("button", name="Gerar novo QR Code")).to_be_visible()
    screenshot("instance-same-number-refused")

    # A reload and the list say the same.
    page.reload()
    expect(page.locator("#state-badge")).to_have_text("Desconectado")
    expect(page.locator("#history")).to_contain_text("Conexão recusada")
    page.get_by_role("link", name="Instâncias").first.click()
    row = page.get_by_role("row", name=re.compile("Loja Centro"))
    expect(row).to_contain_text("Desconectado")
    expect(row).not_to_contain_text("Aguardando leitura")

    mine = Instance.objects.get(owner=owner)
    assert (mine.state, mine.phone_number) == (InstanceState.DISCONNECTED, "")
    live_elsewhere.refresh_from_db()
    assert live_elsewhere.state == InstanceState.CONNECTED
