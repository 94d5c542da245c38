import pytest
from playwright.sync_api import expect

from instances import health
from instances.models import ExclusionEntry
from tests.factories import PASSWORD, InstanceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def requested(monkeypatch):
    """The imports asked for, waiting for the test to play the worker."""
    ids = []
    monkeypatch.setattr(
        "instances.health.current_app.send_task",
        lambda name, args=(), **options: ids.extend(args),
    )
    return ids


def _log_in(page, user):
    page.goto("/contas/entrar/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Senha", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Instâncias", exact=True)).to_be_visible()


def test_a_csv_import_shows_its_result_without_a_reload(
    page, screenshot, owner, requested, tmp_path
):
    instance = InstanceFactory(owner=owner, name="Loja Centro")
    rows = ["numero,motivo", "123,lixo"] + [f"+55219{n:08d},saiu" for n in range(40)]
    csv_file = tmp_path / "clientes.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")

    _log_in(page, owner)
    page.goto(f"/instancias/{instance.pk}/exclusao/")
    page.get_by_label("Arquivo CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_text("Importando “clientes.csv”…")).to_be_visible()
    screenshot("exclusion-import-pending")
    # A mark that a reload would wipe out.
    page.evaluate("window.notReloaded = true")

    # The worker does it; the page finds out by itself (htmx poll).
    health.exclusion_import_run(import_id=requested[0])
    expect(
        page.get_by_text("40 adicionados, 0 já estavam na lista, 1 recusados.")
    ).to_be_visible(timeout=10_000)
    expect(page.get_by_role("cell", name="123")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    screenshot("exclusion-import-done")
    assert ExclusionEntry.objects.filter(instance=instance).count() == 40
