"""The invoice and its boleto as a PDF (reportlab): the same lines, linha
digitável and Interleaved 2 of 5 barcode as the page, plus the PIX QR."""

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.common import I2of5
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from billing.boleto import Boleto
from billing.documents import document_format
from billing.models import Charge, Invoice
from billing.templatetags.billing_tags import brl


def invoice_pdf(invoice: Invoice, charge: Charge | None) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"PlugMessage – fatura {invoice.period:%m/%Y}")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    y = height - 20 * mm

    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(left, y, "PlugMessage")
    pdf.setFont("Helvetica", 10)
    pdf.drawRightString(right, y, f"Fatura {invoice.number}")
    y -= 7 * mm
    pdf.drawString(left, y, f"Uso de {invoice.period:%m/%Y} – cobrança pós-paga")
    y -= 10 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, "Pagador")
    pdf.setFont("Helvetica", 10)
    for text in (
        invoice.bill_to_name,
        _document(invoice.bill_to_document),
        invoice.bill_to_address,
    ):
        y -= 5 * mm
        pdf.drawString(left, y, text)

    y -= 10 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, "Instância")
    pdf.drawRightString(left + 110 * mm, y, "Dias assinados")
    pdf.drawRightString(left + 140 * mm, y, "Preço mensal")
    pdf.drawRightString(right, y, "Valor")
    pdf.setFont("Helvetica", 10)
    for line in invoice.lines.all():
        if y < BOTTOM:
            y = _next_page(pdf, height)
        y -= 5.5 * mm
        pdf.drawString(left, y, line.instance_name[:50])
        pdf.drawRightString(left + 110 * mm, y, f"{line.days} de {line.days_in_month}")
        pdf.drawRightString(left + 140 * mm, y, brl(line.unit_price_cents))
        pdf.drawRightString(right, y, brl(line.amount_cents))
    if invoice.balance_applied_cents:
        y -= 5.5 * mm
        label = (
            "Valor de meses anteriores (abaixo do mínimo de um boleto)"
            if invoice.balance_applied_cents > 0
            else "Crédito de pagamento anterior"
        )
        pdf.drawString(left, y, label)
        pdf.drawRightString(right, y, brl(invoice.balance_applied_cents))
    y -= 7 * mm
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawRightString(right, y, f"Total: {brl(invoice.total_cents)}")
    y -= 5 * mm
    pdf.setFont("Helvetica", 8)
    pdf.drawString(
        left,
        y,
        "Cada linha: preço mensal × dias assinados ÷ dias do mês, arredondado ao centavo.",
    )

    if charge is not None:
        if y - BOLETO_HEIGHT < BOTTOM:
            y = _next_page(pdf, height)
        _boleto(pdf, charge, left, right, y - 14 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


BOTTOM = 18 * mm
BOLETO_HEIGHT = 95 * mm


def _next_page(pdf, height: float) -> float:
    pdf.showPage()
    pdf.setFont("Helvetica", 10)
    return height - 20 * mm


def _document(digits: str) -> str:
    return ("CPF " if len(digits) == 11 else "CNPJ ") + document_format(digits)


def _boleto(pdf, charge: Charge, left: float, right: float, y: float) -> None:
    pdf.setDash(3, 3)
    pdf.line(left, y + 6 * mm, right, y + 6 * mm)
    pdf.setDash()
    linha = Boleto(charge.barcode, charge.linha_digitavel).linha_digitavel_formatted
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(left, y, f"Banco {charge.barcode[:3]}")
    pdf.drawRightString(right, y, linha)
    y -= 8 * mm
    pdf.setFont("Helvetica", 9)
    rows = [
        ("Beneficiário", "PlugMessage"),
        ("Vencimento", charge.due_date.strftime("%d/%m/%Y")),
        ("Valor do documento", brl(charge.amount_cents)),
        ("Nosso número", charge.nosso_numero),
    ]
    if charge.is_reissue:
        rows.append(
            (
                "Multa e juros",
                f"{brl(charge.fine_cents)} + {brl(charge.interest_cents)}",
            )
        )
    for label, value in rows:
        pdf.drawString(left, y, f"{label}: {value}")
        y -= 5 * mm
    y -= 16 * mm
    # FEBRABAN: 103 mm long (405 narrow modules), wide = 3 narrow, 13 mm high.
    barcode = I2of5(
        charge.barcode,
        barWidth=103 * mm / 405,
        ratio=3,
        barHeight=13 * mm,
        checksum=0,
        bearers=0,
        quiet=0,
    )
    barcode.drawOn(pdf, left, y)

    qr = QrCodeWidget(charge.pix_payload)
    x0, y0, x1, y1 = qr.getBounds()
    size = 38 * mm
    drawing = Drawing(
        size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0]
    )
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, right - size, y - 2 * mm)
    pdf.setFont("Helvetica", 8)
    pdf.drawRightString(right, y - 5 * mm, "Pague com PIX: leia o QR Code")
