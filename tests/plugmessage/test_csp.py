"""The Content-Security-Policy: its header on every kind of page, and pages
with nothing inline that the policy would refuse (script, style, handler).

The panel's pages are found by walking the URL configuration, so a page
added later is checked without anyone remembering to list it here."""

from datetime import date
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse

from billing import services as billing_services
from billing.models import Invoice
from instances import health
from instances import services as instance_services
from instances.engines import engine_get
from instances.models import ExclusionSource, SimulatedSession
from plugmessage.urls import urlpatterns as site_urlpatterns
from privacy import services as privacy_services
from support import services as support_services
from tests.billing.conftest import billing_profile_for, sp, subscribed
from tests.factories import InstanceFactory
from tests.privacy.conftest import delivered

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _boom(request):
    raise RuntimeError("falha de propósito")


def _forbidden(request):
    raise PermissionDenied


# This module is also the URL configuration of the error-page tests: the
# site's URLs plus two views that fail, so the 403 and 500 pages are served
# through the middleware, as a browser gets them.
urlpatterns = [
    path("teste/erro/", _boom),
    path("teste/proibido/", _forbidden),
    *site_urlpatterns,
]


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class _InlineCodeFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' and
    'unsafe-eval' refuses, or that htmx would have to eval."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            value = (value or "").strip()
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            elif name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            elif name.startswith(("hx-on", "data-hx-on")):
                self.found.append(f"{name}= on <{tag}> (htmx evaluates it)")
            elif name in (
                "href",
                "src",
                "action",
                "formaction",
            ) and value.lower().startswith("javascript:"):
                self.found.append(f"{name}=javascript: on <{tag}>")
            elif name in ("hx-trigger", "data-hx-trigger") and "[" in value:
                self.found.append(f'{name}="{value}" (a filter htmx evaluates)')
            elif name == "hx-vars" or (
                name in ("hx-vals", "hx-headers")
                and value.startswith(("js:", "javascript:"))
            ):
                self.found.append(f"{name}= with code on <{tag}>")

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def assert_csp_clean(response):
    """The page carries the policy and nothing the policy refuses."""
    assert policy_of(response) == POLICY
    if response.headers.get("Content-Type", "").startswith("text/html"):
        found = inline_code(response.content.decode())
        assert not found, f"{response.request['PATH_INFO']}: {found}"


# The checker itself: each kind of inline code is caught.


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script type="application/json">{}</script>',
        "<style>p { color: red }</style>",
        '<p style="color: red">x</p>',
        '<button onclick="go()">x</button>',
        "<body onload=go()>",
        '<div hx-on:click="go()"></div>',
        '<div hx-on::after-request="go()"></div>',
        '<a href="javascript:go()">x</a>',
        "<div hx-trigger=\"keyup[key=='Enter']\"></div>",
        '<div hx-vals="js:{a: go()}"></div>',
        "<img src=x.png onerror=go()>",
    ],
)
def test_the_checker_finds_inline_code(html):
    assert inline_code(html)


def test_the_checker_lets_external_files_and_plain_htmx_through():
    html = (
        '<script src="/static/js/panel.js" defer></script>'
        '<link rel="stylesheet" href="/static/css/app.css">'
        '<div hx-get="/x/" hx-trigger="every 2s" hx-swap="outerHTML"></div>'
        '<body hx-headers=\'{"X-CSRFToken": "abc"}\' class="panel">'
        '<button type="button" data-copy="token">Copiar</button>'
    )
    assert inline_code(html) == []


# Public pages.

PUBLIC_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
    "api:openapi-view",
    "instances:docs_migrate_zapi",
    "webhooks:docs",
]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_public_page_carries_the_policy_and_no_inline_code(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert_csp_clean(response)


def test_the_api_docs_carry_the_policy_for_a_customer_too(owner_client):
    response = owner_client.get(reverse("api:openapi-view"))

    assert response.status_code == 200
    assert "Primeiros passos" in response.content.decode()
    assert_csp_clean(response)


def test_an_api_answer_carries_the_policy(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert policy_of(response) == POLICY


def test_the_policy_allows_nothing_inline_and_no_eval(client):
    header = client.get(reverse("account_login")).headers["Content-Security-Policy"]

    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "nonce-" not in header
    assert "data:" not in header


def test_htmx_is_told_not_to_inject_style_or_eval(client):
    body = client.get(reverse("account_login")).content.decode()

    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
        '"allowEval": false, "allowScriptTags": false}\'>'
    ) in body
    # The meta comes before htmx, which reads it once, when it starts.
    assert body.index('name="htmx-config"') < body.index("htmx.min.js")


# Error pages, served through the middleware.


@pytest.mark.urls("tests.plugmessage.test_csp")
def test_a_missing_page_carries_the_policy(owner_client):
    response = owner_client.get("/nao-existe/")

    assert response.status_code == 404
    assert "Página não encontrada" in response.content.decode()
    assert_csp_clean(response)


@pytest.mark.urls("tests.plugmessage.test_csp")
def test_a_forbidden_page_carries_the_policy(owner_client):
    response = owner_client.get("/teste/proibido/")

    assert response.status_code == 403
    assert "Acesso negado" in response.content.decode()
    assert_csp_clean(response)


def test_an_expired_form_page_carries_the_policy(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("accounts:profile"), {"full_name": "x"})

    assert response.status_code == 403
    assert "Formulário expirado" in response.content.decode()
    assert_csp_clean(response)


@pytest.mark.urls("tests.plugmessage.test_csp")
def test_a_server_error_carries_the_policy_and_a_stylesheet_that_exists(client):
    client.raise_request_exception = False
    response = client.get("/teste/erro/")

    assert response.status_code == 500
    body = response.content.decode()
    assert "Algo deu errado" in body
    assert_csp_clean(response)
    # Linked by its plain name (no manifest lookup), and that file is there.
    assert '<link rel="stylesheet" href="/static/css/app.css">' in body
    assert finders.find("css/app.css")


# The panel: every page a customer opens with GET, found by walking the URLs.


@pytest.fixture
def panel_objects(owner, monkeypatch, django_capture_on_commit_callbacks):
    """One of everything a panel URL can point at, all the owner's."""
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **k: None)
    waiting = instance_services.instance_connect(
        instance=instance_services.instance_create(owner=owner, name="Loja Centro"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=waiting.engine_ref).code
    connected = instance_services.instance_connect(
        instance=instance_services.instance_create(owner=owner, name="Loja Sul"),
        actor_kind="customer",
    )
    connected_code = SimulatedSession.objects.get(engine_ref=connected.engine_ref).code
    instance_services.engine_events_apply(
        [engine_get().phone_scan(connected_code, "5511987654321")]
    )
    delivery = delivered(connected)
    with django_capture_on_commit_callbacks(execute=True):
        job = health.exclusion_import_request(
            instance=connected,
            content=b"numero\n+5521912345678\n",
            file_name="lista.csv",
            actor=owner,
        )
    entry, _created = health.exclusion_add(
        instance=connected,
        phone="(21) 98888-7777",
        reason="pediu para sair",
        source=ExclusionSource.CUSTOMER,
        actor=owner,
    )
    erasure = privacy_services.contact_erasure_request(
        instance=connected, phone="5521912345678", actor=owner
    )
    ticket = support_services.ticket_open(
        account=owner, category="technical", subject="QR não aparece", body="Ajuda"
    )
    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner, name="Assinada"), sp(2026, 9, 1))
    billing_services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get(account=owner)
    billing_services.charge_issue(invoice=invoice)
    return {
        "instance_id": [waiting.pk, connected.pk],
        "import_id": [job.pk],
        "entry_id": [entry.pk],
        "delivery_id": [delivery.pk],
        "endpoint_id": [delivery.endpoint_id],
        "erasure_id": [erasure.pk],
        "ticket_id": [ticket.pk],
        "invoice_id": [invoice.pk],
        "code": [code],
        # allauth's links from emails: an unknown key shows the "invalid
        # link" page.
        "key": ["chave-que-nao-existe"],
        "uidb36": ["1"],
        "kind": ["text", "message_received"],
    }


# Panel URLs that are not pages: files, engine and provider callbacks, and the
# views that only act on POST (their GET is a bare 405).
NOT_PAGES = {
    "media:download",
    "engine_events",
    "billing:payment_webhook",
    "billing:boleto_pdf",
    "support:attachment",
    "instances:exclusion_export",
}


def _panel_urls(resolver=None, prefix="", namespace=""):
    """(name, route with <params>, param names) of every named URL outside
    the admin and the API."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin" or entry.namespace == "api":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _panel_urls(entry, route, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, entry.pattern.regex.groupindex.keys()


def test_every_panel_page_carries_the_policy_and_no_inline_code(
    owner_client, panel_objects
):
    checked = {}
    for name, params in _panel_urls():
        if name in NOT_PAGES or name.startswith(("admin:", "api:")):
            continue
        missing = [param for param in params if param not in panel_objects]
        assert not missing, f"{name}: add a value for {missing} to panel_objects"
        for url in _urls_for(name, list(params), panel_objects):
            response = owner_client.get(url)
            assert response.headers.get("Content-Security-Policy"), url
            # 286: htmx's "stop polling", with the final fragment.
            if response.status_code in (200, 286):
                assert_csp_clean(response)
                checked[name] = response.status_code
            elif response.status_code != 405:
                assert response.status_code in (302, 404), (url, response)
                assert_csp_clean(response)
    # The walk really opened the customer's pages, not only refusals.
    for name in (
        "instances:list",
        "instances:create",
        "instances:detail",
        "instances:qr",
        "instances:edit",
        "instances:exclusions",
        "instances:exclusion_import_detail",
        "instances:simulator_phone",
        "webhooks:edit",
        "webhooks:deliveries",
        "webhooks:delivery",
        "billing:invoices",
        "billing:boleto",
        "billing:subscribe",
        "billing:profile",
        "privacy:contact_erase",
        "privacy:erasure",
        "support:home",
        "support:ticket",
        "support:ticket_create",
        "support:help",
        "support:best_practices",
        "accounts:profile",
        "accounts:security",
        "account_change_password",
    ):
        assert name in checked, f"{name} was not opened"


def _urls_for(name, params, values):
    if not params:
        return [reverse(name)]
    urls = []
    for instance_id in values["instance_id"] if "instance_id" in params else [None]:
        for kind in values["kind"] if "kind" in params else [None]:
            kwargs = {
                param: values[param][0]
                for param in params
                if param not in ("instance_id", "kind")
            }
            if instance_id is not None:
                kwargs["instance_id"] = instance_id
            if kind is not None:
                kwargs["kind"] = kind
            urls.append(reverse(name, kwargs=kwargs))
    return urls


def test_the_qr_poll_and_its_partial_carry_the_policy(owner_client, panel_objects):
    waiting = panel_objects["instance_id"][0]
    url = reverse("instances:qr", args=[waiting])

    response = owner_client.get(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert_csp_clean(response)


def test_the_warm_up_bar_is_a_progress_element(owner_client, panel_objects):
    connected = panel_objects["instance_id"][1]
    body = owner_client.get(reverse("instances:detail", args=[connected])).content

    assert b'<progress class="warmup-bar" value="0" max="' in body


# The admin, as a member of the support team.


def _admin_urls(staff):
    """The index, and every registered model's list, add form and the change
    form of the first row the support team sees."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    yield reverse("admin:index")
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        obj = model_admin.get_queryset(request).order_by("pk").first()
        if obj is not None:
            yield reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
            )


def test_every_admin_page_carries_the_policy_and_no_inline_code(
    staff_client, staff, panel_objects
):
    opened = 0
    for url in _admin_urls(staff):
        response = staff_client.get(url)
        assert response.headers.get("Content-Security-Policy"), url
        assert response.status_code in (200, 302, 403), (url, response.status_code)
        assert_csp_clean(response)
        opened += response.status_code == 200
    assert opened >= 10


def test_the_customer_360_page_takes_its_styles_from_a_file(
    staff_client, owner, panel_objects
):
    response = staff_client.get(
        reverse("admin:support_customer_change", args=[owner.pk])
    )

    assert response.status_code == 200
    assert "/static/css/admin.css" in response.content.decode()
    assert finders.find("css/admin.css")
    assert_csp_clean(response)


def test_the_admin_login_carries_the_policy(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert_csp_clean(response)
