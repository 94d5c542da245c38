import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db

# Every page of the panel shell, with the sidebar entry it highlights.
PANEL_PAGES = [
    ("instances:list", "Instâncias"),
    ("billing:invoices", "Boletos"),
    ("api:openapi-view", "Documentação"),
    ("support:home", "Suporte"),
    ("support:best_practices", "Boas práticas"),
    ("accounts:profile", "Minha conta"),
    ("accounts:security", "Minha conta"),
    ("account_change_password", "Minha conta"),
]


@pytest.mark.parametrize(("name", "entry"), PANEL_PAGES)
def test_each_page_opens_for_a_customer_with_its_entry_highlighted(
    owner_client, name, entry
):
    response = owner_client.get(reverse(name))

    assert response.status_code == 200
    body = response.content.decode()
    sidebar = body[body.index('<aside class="sidebar">') : body.index("</aside>")]
    assert f'aria-current="page">{entry}</a>' in sidebar
    # Only one sidebar entry; a page's own tabs mark theirs in the content.
    assert sidebar.count('aria-current="page"') == 1
    for label in (
        "Instâncias",
        "Boletos",
        "Documentação",
        "Suporte",
        "Boas práticas",
        "Minha conta",
        "Sair",
    ):
        assert label in body


# The API docs are public, like every peer's.
PRIVATE_PAGES = [page for page in PANEL_PAGES if page[0] != "api:openapi-view"]


@pytest.mark.parametrize(("name", "entry"), PRIVATE_PAGES)
def test_each_page_sends_an_anonymous_visitor_to_login(client, name, entry):
    url = reverse(name)
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


def test_a_visitor_reads_the_api_docs_without_the_panel_menu(client):
    response = client.get(reverse("api:openapi-view"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Primeiros passos" in body
    assert "Sair" not in body
    assert "Entrar" in body and "Criar conta grátis" in body


def test_the_home_sends_customers_to_instances_and_visitors_to_login(client, owner):
    assert client.get("/").url == reverse("account_login")
    client.force_login(owner)
    assert client.get("/").url == reverse("instances:list")


def test_the_support_page_names_the_support_address(owner_client, settings):
    body = owner_client.get(reverse("support:home")).content.decode()
    assert settings.SUPPORT_EMAIL in body


def test_a_missing_page_is_a_portuguese_404(owner_client):
    response = owner_client.get("/nao-existe/")

    assert response.status_code == 404
    assert "Página não encontrada" in response.content.decode()


def test_a_server_error_is_a_portuguese_500():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Algo deu errado" in response.content.decode()


def test_a_missing_csrf_token_is_explained_in_portuguese(owner, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("accounts:profile"), {"full_name": "x"})

    assert response.status_code == 403
    assert "Formulário expirado" in response.content.decode()


def test_the_panel_is_built_for_phones(owner_client):
    body = owner_client.get(reverse("instances:list")).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert 'for="nav-toggle"' in body


def test_htmx_comes_from_our_own_static_files(owner_client):
    body = owner_client.get(reverse("instances:list")).content.decode()
    assert '<script src="/static/vendor/htmx/htmx.min.js" defer>' in body
    assert "https://" not in body.split("</head>")[0]
    assert "X-CSRFToken" in body


def test_the_health_endpoint_answers_without_login(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_the_favicon_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO


def test_month_names_are_lower_case_mid_sentence():
    from datetime import date, datetime

    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("pt-br"):
        assert date_format(date(2026, 11, 30)) == "30 de novembro de 2026"
        assert (
            date_format(datetime(2026, 3, 1, 9, 5), "DATETIME_FORMAT")
            == "1 de março de 2026 às 09:05"
        )
