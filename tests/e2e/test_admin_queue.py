"""The ticket queue fits 1280 px: the subject in phrases, every column in
view (before, the admin's side navigation left the list so little room
that the subject wrapped one word a line and later columns were cut off)."""

import pytest
from playwright.sync_api import expect

from support import services
from tests.e2e.conftest import save_screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_ticket_queue_fits_1280_px(browser, live_server, owner, staff, monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **k: None)
    for subject in ("QR Code não aparece depois da atualização", "Boleto em dobro"):
        services.ticket_open(
            account=owner, category="technical", subject=subject, body="Ajuda"
        )
    context = browser.new_context(
        base_url=live_server.url,
        locale="pt-BR",
        viewport={"width": 1280, "height": 800},
    )
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.get_by_label("E-mail").fill(staff.email)
        page.get_by_label("Senha").fill(PASSWORD)
        page.get_by_role("button", name="Acessar").click()
        page.goto("/admin/support/ticket/")
        subject = page.get_by_role(
            "link", name="QR Code não aparece depois da atualização"
        )
        expect(subject).to_be_visible()
        save_screenshot(page, "admin-ticket-queue-1280")
        # Not one word a line: the subject's column is wide enough for phrases.
        assert subject.bounding_box()["width"] >= 150  # it was 74 px
        last = page.locator("#result_list thead th").last.bounding_box()
        assert last["x"] + last["width"] <= 1280  # every column in view
    finally:
        context.close()
