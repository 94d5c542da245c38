"""The boleto on paper: Chromium's print of the boleto page fits one A4
sheet in portrait and in landscape, with the bars whole and never narrower
than FEBRABAN's 103 × 13 mm."""

import io
import shutil
import subprocess
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from billing import services
from billing.models import Invoice
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.e2e.conftest import SCREENSHOTS, save_screenshot
from tests.e2e.test_instance_journey import _log_in
from tests.factories import InstanceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PX_PER_MM = 96 / 25.4
PAGE_MM = {"portrait": (210, 297), "landscape": (297, 210)}
MARGIN_MM = 10  # the stylesheet's @page margin
BARCODE_MM = (103, 13)


def _invoice_with_boleto(owner) -> Invoice:
    billing_profile_for(owner)
    for name in ("Vendas", "Suporte", "Financeiro"):
        subscribed(InstanceFactory(owner=owner, name=name), sp(2026, 10, 1))
    services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get(account=owner)
    services.charge_issue(invoice=invoice)
    return invoice


def _save(pdf: bytes, name: str) -> None:
    """The printed sheet beside the other screenshots (and as PNG when
    poppler's pdftoppm is there), to be looked at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(  # noqa: S603
            ["pdftoppm", "-png", "-r", "100", "-singlefile", str(path)]  # noqa: S607
            + [str(SCREENSHOTS / name)],
            check=True,
        )


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_boleto_prints_on_one_a4_sheet_with_whole_bars(page, owner, orientation):
    invoice = _invoice_with_boleto(owner)
    _log_in(page, owner)
    page.goto(reverse("billing:boleto", args=[invoice.pk]))
    expect(page.get_by_text("Recibo do Pagador", exact=True)).to_be_visible()
    expect(page.get_by_text("Corte na linha pontilhada")).to_be_visible()
    save_screenshot(page, f"boleto-screen-{orientation}")

    printed = page.pdf(format="A4", landscape=orientation == "landscape")
    _save(printed, f"boleto-print-{orientation}")
    reader = PdfReader(io.BytesIO(printed))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    charge = invoice.charges.get()
    assert "999-7" in text
    assert charge.nosso_numero in text
    assert "Ficha de Compensação" in text
    assert "Fatura de 10/2026" not in text  # the panel's head is not printed

    # With print media, at the sheet's width and at what its margins leave,
    # the bars are laid out whole inside the page and at full size.
    page_width_mm, page_height_mm = PAGE_MM[orientation]
    page.emulate_media(media="print")
    for width_mm in (page_width_mm, page_width_mm - 2 * MARGIN_MM):
        width = round(width_mm * PX_PER_MM)
        page.set_viewport_size({"width": width, "height": 900})
        bars = page.get_by_role("img", name="Código de barras").locator("svg")
        box = bars.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["width"] >= BARCODE_MM[0] * PX_PER_MM - 0.5
        assert box["height"] >= BARCODE_MM[1] * PX_PER_MM - 0.5
        ratio = box["width"] / box["height"]
        assert ratio == pytest.approx(BARCODE_MM[0] / BARCODE_MM[1], rel=0.01)
        # Nothing wider than the page is left for the print to clip.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    # ...and what prints ends within the sheet's printable height.
    printable_height = (page_height_mm - 2 * MARGIN_MM) * PX_PER_MM
    main = page.get_by_role("main").bounding_box()
    assert main is not None
    assert main["y"] + main["height"] <= printable_height


def test_the_boleto_page_on_a_phone_shows_each_invoice_line_as_a_card(page, owner):
    invoice = _invoice_with_boleto(owner)
    _log_in(page, owner)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("billing:boleto", args=[invoice.pk]))
    row = page.locator("tbody tr").filter(has_text="Financeiro").first
    expect(row).to_be_visible()
    save_screenshot(page, "boleto-phone")

    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    for label in ("Instância", "Dias assinados", "Valor"):
        cell = row.locator(f'td[data-label="{label}"]')
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (label, box)
        shown = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert shown == f'"{label}"'
