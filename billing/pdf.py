"""The invoice and its boleto as a PDF (reportlab): the invoice's lines, then
the recibo do pagador with the PIX QR, the cut line and the ficha de
compensação in FEBRABAN's layout, with the Interleaved 2 of 5 barcode at its
nominal 103 × 13 mm. The boleto sits at the foot of the page, where payers
and tellers expect it; when the invoice's lines leave no room for it, it
gets a page of its own."""

import io

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.common import I2of5
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from billing.boleto import BARCODE_HEIGHT_MM, BARCODE_WIDTH_MM, i25_modules
from billing.documents import document_format
from billing.models import Charge, Invoice
from billing.slip import BoletoSlip, boleto_slip_for
from billing.templatetags.billing_tags import brl

MARGIN = 10 * mm
WIDTH = A4[0] - 2 * MARGIN  # 190 mm
SIDE = WIDTH / 4  # the ficha's right-hand column
MAIN = WIDTH - SIDE
HEAD = 8 * mm
ROW = 7 * mm
RECIBO_HEIGHT = HEAD + 2 * ROW + 32 * mm + 4 * mm
CUT_HEIGHT = 8 * mm
FICHA_HEIGHT = HEAD + ROW + 10 * mm + ROW + ROW + 30 * mm + 15 * mm + 19 * mm
BOLETO_HEIGHT = RECIBO_HEIGHT + CUT_HEIGHT + FICHA_HEIGHT
LABEL_FONT = ("Helvetica", 5.5)
VALUE_SIZE = 8.5
SMALL_SIZE = 7


def invoice_pdf(invoice: Invoice, charge: Charge | None) -> bytes:
    """The invoice with the boleto of `charge` (none while it is issued)."""
    slip = boleto_slip_for(invoice, charge)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"PlugMessage – fatura {invoice.period:%m/%Y}")
    pdf.setLineWidth(0.6)
    y = _invoice(pdf, invoice)
    if slip is not None:
        if y - 6 * mm < MARGIN + BOLETO_HEIGHT:
            pdf.showPage()
            pdf.setLineWidth(0.6)
        _boleto(pdf, slip, MARGIN + BOLETO_HEIGHT)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _invoice(pdf, invoice: Invoice) -> float:
    """The invoice's header, payer and lines from the top of the page;
    returns where they end."""
    height = A4[1]
    left, right = MARGIN + 4 * mm, A4[0] - MARGIN - 4 * mm
    y = height - 18 * mm
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(left, y, "PlugMessage")
    pdf.setFont("Helvetica", 10)
    pdf.drawRightString(right, y, _("Fatura %(number)s") % {"number": invoice.number})
    y -= 6 * mm
    pdf.drawString(
        left,
        y,
        _("Uso de %(month)s – cobrança pós-paga")
        % {"month": f"{invoice.period:%m/%Y}"},
    )
    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, _("Pagador"))
    pdf.setFont("Helvetica", 10)
    for text in (
        invoice.bill_to_name,
        _document(invoice.bill_to_document),
        invoice.bill_to_address,
    ):
        y -= 4.5 * mm
        pdf.drawString(left, y, text)

    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(left, y, _("Instância"))
    pdf.drawRightString(left + 110 * mm, y, _("Dias assinados"))
    pdf.drawRightString(left + 140 * mm, y, _("Preço mensal"))
    pdf.drawRightString(right, y, _("Valor"))
    pdf.setFont("Helvetica", 9)
    for line in invoice.lines.all():
        if y < MARGIN + 10 * mm:
            pdf.showPage()
            pdf.setFont("Helvetica", 9)
            y = height - 18 * mm
        y -= 5 * mm
        pdf.drawString(left, y, line.instance_name[:50])
        pdf.drawRightString(
            left + 110 * mm, y, f"{line.days} {_('de')} {line.days_in_month}"
        )
        pdf.drawRightString(left + 140 * mm, y, brl(line.unit_price_cents))
        pdf.drawRightString(right, y, brl(line.amount_cents))
    if invoice.balance_applied_cents:
        y -= 5 * mm
        label = (
            _("Valor de meses anteriores (abaixo do mínimo de um boleto)")
            if invoice.balance_applied_cents > 0
            else _("Crédito de pagamento anterior")
        )
        pdf.drawString(left, y, label)
        pdf.drawRightString(right, y, brl(invoice.balance_applied_cents))
    y -= 6 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawRightString(
        right, y, _("Total: %(total)s") % {"total": brl(invoice.total_cents)}
    )
    y -= 4.5 * mm
    pdf.setFont("Helvetica", 7.5)
    pdf.drawString(
        left,
        y,
        _(
            "Cada linha: preço mensal × dias assinados ÷ dias do mês, "
            "arredondado ao centavo."
        ),
    )
    return y


def _document(digits: str) -> str:
    return ("CPF " if len(digits) == 11 else "CNPJ ") + document_format(digits)


def _head(pdf, top: float, slip: BoletoSlip, right_text: str, size: float) -> None:
    """The header line: bank, code with its digit between rules, and the
    linha digitável (ficha) or the part's name (recibo)."""
    x, base = MARGIN, top - HEAD + 2 * mm
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(x + 1 * mm, base, slip.bank_name)
    code_left, code_right = x + 40 * mm, x + 60 * mm
    pdf.setLineWidth(1.2)
    pdf.line(code_left, top - HEAD, code_left, top - 1 * mm)
    pdf.line(code_right, top - HEAD, code_right, top - 1 * mm)
    pdf.line(x, top - HEAD, x + WIDTH, top - HEAD)
    pdf.setLineWidth(0.6)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString((code_left + code_right) / 2, base, slip.bank_code)
    pdf.setFont("Helvetica-Bold", size)
    pdf.drawRightString(x + WIDTH - 1 * mm, base, right_text)


def _cell(
    pdf,
    x: float,
    top: float,
    width: float,
    height: float,
    label: str,
    lines: list[str] | str = "",
    *,
    right: bool = False,
    bold: bool = False,
    size: float = VALUE_SIZE,
) -> None:
    """A ruled cell: its label small at the top, its value below (wrapped
    to the cell's width, as many lines as fit)."""
    pdf.rect(x, top - height, width, height)
    pdf.setFont(*LABEL_FONT)
    pdf.drawString(x + 1 * mm, top - 2.2 * mm, label)
    font = "Helvetica-Bold" if bold else "Helvetica"
    pdf.setFont(font, size)
    y = top - 2.6 * mm - size * 1.05
    for text in [lines] if isinstance(lines, str) else lines:
        for part in simpleSplit(text, font, size, width - 2 * mm) or [""]:
            if y < top - height + 0.8 * mm:
                return
            if right:
                pdf.drawRightString(x + width - 1 * mm, y, part)
            else:
                pdf.drawString(x + 1 * mm, y, part)
            y -= size * 1.2


def _boleto(pdf, slip: BoletoSlip, top: float) -> None:
    x = MARGIN
    date = "%d/%m/%Y"
    amount = brl(slip.amount_cents)
    beneficiary = f"{slip.beneficiary_name} – {slip.beneficiary_document}"
    payer = f"{slip.payer_name} – {slip.payer_document}"

    # Recibo do pagador.
    _head(pdf, top, slip, _("Recibo do Pagador"), 10)
    y = top - HEAD
    half = WIDTH / 2
    _cell(pdf, x, y, half, ROW, _("Beneficiário"), beneficiary, size=SMALL_SIZE)
    _cell(
        pdf,
        x + half,
        y,
        SIDE,
        ROW,
        _("Agência/Código do beneficiário"),
        slip.agency_code,
        right=True,
    )
    _cell(
        pdf,
        x + half + SIDE,
        y,
        SIDE,
        ROW,
        _("Vencimento"),
        slip.due_date.strftime(date),
        right=True,
        bold=True,
    )
    y -= ROW
    _cell(pdf, x, y, half, ROW, _("Pagador"), payer, size=SMALL_SIZE)
    _cell(pdf, x + half, y, SIDE, ROW, _("Nosso número"), slip.nosso_numero, right=True)
    _cell(
        pdf,
        x + half + SIDE,
        y,
        SIDE,
        ROW,
        _("(=) Valor do documento"),
        amount,
        right=True,
        bold=True,
    )
    y -= ROW
    box = 32 * mm
    _cell(
        pdf,
        x,
        y,
        MAIN,
        box,
        _("Demonstrativo · Nº do documento %(number)s")
        % {"number": slip.document_number},
        slip.demonstrative,
        size=SMALL_SIZE,
    )
    _cell(pdf, x + MAIN, y, SIDE, box, _("Pague com PIX"))
    _qr(pdf, slip.pix_payload, x + MAIN + (SIDE - 26 * mm) / 2, y - box + 2 * mm)
    y -= box
    pdf.setFont(*LABEL_FONT)
    pdf.drawRightString(x + WIDTH, y - 3 * mm, _("Autenticação mecânica"))
    y = top - RECIBO_HEIGHT

    # The cut line.
    pdf.setFont(*LABEL_FONT)
    pdf.drawRightString(
        x + WIDTH, y - CUT_HEIGHT / 2 + 1 * mm, _("Corte na linha pontilhada")
    )
    pdf.setDash(2, 2)
    pdf.line(x, y - CUT_HEIGHT / 2, x + WIDTH, y - CUT_HEIGHT / 2)
    pdf.setDash()
    y -= CUT_HEIGHT

    # Ficha de compensação.
    _head(pdf, y, slip, slip.linha_digitavel, 10.5)
    y -= HEAD
    _cell(pdf, x, y, MAIN, ROW, _("Local de pagamento"), slip.payment_place)
    _cell(
        pdf,
        x + MAIN,
        y,
        SIDE,
        ROW,
        _("Vencimento"),
        slip.due_date.strftime(date),
        right=True,
        bold=True,
    )
    y -= ROW
    tall = 10 * mm
    _cell(
        pdf,
        x,
        y,
        MAIN,
        tall,
        _("Beneficiário"),
        [beneficiary, slip.beneficiary_address],
        size=SMALL_SIZE + 0.5,
    )
    _cell(
        pdf,
        x + MAIN,
        y,
        SIDE,
        tall,
        _("Agência/Código do beneficiário"),
        slip.agency_code,
        right=True,
    )
    y -= tall
    widths = [w * WIDTH / 100 for w in (15, 17, 11, 8, 24, 25)]
    for row in (
        [
            (_("Data do documento"), slip.document_date.strftime(date), False),
            (_("Nº do documento"), slip.document_number, False),
            (_("Espécie doc."), slip.document_kind, False),
            (_("Aceite"), slip.acceptance, False),
            (_("Data do processamento"), slip.processing_date.strftime(date), False),
            (_("Nosso número"), slip.nosso_numero, True),
        ],
        [
            (_("Uso do banco"), "", False),
            (_("Carteira"), slip.wallet, False),
            (_("Espécie"), slip.currency, False),
            (_("Quantidade"), "", False),
            (_("(x) Valor"), "", False),
            (_("(=) Valor do documento"), amount, True),
        ],
    ):
        left = x
        for width, (label, value, last) in zip(widths, row, strict=True):
            _cell(pdf, left, y, width, ROW, label, value, right=last, bold=last)
            left += width
        y -= ROW
    box = 30 * mm
    _cell(
        pdf,
        x,
        y,
        MAIN,
        box,
        _("Instruções (texto de responsabilidade do beneficiário)"),
        slip.instructions,
        size=SMALL_SIZE + 0.5,
    )
    for i, label in enumerate(
        (
            _("(−) Desconto/Abatimento"),
            _("(−) Outras deduções"),
            _("(+) Mora/Multa"),
            _("(+) Outros acréscimos"),
            _("(=) Valor cobrado"),
        )
    ):
        _cell(pdf, x + MAIN, y - i * box / 5, SIDE, box / 5, label)
    y -= box
    payer_box = 15 * mm
    _cell(
        pdf,
        x,
        y,
        WIDTH,
        payer_box,
        _("Pagador"),
        [payer, slip.payer_address],
        size=SMALL_SIZE + 0.5,
    )
    pdf.setFont(*LABEL_FONT)
    pdf.drawString(x + 1 * mm, y - payer_box + 1.2 * mm, _("Sacador/Avalista"))
    pdf.setFont("Helvetica", SMALL_SIZE)
    pdf.drawString(x + 18 * mm, y - payer_box + 1.2 * mm, slip.guarantor)
    y -= payer_box
    pdf.setFont(*LABEL_FONT)
    pdf.drawRightString(
        x + WIDTH, y - 3 * mm, _("Autenticação mecânica – Ficha de Compensação")
    )
    _barcode(pdf, slip.barcode, x + 3 * mm, y - 4 * mm - BARCODE_HEIGHT_MM * mm)


def _barcode(pdf, digits: str, x: float, y: float) -> None:
    barcode_widget(digits).drawOn(pdf, x, y)


def barcode_widget(digits: str) -> I2of5:
    """FEBRABAN's 103 mm for the whole code (its narrow modules), wide bars
    three narrow ones, 13 mm high, no quiet zone drawn (the page gives it)."""
    modules = sum(width for _bar, width in i25_modules(digits))
    return I2of5(
        digits,
        barWidth=BARCODE_WIDTH_MM * mm / modules,
        ratio=3,
        barHeight=BARCODE_HEIGHT_MM * mm,
        checksum=0,
        bearers=0,
        quiet=0,
    )


def _qr(pdf, payload: str, x: float, y: float) -> None:
    qr = QrCodeWidget(payload)
    x0, y0, x1, y1 = qr.getBounds()
    size = 26 * mm
    drawing = Drawing(
        size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0]
    )
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, x, y)
