"""plugmessage.emails: the project's own emails share the HTML layout of the
account emails, with the stylesheet inlined and the site's name from
settings."""

import pytest

from instances.emails import trial_expired_send
from plugmessage.emails import email_html_inline
from tests.factories import InstanceFactory

pytestmark = pytest.mark.django_db


def test_the_stylesheet_goes_into_style_attributes():
    html = email_html_inline(
        '<html><body><p class="note">Oi</p><a class="button" href="/x">Ir</a>'
        "</body></html>"
    )

    assert "<style" not in html
    assert '<p class="note" style="' in html
    assert "color: #5f6b7a" in html
    assert "background-color: #0f766e" in html


def test_a_project_email_is_sent_in_the_shared_layout(owner, mailoutbox, settings):
    settings.SITE_NAME = "Zap Empresa"
    instance = InstanceFactory(owner=owner, name="Loja Centro")

    trial_expired_send(instance_id=str(instance.pk))

    [message] = mailoutbox
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="pt-br">' in html
    assert "<style" not in html
    # The layout's header and footer around the email's own words.
    assert f'href="{settings.SITE_URL}" style="' in html
    assert "Mensagem automática do Zap Empresa" in html
    assert "Loja Centro" in html
    assert "Equipe Zap Empresa" in html and "Equipe Zap Empresa" in message.body
    assert "PlugMessage" not in html + message.body
