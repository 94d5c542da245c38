import pytest
from django.urls import reverse
from django.utils.timezone import localtime

from instances import services
from instances.engines.base import EngineUnavailable
from instances.models import Instance, InstanceEvent, InstanceState, SimulatedSession

pytestmark = pytest.mark.django_db
S = InstanceState


class DownEngine:
    name = "down"

    def __getattr__(self, attribute):
        def fail(*args, **kwargs):
            raise EngineUnavailable("timeout")

        return fail


@pytest.fixture
def engine_down(monkeypatch):
    monkeypatch.setattr("instances.services.engine_get", lambda: DownEngine())


def test_the_empty_list_explains_instances_and_offers_to_add(owner_client):
    body = owner_client.get(reverse("instances:list")).content.decode()

    assert "Você ainda não tem instâncias" in body
    assert "número de WhatsApp" in body
    assert f'href="{reverse("instances:create")}"' in body
    assert "Adicionar" in body


def test_the_list_shows_name_number_state_and_trial(owner_client, connected):
    body = owner_client.get(reverse("instances:list")).content.decode()

    assert "Vendas" in body
    assert "+55 11 98765-4321" in body
    assert 'class="badge badge-ok">Conectado<' in body
    assert "termina em 1 dia e 23 h" in body


def test_adding_an_instance_opens_its_page_with_a_qr_code(owner_client, owner):
    response = owner_client.post(reverse("instances:create"), {"name": "  Suporte  "})

    instance = Instance.objects.get(owner=owner)
    assert response.url == reverse("instances:detail", args=[instance.pk])
    assert instance.name == "Suporte"
    assert instance.state == S.WAITING_SCAN
    assert instance.trial_ends_at - instance.created_at == services_trial()
    page = owner_client.get(response.url).content.decode()
    assert '<svg class="qr" role="img" aria-label="QR Code"' in page
    assert "Aparelhos conectados" in page
    assert "Conectar um aparelho" in page
    assert 'hx-trigger="every 2s"' in page
    assert list(instance.events.order_by("id").values_list("to_state", flat=True)) == [
        S.CREATED,
        S.WAITING_SCAN,
    ]


def services_trial():
    from instances.models import TRIAL_LENGTH

    return TRIAL_LENGTH


@pytest.mark.parametrize(
    ("name", "message"), [("   ", "Dê um nome"), ("x" * 61, "no máximo 60")]
)
def test_a_bad_name_is_explained_and_kept(owner_client, owner, name, message):
    response = owner_client.post(reverse("instances:create"), {"name": name})

    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    if name.strip():
        assert f'value="{name}"' in body
    assert not Instance.objects.exists()


def test_an_engine_outage_on_create_keeps_the_instance_and_says_so(
    owner_client, owner, engine_down
):
    response = owner_client.post(
        reverse("instances:create"), {"name": "Vendas"}, follow=True
    )

    instance = Instance.objects.get(owner=owner)
    assert instance.state == S.CREATED
    assert "Serviço do WhatsApp indisponível" in response.content.decode()
    assert "Conectar" in response.content.decode()


def test_the_page_shows_id_token_api_url_docs_and_trial(
    owner_client, instance, settings
):
    body = owner_client.get(
        reverse("instances:detail", args=[instance.pk])
    ).content.decode()

    assert f'<code id="instance-id">{instance.pk}</code>' in body
    assert f'<code id="instance-token">{instance.token}</code>' in body
    assert f"{settings.SITE_URL}/instances/{instance.pk}" in body
    assert 'data-copy="instance-token" hidden' in body
    assert reverse("api:openapi-view") in body
    assert localtime(instance.trial_ends_at).strftime("%d/%m/%Y às %H:%M") in body
    assert "termina em" in body
    assert "Histórico" in body and "Instância criada" in body


def test_the_menu_offers_edit_disconnect_and_delete(owner_client, connected):
    body = owner_client.get(
        reverse("instances:detail", args=[connected.pk])
    ).content.decode()

    assert 'aria-label="Mais ações"' in body
    for name in ("edit", "disconnect", "delete"):
        assert reverse(f"instances:{name}", args=[connected.pk]) in body


def test_a_new_token_needs_confirming_and_replaces_the_old(owner_client, instance):
    url = reverse("instances:token", args=[instance.pk])
    old = instance.token

    confirm = owner_client.get(url).content.decode()
    assert "deixa de funcionar imediatamente" in confirm
    instance.refresh_from_db()
    assert instance.token == old

    owner_client.post(url)
    instance.refresh_from_db()
    assert instance.token != old
    assert len(instance.token) >= 32
    assert not Instance.objects.filter(token=old).exists()


def test_renaming_saves_with_a_message(owner_client, instance):
    url = reverse("instances:edit", args=[instance.pk])
    response = owner_client.post(
        url, {"name": "Atendimento", "opt_out_words": "sair, Parar"}, follow=True
    )

    instance.refresh_from_db()
    assert instance.name == "Atendimento"
    assert "Dados da instância salvos." in response.content.decode()
    assert instance.opt_out_words == "SAIR, PARAR"


def test_renaming_ignores_fields_that_are_not_the_customers(
    owner_client, instance, other
):
    url = reverse("instances:edit", args=[instance.pk])
    owner_client.post(
        url,
        {
            "name": "Atendimento",
            "opt_out_words": "SAIR",
            "owner": other.pk,
            "state": "connected",
            "phone_number": "+5511999999999",
            "token": "x",
        },
    )

    instance.refresh_from_db()
    assert (
        instance.name,
        instance.owner_id,
        instance.state,
        instance.phone_number,
    ) == (
        "Atendimento",
        instance.owner_id,
        S.WAITING_SCAN,
        "",
    )
    assert instance.token != "x"


def test_a_bad_rename_is_explained_and_kept(owner_client, instance):
    url = reverse("instances:edit", args=[instance.pk])
    response = owner_client.post(url, {"name": "y" * 70})

    assert response.status_code == 200
    assert "no máximo 60" in response.content.decode()
    assert f'value="{"y" * 70}"' in response.content.decode()
    instance.refresh_from_db()
    assert instance.name == "Vendas"


def test_the_edit_tabs_link_each_other(owner_client, instance):
    data = owner_client.get(
        reverse("instances:edit", args=[instance.pk])
    ).content.decode()
    hooks = owner_client.get(
        reverse("webhooks:edit", args=[instance.pk])
    ).content.decode()

    assert "Dados da Instância" in data and "Webhooks" in data
    assert reverse("webhooks:edit", args=[instance.pk]) in data
    assert reverse("instances:edit", args=[instance.pk]) in hooks
    assert "Mensagem recebida" in hooks


def test_disconnecting_asks_first_then_logs_out_at_the_engine(
    owner_client, connected, owner
):
    url = reverse("instances:disconnect", args=[connected.pk])

    assert "Sim, desconectar" in owner_client.get(url).content.decode()
    connected.refresh_from_db()
    assert connected.state == S.CONNECTED

    response = owner_client.post(url, follow=True)
    connected.refresh_from_db()
    assert connected.state == S.DISCONNECTED
    assert (
        SimulatedSession.objects.get(engine_ref=connected.engine_ref).status == "closed"
    )
    assert "Desconectado" in response.content.decode()
    event = connected.events.first()
    assert (event.to_state, event.actor_kind, event.actor) == (
        S.DISCONNECTED,
        "customer",
        owner,
    )


def test_connect_after_disconnect_shows_a_fresh_qr(owner_client, connected):
    owner_client.post(reverse("instances:disconnect", args=[connected.pk]))

    owner_client.post(reverse("instances:connect", args=[connected.pk]))

    connected.refresh_from_db()
    assert connected.state == S.WAITING_SCAN
    assert connected.qr_code
    page = owner_client.get(
        reverse("instances:detail", args=[connected.pk])
    ).content.decode()
    assert '<svg class="qr"' in page


def test_an_engine_outage_on_disconnect_changes_nothing(
    owner_client, connected, engine_down
):
    response = owner_client.post(
        reverse("instances:disconnect", args=[connected.pk]), follow=True
    )

    connected.refresh_from_db()
    assert connected.state == S.CONNECTED
    assert "indisponível" in response.content.decode()


def test_deleting_asks_first_then_removes_it_and_its_session(owner_client, instance):
    url = reverse("instances:delete", args=[instance.pk])

    assert "não pode ser desfeita" in owner_client.get(url).content.decode()
    assert Instance.objects.filter(pk=instance.pk).exists()

    response = owner_client.post(url, follow=True)
    assert not Instance.objects.filter(pk=instance.pk).exists()
    assert not InstanceEvent.objects.filter(instance_id=instance.pk).exists()
    assert not SimulatedSession.objects.filter(engine_ref=instance.engine_ref).exists()
    assert "excluída" in response.content.decode()


def test_pairing_by_code_shows_eight_characters(owner_client, instance):
    url = reverse("instances:pair", args=[instance.pk])
    assert "Número do WhatsApp" in owner_client.get(url).content.decode()

    response = owner_client.post(url, {"phone_number": "(11) 98765-4321"}, follow=True)

    instance.refresh_from_db()
    assert len(instance.pairing_code) == 8
    assert instance.pairing_phone == "+5511987654321"
    body = response.content.decode()
    assert f"{instance.pairing_code[:4]}-{instance.pairing_code[4:]}" in body
    assert "Conectar com número de telefone" in body


def test_pairing_with_a_bad_number_is_explained_and_kept(owner_client, instance):
    response = owner_client.post(
        reverse("instances:pair", args=[instance.pk]), {"phone_number": "123"}
    )

    assert response.status_code == 200
    assert "Número de telefone inválido" in response.content.decode()
    assert 'value="123"' in response.content.decode()


def test_connecting_a_connected_instance_is_refused(owner_client, connected):
    response = owner_client.post(
        reverse("instances:connect", args=[connected.pk]), follow=True
    )

    assert "já está conectada" in response.content.decode()
    connected.refresh_from_db()
    assert connected.state == S.CONNECTED


def test_services_refuse_disconnecting_an_instance_never_connected(owner):
    created = services.instance_create(owner=owner, name="Nova")
    with pytest.raises(services.InstanceError):
        services.instance_disconnect(
            instance=created, actor_kind="customer", actor=owner
        )


def test_pages_that_show_a_token_or_a_secret_are_never_cached(owner_client, owner):
    instance = services.instance_create(owner=owner, name="Sigilo")
    for url in (
        reverse("instances:detail", args=[instance.pk]),
        reverse("webhooks:edit", args=[instance.pk]),
        reverse("accounts:security"),
    ):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
