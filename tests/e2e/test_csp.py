"""The main journeys in Chromium under the Content-Security-Policy: nothing
the browser refuses (it reports each refusal as a `securitypolicyviolation`
event and a console message), and htmx still swaps with eval and its
injected <style> turned off."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from billing import services as billing_services
from instances import services as instance_services
from instances.engines import engine_get
from instances.models import Instance, SimulatedSession
from support import services as support_services
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.e2e.test_instance_journey import _log_in
from tests.factories import PASSWORD, InstanceFactory
from tests.helpers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts. Playwright injects it
# outside the page's policy, so the listener itself is never refused.
LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `in ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def violations(page):
    """What the browser refused on any page of this context: violation
    events and its console's "Refused to ..." messages."""
    found: list[str] = []
    page.context.expose_function(
        "reportCspViolation", lambda text: found.append(f"event: {text}")
    )
    page.context.add_init_script(LISTEN)

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            found.append(f"console: {text}")

    page.on("console", on_console)
    return found


def _no_violations_so_far(page, violations):
    # Violations are reported asynchronously: let the page settle first.
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise((done) => setTimeout(done, 50))")
    assert violations == [], f"{page.url}: {violations}"
    # htmx did not inject its indicator <style> (includeIndicatorStyles off).
    assert page.locator("style").count() == 0, page.url


def test_the_listener_catches_what_the_policy_refuses(page, owner, violations):
    """Without this, a journey with no violations could mean a deaf listener."""
    _log_in(page, owner)
    page.evaluate(
        """() => document.body.insertAdjacentHTML(
             "beforeend", '<p style="color: red">x</p><img src="/x.png" onerror="go()">'
           )"""
    )
    wait_for(lambda: len(violations) >= 2, timeout=5, what="two CSP violations")
    assert any("style-src" in found for found in violations)
    assert any("script-src" in found for found in violations)


def test_the_customer_journey_runs_under_the_policy(
    page, screenshot, owner, violations, live_server, settings
):
    settings.SITE_URL = live_server.url
    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner, name="Vendas"), sp(2026, 9, 1))
    billing_services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )

    _log_in(page, owner)
    _no_violations_so_far(page, violations)

    page.get_by_role("link", name="Adicionar").click()
    page.get_by_label("Nome da instância").fill("Loja Centro")
    page.get_by_role("button", name="Criar e conectar").click()
    expect(page.get_by_role("img", name="QR Code")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Este código muda em \d+ s"))).to_be_visible()
    _no_violations_so_far(page, violations)

    # The phone reads the code; the page's poll (htmx, every 2 s) swaps in
    # "Conectado", and the state badge out of band, with no reload.
    instance = Instance.objects.get(owner=owner, name="Loja Centro")
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    instance_services.engine_events_apply(
        [engine_get().phone_scan(code, "5511987654321")]
    )
    expect(page.get_by_role("heading", name="Conectado", exact=True)).to_be_visible(
        timeout=10_000
    )
    expect(page.locator("#state-badge")).to_have_text("Conectado")
    expect(page.locator("progress.warmup-bar")).to_be_visible()
    screenshot("csp-instance-connected")
    _no_violations_so_far(page, violations)

    page.get_by_label("Mais ações").click()
    page.get_by_role("link", name="Editar").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(
        page.get_by_role("heading", name="URLs que recebem os eventos")
    ).to_be_visible()
    _no_violations_so_far(page, violations)

    page.get_by_role("link", name="Boletos").first.click()
    expect(page.get_by_role("heading", name="Boletos", exact=True)).to_be_visible()
    _no_violations_so_far(page, violations)

    page.get_by_role("link", name="Documentação").first.click()
    expect(page.get_by_text("Primeiros passos").first).to_be_visible()
    screenshot("csp-api-docs")
    _no_violations_so_far(page, violations)


def test_the_admin_queue_runs_under_the_policy(
    page, screenshot, owner, staff, violations, monkeypatch
):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **k: None)
    ticket = support_services.ticket_open(
        account=owner, category="technical", subject="QR Code não aparece", body="Ajuda"
    )

    page.goto("/admin/login/")
    page.get_by_label("E-mail").fill(staff.email)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Acessar").click()
    _no_violations_so_far(page, violations)

    page.goto("/admin/support/ticket/")
    expect(page.get_by_role("link", name="QR Code não aparece")).to_be_visible()
    screenshot("csp-admin-queue")
    _no_violations_so_far(page, violations)

    page.get_by_role("link", name="QR Code não aparece").click()
    expect(page.get_by_text("Ajuda").first).to_be_visible()
    assert str(ticket.pk) in page.url
    _no_violations_so_far(page, violations)

    page.goto(f"/admin/support/customer/{owner.pk}/change/")
    expect(page.get_by_role("heading", name="Instâncias (0)")).to_be_visible()
    screenshot("csp-admin-customer-360")
    _no_violations_so_far(page, violations)
