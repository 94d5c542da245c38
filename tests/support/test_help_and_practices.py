"""The help centre (search with and without JavaScript) and Boas práticas
with each instance's checklist."""

from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from instances.models import ExclusionEntry, Instance
from support.help import QUESTIONS, questions_search
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db


def test_every_answer_links_to_a_real_place_in_the_panel():
    assert len(QUESTIONS) >= 15
    for question in QUESTIONS:
        try:
            reverse(question.link_name)
        except NoReverseMatch:  # pragma: no cover - the assert says which
            pytest.fail(f"{question.slug}: {question.link_name} does not exist")


def test_search_ignores_case_and_accents_and_needs_every_word():
    slugs = [q.slug for q in questions_search("BOLETO pix")]
    assert slugs == ["boletos"]
    assert "trocar-email" in [q.slug for q in questions_search("email")]
    assert "teste-gratis" in [q.slug for q in questions_search("gratis")]
    assert questions_search("xyzzy") == []
    assert len(questions_search("  ")) == len(QUESTIONS)


def test_the_help_page_filters_without_javascript(owner_client):
    url = reverse("support:help")
    everything = owner_client.get(url).content.decode()
    assert everything.count('class="card faq"') == len(QUESTIONS)
    filtered = owner_client.get(url, {"q": "token"}).content.decode()
    assert "Onde encontro o ID e o token da instância?" in filtered
    assert "Como crio minha conta?" not in filtered
    assert 'value="token"' in filtered
    none = owner_client.get(url, {"q": "xyzzy"}).content.decode()
    assert "Nenhuma resposta para “xyzzy”." in none
    assert reverse("support:ticket_create") in none


def test_typing_in_the_search_swaps_only_the_results(owner_client):
    response = owner_client.get(
        reverse("support:help"), {"q": "cancelo"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="help-results">')
    assert "Como cancelo a assinatura?" in body
    assert "<html" not in body


def test_best_practices_link_each_practice_to_what_enforces_it(owner_client):
    body = owner_client.get(reverse("support:best_practices")).content.decode()
    for anchor in (
        "maturacao",
        "descadastro",
        "lista-de-exclusao",
        "24-horas",
        "perfil",
    ):
        assert f'id="{anchor}"' in body
    assert "limite de maturação" in body
    assert "lista de exclusão" in body
    assert "Quando você criar uma instância" in body


def test_the_checklist_shows_what_each_own_instance_follows(owner_client, owner, other):
    followed = InstanceFactory(owner=owner, name="Cuidada")
    Instance.objects.filter(pk=followed.pk).update(
        opt_out_reply="Pronto, você saiu da lista.",
        number_activated_at=timezone.localdate() - timedelta(days=10),
        connected_at=timezone.now() - timedelta(days=8),
        warmup_started_at=timezone.now() - timedelta(days=8),
    )
    ExclusionEntry.objects.create(
        instance=followed, phone="+5521998765432", source="customer"
    )
    bare = InstanceFactory(owner=owner, name="Nova")
    Instance.objects.filter(pk=bare.pk).update(opt_out_words="")
    InstanceFactory(owner=other, name="De outra conta")

    body = owner_client.get(reverse("support:best_practices")).content.decode()
    assert "De outra conta" not in body
    nova, cuidada = body.split(">Nova<")[1].split(">Cuidada<")  # newest first
    assert cuidada.count("check-yes") == 5  # all but the business profile
    assert "Concluída" in cuidada
    assert "1 números na lista." in cuidada
    assert "Nenhuma palavra configurada." in nova
    assert nova.count("check-no") >= 2
