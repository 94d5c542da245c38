"""The "Assinar" page, "Cancelar assinatura", "Dados de cobrança" and the
trial banner: owner, another customer (404) and anonymous visitors."""

import pytest
from django.urls import reverse

from billing.models import BillingProfile, SubscriptionPeriod
from instances.models import Instance, InstanceState
from tests.billing.conftest import billing_profile_for

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Ana Dona ME",
    "document": "529.982.247-25",
    "email": "contas@anadona.com.br",
    "postal_code": "01310-100",
    "street": "Avenida Paulista",
    "number": "1000",
    "complement": "conj. 12",
    "district": "Bela Vista",
    "city": "São Paulo",
    "state": "SP",
}


def test_the_instance_page_shows_the_trial_time_left_and_assinar(owner_client, live):
    body = owner_client.get(
        reverse("instances:detail", args=[live.pk])
    ).content.decode()
    assert "Teste grátis: termina em 1 dia e 23 h" in body
    assert reverse("billing:subscribe", args=[live.pk]) in body
    listing = owner_client.get(reverse("instances:list")).content.decode()
    assert "Teste grátis: termina em 1 dia e 23 h" in listing
    assert "Assinar" in listing


def test_the_subscribe_page_states_the_price_and_the_postpaid_rule(owner_client, live):
    response = owner_client.get(reverse("billing:subscribe", args=[live.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "R$ 99,00 por mês" in body
    assert "pós-paga" in body
    assert 'name="document"' in body  # billing data asked the first time


def test_subscribing_the_first_time_saves_the_billing_data(owner_client, owner, live):
    response = owner_client.post(reverse("billing:subscribe", args=[live.pk]), VALID)
    assert response.status_code == 302
    profile = BillingProfile.objects.get(account=owner)
    assert (profile.document, profile.postal_code) == ("52998224725", "01310100")
    live.refresh_from_db()
    assert live.subscribed_since is not None
    page = owner_client.get(response.url).content.decode()
    assert "assinada. Obrigado!" in page
    assert "Assinada desde" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"document": "529.982.247-24"}, "CPF inválido"),
        ({"document": "11.222.333/0001-80"}, "CNPJ inválido"),
        ({"document": "1234"}, "CPF (11 dígitos) ou um CNPJ (14 dígitos)"),
        ({"postal_code": "0131"}, "O CEP tem 8 dígitos"),
        ({"street": ""}, "Este campo é obrigatório"),
    ],
)
def test_bad_billing_data_is_refused_and_nothing_typed_is_lost(
    owner_client, live, changes, error
):
    data = {**VALID, **changes}
    response = owner_client.post(reverse("billing:subscribe", args=[live.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert error in body
    assert 'value="Ana Dona ME"' in body
    assert 'value="contas@anadona.com.br"' in body
    assert not SubscriptionPeriod.objects.exists()
    assert not BillingProfile.objects.exists()


def test_with_billing_data_on_file_it_asks_only_to_confirm(owner_client, owner, live):
    billing_profile_for(owner)
    body = owner_client.get(
        reverse("billing:subscribe", args=[live.pk])
    ).content.decode()
    assert 'name="document"' not in body
    assert "11.222.333/0001-81" in body
    owner_client.post(reverse("billing:subscribe", args=[live.pk]))
    assert SubscriptionPeriod.objects.filter(instance_uuid=live.pk).exists()


def test_cancelling_asks_first_and_states_the_rule(owner_client, owner, live):
    billing_profile_for(owner)
    owner_client.post(reverse("billing:subscribe", args=[live.pk]))
    url = reverse("billing:cancel", args=[live.pk])
    body = owner_client.get(url).content.decode()
    assert "entram na fatura do mês que vem" in body
    live.refresh_from_db()
    assert live.subscribed_since is not None  # a GET changes nothing
    response = owner_client.post(url)
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.state == InstanceState.CANCELLED
    page = owner_client.get(
        reverse("instances:detail", args=[live.pk])
    ).content.decode()
    assert "Assinar de novo" in page


def test_a_subscribed_instance_is_not_deleted_from_the_panel(owner_client, owner, live):
    billing_profile_for(owner)
    owner_client.post(reverse("billing:subscribe", args=[live.pk]))
    response = owner_client.post(
        reverse("instances:delete", args=[live.pk]), follow=True
    )
    assert "Cancele a assinatura desta instância antes de excluí-la." in (
        response.content.decode()
    )
    assert Instance.objects.filter(pk=live.pk).exists()


def test_billing_data_page_saves_and_keeps_bad_input(owner_client, owner):
    url = reverse("billing:profile")
    assert owner_client.get(url).status_code == 200
    bad = owner_client.post(url, {**VALID, "document": "000.000.000-00"})
    assert "CPF inválido" in bad.content.decode()
    assert 'value="Avenida Paulista"' in bad.content.decode()
    assert owner_client.post(url, VALID).status_code == 302
    assert BillingProfile.objects.get(account=owner).city == "São Paulo"


def test_the_next_address_after_saving_stays_on_this_site(owner_client, owner):
    url = reverse("billing:profile")
    response = owner_client.post(url, {**VALID, "proximo": "https://evil.test/"})
    assert response.url == url


@pytest.mark.parametrize("name", ["billing:subscribe", "billing:cancel"])
def test_another_customers_instance_is_not_found(client, other, live, name):
    client.force_login(other)
    assert client.get(reverse(name, args=[live.pk])).status_code == 404
    assert client.post(reverse(name, args=[live.pk])).status_code == 404
    live.refresh_from_db()
    assert live.subscribed_since is None


@pytest.mark.parametrize("name", ["billing:subscribe", "billing:cancel"])
def test_anonymous_visitors_are_sent_to_log_in(client, live, name):
    for method in (client.get, client.post):
        response = method(reverse(name, args=[live.pk]))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert client.get(reverse("billing:profile")).status_code == 302
