import pytest
from playwright.sync_api import expect

from instances import services
from instances.engines import engine_get
from instances.models import ReceivedMessage, SimulatedSession
from tests import samples
from tests.e2e.test_instance_journey import _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_open_the_simulated_phone_and_send_the_instance_an_image(
    page, screenshot, owner, tmp_path
):
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name="Loja Centro"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    picture = tmp_path / "vitrine.png"
    picture.write_bytes(samples.png(120, 80))

    _log_in(page, owner)
    page.get_by_role("link", name="Loja Centro").click()
    page.get_by_role("link", name="Abrir o celular simulado").click()
    expect(page.get_by_role("heading", name="Celular simulado")).to_be_visible()
    expect(page.get_by_text("Nenhuma mensagem nesta conversa ainda.")).to_be_visible()

    page.get_by_label("Número do contato").fill("(21) 99876-5432")
    page.get_by_label("Nome do contato").fill("Bia")
    page.get_by_role("button", name="Abrir conversa").click()
    expect(
        page.get_by_role("heading", name="Conversa com +55 21 99876-5432")
    ).to_be_visible()

    image_form = page.get_by_role("group").filter(
        has=page.get_by_text("Imagem", exact=True)
    )
    image_form.get_by_text("Imagem", exact=True).click()
    image_form.get_by_label("Arquivo").set_input_files(str(picture))
    image_form.get_by_label("Legenda").fill("Essa aqui na vitrine")
    image_form.get_by_role("button", name="Enviar imagem").click()

    expect(page.get_by_text("Mensagem enviada à instância.")).to_be_visible()
    sent = page.get_by_role("img", name="Imagem que você enviou")
    expect(sent).to_be_visible()
    # The picture really loads, through its download link.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=sent.element_handle()
    )
    assert sent.evaluate("img => img.naturalWidth") == 120
    expect(page.get_by_text("Essa aqui na vitrine", exact=True)).to_be_visible()
    screenshot("simulator-received-image")

    received = ReceivedMessage.objects.get(instance=instance)
    assert (received.kind, received.phone, received.sender_name) == (
        "image",
        "+5521998765432",
        "Bia",
    )
    assert received.media is not None
