"""The panel's lists on a phone (390 px): each row is a card whose key
columns are in view, labelled, with no sideways scroll; on a tablet (820 px)
cards too; on a desktop (1280 px) the same lists are still tables."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from instances import services as instance_services
from support import services as support_services
from tests.billing.conftest import live_instance
from tests.e2e.test_billing_journey import _invoices
from tests.e2e.test_instance_journey import _log_in
from webhooks import services as webhook_services
from webhooks.models import EventKind

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
DESKTOP = {"width": 1280, "height": 800}
# Where people look at the phone and desktop views (nothing secret in them).
SHOTS = Path("/tmp/shots")  # noqa: S108


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    # Tickets and webhook events queue tasks after commit; nothing runs them here.
    monkeypatch.setattr(
        "celery.current_app.send_task", lambda name, args=(), **options: None
    )


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _label_of(cell) -> str:
    """What the cell's ::before shows ("none" when nothing)."""
    return cell.evaluate(
        "td => { const s = getComputedStyle(td, '::before');"
        " return s.display === 'none' ? 'none' : s.content; }"
    )


def _assert_cards(page, url, *, name, row_text, key_columns, main_link):
    """At 390 px: no sideways scroll; in the row with `row_text`, each cell
    of `key_columns` (label → text it holds) is inside the viewport and shows
    its label; `main_link` is a finger-sized target. At 1280 px: a table."""
    page.set_viewport_size(PHONE)
    page.goto(url)
    row = page.locator("tbody tr").filter(has_text=row_text).first
    expect(row).to_be_visible()
    _shot(page, f"small-{name}")

    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"{name}: {overflow[0]} px wide in {overflow[1]}"
    for label, text in key_columns.items():
        cell = row.locator(f'td[data-label="{label}"]')
        expect(cell).to_contain_text(text)
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"{name}: {label} at {box}"
        )
        assert _label_of(cell) == f'"{label}"'
        value = cell.get_by_text(text).first
        value_box = value.bounding_box()
        assert value_box["x"] >= 0 and value_box["x"] + value_box["width"] <= 390
    link = row.get_by_role("link", name=main_link)
    link_box = link.bounding_box()
    assert link_box["height"] >= 44 and link_box["width"] >= 44, link_box
    assert link_box["x"] + link_box["width"] <= PHONE["width"]
    # The column names leave the screen but stay for screen readers.
    head = page.locator("thead").first.bounding_box()
    assert head["width"] <= 1 and head["height"] <= 1, head
    expect(page.get_by_role("columnheader").first).to_be_attached()
    # And the card is still a row of cells to assistive technology.
    cells = row.locator("td").count()
    expect(
        page.get_by_role("row").filter(has_text=row_text).first.get_by_role("cell")
    ).to_have_count(cells)

    # A tablet, where the sidebar takes a third of the width, gets the cards
    # too, and the page no sideways scroll.
    page.set_viewport_size(TABLET)
    page.goto(url)
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), f"{name} at {TABLET['width']} px"
    assert _label_of(row.locator("td").first) != "none"
    _shot(page, f"tablet-{name}")

    page.set_viewport_size(DESKTOP)
    page.goto(url)
    expect(page.locator("thead").first).to_be_visible()
    table = page.locator("table.table-cards").first
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    first_cell = page.locator("tbody tr").filter(has_text=row_text).locator("td").first
    assert _label_of(first_cell) == "none"
    # Nor does the table hide its columns behind a sideways scroll there.
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth"), name
    _shot(page, f"wide-{name}")


def test_the_instance_list_on_a_phone(page, owner):
    instance_services.instance_create(
        owner=owner, name="Atendimento da Loja Centro de Campinas"
    )
    live_instance(owner, name="Vendas", number="5511987654321")
    _log_in(page, owner)
    _assert_cards(
        page,
        reverse("instances:list"),
        name="instancias",
        row_text="Vendas",
        key_columns={
            "Nome": "Vendas",
            "Número": "98765-4321",
            "Estado": "Conectado",
            "Plano": "Teste grátis",
        },
        main_link="Vendas",
    )
    trial = page.locator("tbody tr").filter(has_text="Campinas")
    page.set_viewport_size(PHONE)
    page.goto(reverse("instances:list"))
    assinar = trial.get_by_role("link", name="Assinar")
    box = assinar.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]


def test_the_webhook_deliveries_on_a_phone(page, owner):
    instance = instance_services.instance_create(owner=owner, name="Vendas")
    webhook_services.webhook_endpoints_save(
        instance=instance,
        values={
            EventKind.MESSAGE_RECEIVED.value: (
                "https://sistema.exemplo.com.br/plugmessage/webhook",
                True,
            )
        },
    )
    webhook_services.event_emit(
        instance=instance, kind=EventKind.MESSAGE_RECEIVED, data={"text": "oi"}
    )
    _log_in(page, owner)
    _assert_cards(
        page,
        reverse("webhooks:deliveries", args=[instance.pk]),
        name="entregas",
        row_text="Mensagem recebida",
        key_columns={
            "Quando": "/",
            "Evento": "Mensagem recebida",
            "Resultado": "Pendente",
        },
        main_link="Detalhes",
    )


def test_the_boletos_on_a_phone(page, owner):
    _invoices(owner)
    _log_in(page, owner)
    _assert_cards(
        page,
        reverse("billing:invoices"),
        name="boletos",
        row_text="Uso de 10/2026",
        key_columns={
            "Fatura": "Uso de 10/2026",
            "Valor": "R$",
            "Vencimento": "/2026",
        },
        main_link="Ver boleto",
    )


def test_the_support_tickets_on_a_phone(page, owner):
    instance = instance_services.instance_create(owner=owner, name="Vendas")
    support_services.ticket_open(
        account=owner,
        category="financial",
        subject="O boleto de outubro não chegou no e-mail do financeiro",
        body="Não chegou.",
        instance=instance,
    )
    _log_in(page, owner)
    _assert_cards(
        page,
        reverse("support:home"),
        name="suporte",
        row_text="boleto de outubro",
        key_columns={
            "Assunto": "O boleto de outubro",
            "Situação": "Aberto",
            "Atualizado em": "/",
        },
        main_link="O boleto de outubro não chegou no e-mail do financeiro",
    )
