"""The lists that turn into cards on phones (class "table-cards") name every
cell: on a phone the data-label is all that says which column a value is in,
so a new column without one, or with another column's name, fails here."""

from datetime import date, datetime
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from billing.models import Invoice
from billing.providers.base import PaymentNotice
from instances import services as instance_services
from support import services as support_services
from tests.billing.conftest import billing_profile_for, live_instance, sp, subscribed
from tests.factories import InstanceFactory
from webhooks import services as webhook_services
from webhooks.models import EventKind

pytestmark = pytest.mark.django_db
TODAY = timezone.make_aware(datetime(2026, 11, 20, 10))


class CardTables(HTMLParser):
    """The table-cards tables of a page: for each, its column names and, for
    each cell of its body, (column name, data-label or None if absent)."""

    def __init__(self):
        super().__init__()
        self.tables = []
        self._table = None
        self._section = None
        self._column = 0
        self._cell = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "table-cards" in (attrs.get("class") or "").split():
            self._table = {"headers": [], "cells": []}
        elif self._table is None:
            return
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr":
            self._column = 0
        elif tag == "th" and self._section == "thead":
            self._cell, self._text = "th", []
        elif tag == "abbr" and self._cell == "th":
            # An abbreviated header ("#") is named by its title.
            self._text = [attrs.get("title", "")]
            self._cell = "abbr"
        elif tag == "td" and self._section == "tbody":
            headers = self._table["headers"]
            header = headers[self._column] if self._column < len(headers) else None
            colspan = int(attrs.get("colspan", 1))
            self._table["cells"].append(
                (header if colspan == 1 else None, attrs.get("data-label"))
            )
            self._column += colspan

    def handle_data(self, data):
        if self._cell == "th":
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag == "abbr" and self._cell == "abbr":
            self._cell = "th"
        elif tag == "th" and self._cell:
            self._table["headers"].append("".join(self._text).strip())
            self._cell = None
        elif tag == "table":
            self.tables.append(self._table)
            self._table = None


def _card_tables(client, url):
    response = client.get(url)
    assert response.status_code == 200
    parser = CardTables()
    parser.feed(response.content.decode())
    return parser.tables


def _assert_every_cell_labelled(tables):
    assert tables, "no table-cards table on the page"
    for table in tables:
        assert table["cells"], f"no rows under {table['headers']}"
        for header, label in table["cells"]:
            assert label is not None, f"a cell under “{header}” has no data-label"
            # An empty label is for a cell that needs no name: the row's
            # action ("Detalhes"), a line across several columns.
            if label:
                assert label == header, f"“{label}” is in the column “{header}”"


def test_the_instance_list_labels_every_cell(owner_client, owner):
    instance_services.instance_create(owner=owner, name="Loja Centro")
    live_instance(owner, name="Vendas")
    subscribed(InstanceFactory(owner=owner, name="Matriz"), timezone.now())

    tables = _card_tables(owner_client, reverse("instances:list"))

    _assert_every_cell_labelled(tables)
    labels = {label for _header, label in tables[0]["cells"]}
    assert {"Nome", "Número", "Estado", "Plano"} <= labels


def test_the_delivery_log_labels_every_cell(owner_client, owner, monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **k: None)
    instance = instance_services.instance_create(owner=owner, name="Vendas")
    webhook_services.webhook_endpoints_save(
        instance=instance,
        values={
            kind.value: ("https://sistema.exemplo.com.br/webhook", True)
            for kind in EventKind
        },
    )
    for kind in (EventKind.MESSAGE_RECEIVED, EventKind.CONNECTED):
        webhook_services.event_emit(instance=instance, kind=kind, data={})

    tables = _card_tables(
        owner_client, reverse("webhooks:deliveries", args=[instance.pk])
    )

    _assert_every_cell_labelled(tables)
    assert "Resultado" in {label for _header, label in tables[0]["cells"]}


@time_machine.travel(TODAY, tick=False)
def test_the_boletos_page_labels_every_cell_of_its_three_tables(owner_client, owner):
    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner, name="Vendas"), sp(2026, 9, 1))
    for period in (date(2026, 9, 1), date(2026, 10, 1)):
        billing_services.invoices_issue_for_period(
            period=period, today=period.replace(month=period.month + 1)
        )
    september, october = Invoice.objects.order_by("period")
    paid = billing_services.charge_issue(invoice=september)
    billing_services.payment_record(
        notice=PaymentNotice(
            notice_ref="evt-setembro",
            charge_ref=paid.provider_ref,
            paid_on=date(2026, 10, 8),
            amount_cents=paid.amount_cents,
            method="pix",
        ),
        provider_name=paid.provider,
    )
    billing_services.charge_issue(invoice=october)

    tables = _card_tables(owner_client, reverse("billing:invoices"))

    # Em aberto, Próxima fatura and Histórico de pagamentos.
    assert len(tables) == 3
    _assert_every_cell_labelled(tables)
    assert {"Valor", "Vencimento"} <= {label for _h, label in tables[0]["cells"]}


@time_machine.travel(TODAY, tick=False)
def test_the_boleto_page_labels_every_line_of_the_invoice(owner_client, owner):
    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner, name="Vendas"), sp(2026, 9, 1))
    subscribed(InstanceFactory(owner=owner, name="Suporte"), sp(2026, 9, 1))
    billing_services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get()
    billing_services.charge_issue(invoice=invoice)

    tables = _card_tables(owner_client, reverse("billing:boleto", args=[invoice.pk]))

    _assert_every_cell_labelled(tables)
    cells = tables[0]["cells"]
    assert {"Instância", "Valor"} <= {label for _h, label in cells}
    assert len(cells) == 2 * 4  # two instances, four columns each


def test_the_ticket_list_labels_every_cell(owner_client, owner, monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **k: None)
    support_services.ticket_open(
        account=owner, category="financial", subject="Boleto", body="Não chegou."
    )

    tables = _card_tables(owner_client, reverse("support:home"))

    _assert_every_cell_labelled(tables)
    assert {"Chamado", "Situação"} <= {label for _h, label in tables[0]["cells"]}


def test_a_cell_without_a_label_or_under_another_column_is_caught():
    parser = CardTables()
    parser.feed(
        '<table class="table table-cards"><thead><tr><th>Nome</th><th>Estado</th>'
        '</tr></thead><tbody><tr><td data-label="Nome">Vendas</td><td>Conectado'
        "</td></tr></tbody></table>"
    )
    with pytest.raises(AssertionError, match="“Estado” has no data-label"):
        _assert_every_cell_labelled(parser.tables)

    parser = CardTables()
    parser.feed(
        '<table class="table-cards"><thead><tr><th>Nome</th><th>Estado</th></tr>'
        '</thead><tbody><tr><td data-label="Estado">Vendas</td>'
        '<td data-label="Nome">Conectado</td></tr></tbody></table>'
    )
    with pytest.raises(AssertionError, match="“Estado” is in the column “Nome”"):
        _assert_every_cell_labelled(parser.tables)
