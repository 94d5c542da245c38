"""Dados da Instância › Perfil do WhatsApp, and the best practice it feeds."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from instances.models import SimulatedSession
from support.selectors import practices_for_instance
from tests.api import samples

pytestmark = pytest.mark.django_db


def _url(instance):
    return reverse("instances:profile", args=[instance.pk])


def _profile_check(instance):
    return next(p for p in practices_for_instance(instance) if p.practice == "perfil")


def test_the_owner_sets_name_about_and_picture_from_the_panel(owner_client, connected):
    check = _profile_check(connected)
    assert check.followed is False
    assert "nome, recado, foto" in check.detail

    response = owner_client.post(
        _url(connected),
        {
            "profile_name": "Loja da Ana",
            "profile_about": "Atendimento das 8h às 18h",
            "profile_picture": SimpleUploadedFile(
                "logo.png", samples.PNG, content_type="image/png"
            ),
        },
    )

    assert response.status_code == 302
    assert response.url.endswith("#perfil")
    connected.refresh_from_db()
    assert (connected.profile_name, connected.profile_about) == (
        "Loja da Ana",
        "Atendimento das 8h às 18h",
    )
    assert connected.profile_picture.mime_type == "image/png"
    phone = SimulatedSession.objects.get(engine_ref=connected.engine_ref).profile
    assert (phone["name"], phone["about"]) == (
        "Loja da Ana",
        "Atendimento das 8h às 18h",
    )
    assert "picture_set_at" in phone
    assert _profile_check(connected).followed is True


def test_a_picture_that_is_not_an_image_is_refused_and_the_text_kept(
    owner_client, connected
):
    response = owner_client.post(
        _url(connected),
        {
            "profile_name": "Loja da Ana",
            "profile_about": "Recado",
            "profile_picture": SimpleUploadedFile(
                "logo.png", samples.PDF, content_type="image/png"
            ),
        },
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "não é um arquivo de imagem" in body
    assert 'value="Loja da Ana"' in body
    connected.refresh_from_db()
    assert connected.profile_picture is None


def test_a_disconnected_instance_shows_why_the_profile_cannot_change(
    owner_client, instance
):
    body = owner_client.get(
        reverse("instances:edit", args=[instance.pk])
    ).content.decode()
    assert "Conecte a instância para mudar o perfil" in body
    assert _url(instance) not in body


def test_another_customer_gets_404_and_changes_nothing(client, other, connected):
    client.force_login(other)
    response = client.post(_url(connected), {"profile_name": "Invasor"})
    assert response.status_code == 404
    connected.refresh_from_db()
    assert connected.profile_name == ""


def test_an_anonymous_visitor_is_sent_to_login(client, connected):
    response = client.post(_url(connected), {"profile_name": "X"})
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_the_profile_form_takes_only_post(owner_client, connected):
    assert owner_client.get(_url(connected)).status_code == 405
