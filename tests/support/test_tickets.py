"""Tickets in the panel: open with attachments checked by content, the
conversation, replies, closing; only the customer's own tickets and files."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from support import services
from support.emails import ticket_email_send
from support.models import Ticket, TicketAttachment, TicketMessage, TicketStatus
from tests.factories import InstanceFactory
from tests.helpers import at_the_same_moment
from tests.support.conftest import PDF, png

pytestmark = pytest.mark.django_db


def _open(client, **extra):
    data = {
        "category": "technical",
        "subject": "QR Code não aparece",
        "body": "Desde ontem a página fica em “Gerando QR Code…”.",
        **extra,
    }
    return client.post(reverse("support:ticket_create"), data)


def test_a_customer_opens_a_ticket_with_attachments_and_support_is_told(
    owner_client, owner, queued, django_capture_on_commit_callbacks, settings
):
    instance = InstanceFactory(owner=owner, name="Loja")
    with django_capture_on_commit_callbacks(execute=True):
        response = _open(
            owner_client,
            instance=str(instance.pk),
            attachments=[png(), SimpleUploadedFile("nota.pdf", PDF)],
        )
    ticket = Ticket.objects.get()
    assert response.url == reverse("support:ticket", args=[ticket.pk])
    assert (ticket.status, ticket.instance, ticket.account) == ("open", instance, owner)
    kinds = sorted(a.content_type for a in TicketAttachment.objects.all())
    assert kinds == ["application/pdf", "image/png"]
    ((name, args),) = queued
    assert (name, args[0]) == ("support.tasks.ticket_email_task", "opened")
    ticket_email_send(kind="opened", message_id=args[1])
    assert mail.outbox[0].to == [settings.SUPPORT_EMAIL]
    assert "QR Code não aparece" in mail.outbox[0].subject
    assert owner.email in mail.outbox[0].body


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (png("foto.png", b"MZ\x90\x00 executavel disfarcado"), "não é uma imagem"),
        (
            png("grande.png", b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024)),
            "passa de 5 MB",
        ),
    ],
    ids=["disguised type", "over 5 MB"],
)
def test_a_bad_attachment_is_refused_and_the_typed_text_is_kept(
    owner_client, upload, error
):
    response = _open(owner_client, attachments=[upload])
    body = response.content.decode()
    assert response.status_code == 200
    assert error in body
    assert 'value="QR Code não aparece"' in body
    assert "Desde ontem a página fica em" in body
    assert not Ticket.objects.exists()
    assert not TicketAttachment.objects.exists()


def test_missing_fields_say_so(owner_client):
    response = _open(owner_client, subject="", body="")
    assert response.content.decode().count("Este campo é obrigatório") == 2
    assert not Ticket.objects.exists()


def test_another_customers_instance_cannot_be_chosen(owner_client, other):
    response = _open(owner_client, instance=str(InstanceFactory(owner=other).pk))
    assert "Faça uma escolha válida" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_list_and_the_conversation(owner_client, owner, queued):
    ticket = services.ticket_open(
        account=owner, category="financial", subject="Boleto", body="Não chegou."
    )
    body = owner_client.get(reverse("support:home")).content.decode()
    assert "Boleto" in body and "Aberto" in body and "Financeiro" in body
    page = owner_client.get(
        reverse("support:ticket", args=[ticket.pk])
    ).content.decode()
    assert "Não chegou." in page
    assert 'hx-trigger="every 5s"' in page
    partial = owner_client.get(
        reverse("support:ticket", args=[ticket.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert partial.lstrip().startswith('<div id="thread"')
    assert "<html" not in partial


def test_replies_move_the_status_and_email_the_other_side(
    owner_client, owner, staff, queued, django_capture_on_commit_callbacks
):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Webhook", body="Falha."
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=staff, body="Qual URL?")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.waiting_since, ticket.assigned_to) == (
        TicketStatus.WAITING_CUSTOMER,
        None,
        staff,
    )
    kind, message_id = queued[-1][1]
    ticket_email_send(kind=kind, message_id=message_id)
    assert mail.outbox[-1].to == [owner.email]
    assert "Qual URL?" in mail.outbox[-1].body

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("support:ticket_reply", args=[ticket.pk]),
            {"body": "https://loja.test/hook"},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.waiting_since is not None
    assert queued[-1][1][0] == "customer_reply"

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=ticket, actor=staff)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    ticket_email_send(kind="resolved", message_id=queued[-1][1][1])
    assert "resolvido" in mail.outbox[-1].subject
    page = owner_client.get(
        reverse("support:ticket", args=[ticket.pk])
    ).content.decode()
    assert "every 5s" not in page  # a resolved thread stops refreshing


def test_the_customer_closes_and_a_reply_reopens(owner_client, owner, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="X", body="Y"
    )
    owner_client.post(reverse("support:ticket_close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    owner_client.post(
        reverse("support:ticket_reply", args=[ticket.pk]), {"body": "De novo"}
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_a_bad_reply_attachment_keeps_the_text(owner_client, owner, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="X", body="Y"
    )
    response = owner_client.post(
        reverse("support:ticket_reply", args=[ticket.pk]),
        {"body": "Segue o print", "attachments": [png("a.png", b"GIF-nao")]},
    )
    body = response.content.decode()
    assert "não é uma imagem" in body and "Segue o print" in body
    assert TicketMessage.objects.count() == 1


def test_an_attachment_downloads_for_its_owner_only(client, owner, other, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="X", body="Y", files=[png()]
    )
    attachment = TicketAttachment.objects.get()
    url = reverse("support:attachment", args=[ticket.pk, attachment.pk])
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'attachment; filename="tela.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")

    theirs = services.ticket_open(
        account=other, category="technical", subject="Z", body="W"
    )
    # Own attachment id under someone else's ticket: not found either.
    assert (
        client.get(
            reverse("support:attachment", args=[theirs.pk, attachment.pk])
        ).status_code
        == 404
    )
    client.force_login(other)
    assert client.get(url).status_code == 404


def test_another_customer_gets_404_everywhere(client, owner, other, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Meu", body="Y"
    )
    client.force_login(other)
    assert client.get(reverse("support:ticket", args=[ticket.pk])).status_code == 404
    assert (
        client.post(
            reverse("support:ticket_reply", args=[ticket.pk]), {"body": "oi"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("support:ticket_close", args=[ticket.pk])).status_code
        == 404
    )
    assert "Meu" not in client.get(reverse("support:home")).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert TicketMessage.objects.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, owner, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="X", body="Y"
    )
    urls = [
        reverse("support:home"),
        reverse("support:ticket_create"),
        reverse("support:ticket", args=[ticket.pk]),
        reverse("support:customer_success"),
        reverse("support:help"),
        reverse("support:best_practices"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/contas/entrar/" in response.url, url
    response = client.post(
        reverse("support:ticket_reply", args=[ticket.pk]), {"body": "x"}
    )
    assert response.status_code == 302
    assert TicketMessage.objects.count() == 1


def test_customer_success_becomes_a_commercial_ticket(owner_client, queued):
    response = owner_client.post(
        reverse("support:customer_success"),
        {
            "goal": "Avisar clientes sobre entregas",
            "monthly_volume": "10.000 a 100.000",
            "best_time": "tarde (13h às 18h)",
        },
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert (ticket.category, ticket.subject) == (
        "commercial",
        "Falar com Customer Success",
    )
    assert "10.000 a 100.000" in ticket.messages.get().body
    assert "em até 1 dia útil" in response.content.decode()
    bad = owner_client.post(reverse("support:customer_success"), {"goal": "x"})
    assert "Este campo é obrigatório" in bad.content.decode()
    assert Ticket.objects.count() == 1


def test_plain_text_emails_are_not_html_escaped(owner, queued):
    ticket = services.ticket_open(
        account=owner,
        category="technical",
        subject='Boleto "duplicado" & O\'Neil',
        body="A & B <x>",
    )
    ticket_email_send(kind="opened", message_id=ticket.messages.get().pk)
    assert mail.outbox[0].subject.endswith('Boleto "duplicado" & O\'Neil')
    assert "A & B <x>" in mail.outbox[0].body
    assert "&amp;" in mail.outbox[0].alternatives[0][0]  # the HTML part escapes


def test_a_broken_instance_link_still_opens_the_form(owner_client):
    response = owner_client.get(reverse("support:ticket_create"), {"instancia": "abc"})
    assert response.status_code == 200


def test_the_thread_refresh_after_logging_out_sends_the_tab_to_log_in(
    client, owner, queued
):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="X", body="Y"
    )
    response = client.get(
        reverse("support:ticket", args=[ticket.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.headers["HX-Redirect"].startswith("/contas/entrar/")
    assert client.get(reverse("support:ticket", args=[ticket.pk])).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_staff_reply_commits_with_its_status_and_emails_once_on_postgresql(
    staff, owner, emailed, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Webhook", body="?"
    )
    emailed.clear()  # the support inbox's "opened"

    services.ticket_reply(ticket=ticket, author=staff, body="Verifique o certificado.")

    # Read back by another connection: only what was committed is seen.
    seen, errors = at_the_same_moment(
        [
            lambda: (
                Ticket.objects.get(pk=ticket.pk).status,
                list(
                    TicketMessage.objects.filter(
                        ticket=ticket, from_staff=True
                    ).values_list("body", flat=True)
                ),
            )
        ]
    )
    assert errors == []
    assert seen == [(TicketStatus.WAITING_CUSTOMER, ["Verifique o certificado."])]
    assert [m.to for m in emailed] == [[owner.email]]

    # The status cannot be saved: the message is not kept, nobody is emailed.
    def failing_save(self, *args, **kwargs):
        raise RuntimeError("o banco caiu no meio")

    monkeypatch.setattr(Ticket, "save", failing_save)
    with pytest.raises(RuntimeError):
        services.ticket_reply(ticket=ticket, author=staff, body="Outra resposta")
    assert not TicketMessage.objects.filter(body="Outra resposta").exists()
    assert len(emailed) == 1
