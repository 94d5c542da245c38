"""The boleto on paper: the bank code's check digit, every field of the
recibo do pagador and the ficha de compensação, and the page and the PDF
that print them."""

import io
import re
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from reportlab.lib.units import mm

from billing import boleto, services
from billing.models import ChargeStatus, Invoice, Plan
from billing.pdf import barcode_widget, invoice_pdf
from billing.slip import boleto_slip_for
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db
BEFORE_DUE = timezone.make_aware(datetime(2026, 11, 5, 10))
AFTER_DUE = timezone.make_aware(datetime(2026, 11, 20, 10))

BENEFICIARY = {
    "BILLING_BENEFICIARY_NAME": "Cobranças Exemplo Ltda",
    "BILLING_BENEFICIARY_CNPJ": "12345678000195",
    "BILLING_BENEFICIARY_ADDRESS": "Rua Augusta, 500 – Consolação, São Paulo/SP",
    "BILLING_BENEFICIARY_AGENCY_CODE": "1234 / 98765-4",
    "BILLING_BOLETO_WALLET": "17",
    "BILLING_BOLETO_DOCUMENT_KIND": "DS",
    "BILLING_BOLETO_GUARANTOR": "Garantidora Avalista S.A. – CNPJ 27.273.918/0001-60",
}


@pytest.fixture
def beneficiary(settings):
    for name, value in BENEFICIARY.items():
        setattr(settings, name, value)


# The bank code's check digit.


@pytest.mark.parametrize(
    ("bank", "printed"),
    [
        ("001", "001-9"),  # Banco do Brasil
        ("237", "237-2"),  # Bradesco
        ("341", "341-7"),  # Itaú
        ("104", "104-0"),  # Caixa: 11 − 1 = 10 prints as 0
        ("033", "033-7"),  # Santander
        ("756", "756-0"),  # Sicoob: 11 − 0 = 11 prints as 0
        ("041", "041-8"),  # Banrisul
        ("070", "070-1"),  # BRB
        ("399", "399-9"),  # HSBC
        ("745", "745-5"),  # Citibank
        ("748", "748-X"),  # Sicredi keeps X for 10
        ("999", "999-7"),  # the simulated provider's bank
    ],
)
def test_the_bank_code_carries_its_modulo_11_check_digit(bank, printed):
    assert boleto.bank_code_with_digit(bank) == printed


@pytest.mark.parametrize("bank", ["", "01", "0001", "23a"])
def test_a_bank_code_that_is_not_three_digits_is_refused(bank):
    with pytest.raises(boleto.BoletoError, match="3 dígitos"):
        boleto.bank_check_digit(bank)


def test_the_svg_bars_are_as_high_for_their_width_as_103_by_13_mm():
    svg = boleto.i25_svg("34191790010104351004791020150008291070026000")
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    assert width == 405
    assert width / height == pytest.approx(103 / 13, rel=1e-4)


def test_the_pdf_barcode_is_103_mm_wide_and_13_mm_high():
    widget = barcode_widget("34191790010104351004791020150008291070026000")
    widget.validate()
    widget.encode()
    widget.decompose()
    widget.computeSize()
    assert widget.width == pytest.approx(103 * mm)
    assert widget.barHeight == pytest.approx(13 * mm)
    assert widget.barWidth * widget.ratio == pytest.approx(3 * 103 * mm / 405)


# The fields of the slip.


@time_machine.travel(BEFORE_DUE, tick=False)
def test_the_slip_has_every_field_of_the_ficha_de_compensacao(beneficiary, invoice):
    charge = invoice.charges.get()
    slip = boleto_slip_for(invoice, charge)
    assert slip.bank_name == "Banco Simulado"
    assert slip.bank_code == "999-7"
    assert slip.barcode == charge.barcode
    assert slip.linha_digitavel.replace(".", "").replace(" ", "") == (
        charge.linha_digitavel
    )
    assert slip.payment_place == "Pagável em qualquer banco, mesmo após o vencimento"
    assert slip.due_date == date(2026, 11, 10)
    assert slip.beneficiary_name == "Cobranças Exemplo Ltda"
    assert slip.beneficiary_document == "CNPJ 12.345.678/0001-95"
    assert slip.beneficiary_address == "Rua Augusta, 500 – Consolação, São Paulo/SP"
    assert slip.agency_code == "1234 / 98765-4"
    assert slip.document_date == timezone.localdate(invoice.issued_at)
    assert slip.document_number == invoice.number
    assert (slip.document_kind, slip.acceptance) == ("DS", "N")
    assert slip.processing_date == timezone.localdate(charge.created_at)
    assert (slip.wallet, slip.currency) == ("17", "R$")
    assert slip.nosso_numero == charge.nosso_numero
    assert slip.amount_cents == 9900
    assert slip.payer_name == "Loja da Ana Ltda"
    assert slip.payer_document == "CNPJ 11.222.333/0001-81"
    assert slip.payer_address == (
        "Avenida Paulista, 1000 – Bela Vista, São Paulo/SP – CEP 01310-100"
    )
    assert slip.guarantor.startswith("Garantidora Avalista S.A.")
    assert slip.pix_payload == charge.pix_payload
    assert not slip.cancelled


def test_there_is_no_slip_while_the_boleto_is_being_issued(invoice):
    assert boleto_slip_for(invoice, None) is None
    charge = invoice.charges.get()
    charge.barcode = ""
    assert boleto_slip_for(invoice, charge) is None


def test_the_instructions_quote_the_plans_fine_and_interest(invoice):
    slip = boleto_slip_for(invoice, invoice.charges.get())
    assert slip.instructions[0] == (
        "Após o vencimento, cobrar multa de 2% (R$ 1,98) e juros de 1% ao mês "
        "pro rata die (R$ 0,03 por dia de atraso)."
    )
    Plan.objects.filter(is_current=True).update(
        fine_basis_points=150, monthly_interest_basis_points=300
    )
    slip = boleto_slip_for(invoice, invoice.charges.get())
    # 1,5% of R$ 99,00 is R$ 1,485 → R$ 1,49; 3% a month is R$ 0,099 a day.
    assert "multa de 1,5% (R$ 1,49)" in slip.instructions[0]
    assert "juros de 3% ao mês pro rata die (R$ 0,10 por dia" in slip.instructions[0]


@time_machine.travel(AFTER_DUE, tick=False)
def test_a_2a_via_says_what_it_includes_and_the_old_one_not_to_be_paid(invoice):
    old = invoice.charges.get()
    services.invoice_reissue(invoice=invoice, today=date(2026, 11, 20))
    new = invoice.charges.get(status=ChargeStatus.ACTIVE)
    slip = boleto_slip_for(invoice, new)
    # 10 days late: 2% of R$ 99,00 and 1% a month for 10 of 30 days.
    assert (
        "2ª via: o valor já inclui multa de R$ 1,98 e juros de R$ 0,33 da fatura "
        "vencida em 10/11/2026." in slip.instructions
    )
    assert slip.amount_cents == 9900 + 198 + 33
    old.refresh_from_db()
    cancelled = boleto_slip_for(invoice, old)
    assert cancelled.cancelled
    assert cancelled.instructions[0].startswith("BOLETO CANCELADO: não receber.")


def test_the_demonstrative_writes_five_lines_and_counts_the_rest(owner):
    billing_profile_for(owner)
    for number in range(7):
        subscribed(InstanceFactory(owner=owner, name=f"Loja {number}"), sp(2026, 10, 1))
    services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get(account=owner)
    slip = boleto_slip_for(invoice, services.charge_issue(invoice=invoice))
    assert slip.demonstrative[0] == (
        f"Fatura {invoice.number} – uso de 10/2026 (cobrança pós-paga)"
    )
    assert slip.demonstrative[1:6] == [
        f"Loja {number}: 31 de 31 dias de R$ 99,00 = R$ 99,00" for number in range(5)
    ]
    assert slip.demonstrative[6] == (
        "… e mais 2 instâncias (todas na fatura do painel e no PDF)."
    )
    assert slip.demonstrative[-1] == "Total da fatura: R$ 693,00"


def test_an_invoice_without_its_payers_copy_takes_the_billing_profile(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(
        bill_to_name="", bill_to_document="", bill_to_address=""
    )
    invoice.refresh_from_db()
    invoice.account.billing_profile.name = "Ana Dona"
    invoice.account.billing_profile.document = "52998224725"
    invoice.account.billing_profile.save()
    slip = boleto_slip_for(invoice, invoice.charges.get())
    assert slip.payer_name == "Ana Dona"
    assert slip.payer_document == "CPF 529.982.247-25"
    assert slip.payer_address.startswith("Avenida Paulista, 1000")


# The page and the PDF.


def _expected_text(invoice) -> list[str]:
    charge = invoice.charges.get()
    return [
        "Banco Simulado",
        "999-7",
        boleto.Boleto(charge.barcode, charge.linha_digitavel).linha_digitavel_formatted,
        "Recibo do Pagador",
        "Corte na linha pontilhada",
        "Local de pagamento",
        "Pagável em qualquer banco, mesmo após o vencimento",
        "Vencimento",
        "10/11/2026",
        "Beneficiário",
        "Cobranças Exemplo Ltda – CNPJ 12.345.678/0001-95",
        "Rua Augusta, 500 – Consolação, São Paulo/SP",
        "Agência/Código do beneficiário",
        "1234 / 98765-4",
        "Data do documento",
        f"{timezone.localdate(invoice.issued_at):%d/%m/%Y}",
        "Nº do documento",
        invoice.number,
        "Espécie doc.",
        "DS",
        "Aceite",
        "Data do processamento",
        f"{timezone.localdate(charge.created_at):%d/%m/%Y}",
        "Carteira",
        "17",
        "Espécie",
        "R$",
        "Nosso número",
        charge.nosso_numero,
        "(=) Valor do documento",
        "R$ 99,00",
        "Instruções (texto de responsabilidade do beneficiário)",
        "Após o vencimento, cobrar multa de 2% (R$ 1,98)",
        "Pagador",
        "Loja da Ana Ltda – CNPJ 11.222.333/0001-81",
        "Avenida Paulista, 1000 – Bela Vista, São Paulo/SP – CEP 01310-100",
        "Sacador/Avalista",
        "Garantidora Avalista S.A.",
        "Demonstrativo",
        "Autenticação mecânica – Ficha de Compensação",
    ]


@time_machine.travel(BEFORE_DUE, tick=False)
def test_the_boleto_page_prints_every_field(owner_client, beneficiary, invoice):
    response = owner_client.get(reverse("billing:boleto", args=[invoice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&nbsp;", " ")
    for expected in _expected_text(invoice):
        assert expected.replace("&", "&amp;") in text, expected
    assert 'aria-label="Código de barras"' in body
    assert 'viewBox="0 0 405 ' in body


@time_machine.travel(BEFORE_DUE, tick=False)
def test_the_boleto_page_has_no_inline_style_or_script(owner_client, invoice):
    body = owner_client.get(reverse("billing:boleto", args=[invoice.pk])).content
    body = body.decode()
    assert "style=" not in body
    assert "<style" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)


def _pdf_text(document: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(document))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


@time_machine.travel(BEFORE_DUE, tick=False)
def test_the_pdf_prints_every_field_on_one_page(owner_client, beneficiary, invoice):
    response = owner_client.get(reverse("billing:boleto_pdf", args=[invoice.pk]))
    pages, text = _pdf_text(response.content)
    assert pages == 1
    for expected in _expected_text(invoice):
        assert expected in text, expected
    assert "Vendas" in text and "31 de 31" in text  # the invoice's own lines


def test_a_long_invoice_puts_the_boleto_on_a_page_of_its_own(owner):
    billing_profile_for(owner)
    for number in range(20):
        subscribed(
            InstanceFactory(owner=owner, name=f"Loja {number:02d}"), sp(2026, 10, 1)
        )
    services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get(account=owner)
    charge = services.charge_issue(invoice=invoice)
    pages, text = _pdf_text(invoice_pdf(invoice, charge))
    assert pages == 2
    assert all(f"Loja {number:02d}" in text for number in range(20))
    assert text.count("999-7") == 2  # recibo and ficha, together
    reader = PdfReader(io.BytesIO(invoice_pdf(invoice, charge)))
    assert "Ficha de Compensação" in reader.pages[1].extract_text()
