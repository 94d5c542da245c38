import pytest
from playwright.sync_api import expect

from instances import services, tasks
from tests.e2e.test_instance_journey import _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_an_exclusion_csv_and_see_the_warm_up(
    page, screenshot, owner, tmp_path, monkeypatch
):
    # The import's task runs as soon as it is asked for, as a worker would.
    monkeypatch.setattr(
        "instances.health.current_app.send_task",
        lambda name, args=(), **options: tasks.exclusion_import_run_task(*args),
    )
    instance = services.instance_create(owner=owner, name="Loja Centro")
    csv_file = tmp_path / "lista.csv"
    csv_file.write_text(
        "numero,motivo\n(21) 99876-5432,pediu para sair\n123,linha ruim\n5511912345678\n"
    )
    _log_in(page, owner)
    page.get_by_role("link", name="Loja Centro").click()
    expect(page.get_by_text("Maturação: 0 de 20 envios hoje.")).to_be_visible()
    screenshot("instance-warmup")

    page.get_by_label("Mais ações").click()
    page.get_by_role("group").get_by_role("link", name="Lista de exclusão").click()
    page.get_by_label("Arquivo CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Importar").click()

    expect(
        page.get_by_text("2 adicionados, 0 já estavam na lista, 1 recusados.")
    ).to_be_visible()
    screenshot("exclusions-import-report")
    page.get_by_role("link", name="Voltar à lista de exclusão").click()
    expect(page.get_by_role("cell", name="+5521998765432")).to_be_visible()
    assert instance.exclusions.count() == 2
