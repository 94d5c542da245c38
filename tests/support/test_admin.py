"""The back office: ticket queue, replies and resolution from the admin, the
customer-360 page, and the audited staff actions; Suporte cannot delete and
never sees tokens or webhook secrets."""

from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditRecord
from accounts.services import user_verification_resend
from billing import services as billing_services
from instances import lifecycle
from instances import services as instance_services
from instances.engines import engine_get
from instances.models import InstanceState, SimulatedSession
from support import services
from support.models import Ticket, TicketAttachment, TicketStatus
from tests.billing.conftest import billing_profile_for, live_instance, sp, subscribed
from tests.factories import InstanceFactory, UserFactory
from tests.helpers import at_the_same_moment
from tests.support.conftest import png
from webhooks.models import WebhookEndpoint, WebhookSettings

pytestmark = pytest.mark.django_db


def _ticket(account, subject, minutes_ago):
    ticket = services.ticket_open(
        account=account, category="technical", subject=subject, body="Ajuda"
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        waiting_since=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return ticket


def test_the_queue_lists_the_oldest_waiting_first_and_filters(
    staff_client, owner, other, queued
):
    _ticket(owner, "Recente", 5)
    _ticket(other, "Antigo", 600)
    financial = services.ticket_open(
        account=owner, category="financial", subject="Boleto", body="?"
    )
    services.ticket_close(ticket=financial, account=owner)
    url = reverse("admin:support_ticket_changelist")
    body = staff_client.get(url, {"status__exact": "open"}).content.decode()
    assert body.index("Antigo") < body.index("Recente")
    assert "Boleto" not in body
    by_category = staff_client.get(
        url, {"category__exact": "financial"}
    ).content.decode()
    assert "Boleto" in by_category and "Antigo" not in by_category


def _inline(ticket) -> dict:
    """The management form of the read-only conversation inline, as the
    admin page posts it."""
    ids = list(ticket.messages.values_list("pk", flat=True))
    data = {
        "messages-TOTAL_FORMS": str(len(ids)),
        "messages-INITIAL_FORMS": str(len(ids)),
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
    }
    for n, pk in enumerate(ids):
        data[f"messages-{n}-id"] = str(pk)
        data[f"messages-{n}-ticket"] = str(ticket.pk)
    return data


def test_staff_reply_assign_and_resolve_from_the_ticket_page(
    staff_client, staff, owner, queued, django_capture_on_commit_callbacks
):
    ticket = _ticket(owner, "Webhook falhando", 30)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    page = staff_client.get(url).content.decode()
    assert "Responder ao cliente" in page and "Ajuda" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url,
            {
                **_inline(ticket),
                "assigned_to": str(staff.pk),
                "reason": "Fico com este chamado",
                "reply": "Verifique o certificado.",
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to) == (TicketStatus.WAITING_CUSTOMER, staff)
    assert ticket.messages.filter(
        from_staff=True, body="Verifique o certificado."
    ).exists()
    assert queued[-1][1][0] == "staff_reply"

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            url, {**_inline(ticket), "assigned_to": str(staff.pk), "resolve": "on"}
        )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert queued[-1][1][0] == "resolved"


def test_staff_download_attachments_in_the_admin(staff_client, owner, queued):
    ticket = services.ticket_open(
        account=owner, category="technical", subject="Print", body="Veja", files=[png()]
    )
    attachment = TicketAttachment.objects.get()
    url = reverse("admin:support_ticket_attachment", args=[ticket.pk, attachment.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_customers_cannot_reach_the_ticket_admin(owner_client, owner, queued):
    ticket = _ticket(owner, "X", 1)
    response = owner_client.get(
        reverse("admin:support_ticket_change", args=[ticket.pk])
    )
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_support_cannot_delete_anything(staff_client, owner, queued):
    ticket = _ticket(owner, "X", 1)
    instance = InstanceFactory(owner=owner)
    for name, pk in (
        ("admin:support_ticket_delete", ticket.pk),
        ("admin:instances_instance_delete", instance.pk),
        ("admin:accounts_user_delete", owner.pk),
    ):
        assert (
            staff_client.post(reverse(name, args=[pk]), {"post": "yes"}).status_code
            == 403
        )
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_the_customer_360_page_has_everything_with_links(
    staff_client, staff, owner, queued
):
    instance = instance_services.instance_create(owner=owner, name="Vendas SP")
    billing_profile_for(owner)
    subscribed(instance, sp(2026, 10, 1))
    billing_services.invoices_issue_for_period(period=date(2026, 10, 1))
    ticket = _ticket(owner, "Ajuda com QR", 3)
    WebhookEndpoint.objects.create(
        instance=instance,
        kind="message.received",
        url="https://loja.test/hook",
        failing_since=timezone.now(),
    )
    secret = WebhookSettings.objects.filter(instance=instance).first()
    instance_services.instance_trial_extend(
        instance=instance, days=3, actor=staff, reason="Cliente em homologação"
    )

    body = staff_client.get(
        reverse("admin:support_customer_change", args=[owner.pk])
    ).content.decode()
    assert owner.email in body
    assert (
        "Vendas SP" in body
        and reverse("admin:instances_instance_change", args=[instance.pk]) in body
    )
    assert "Instância criada" in body  # last events
    assert "R$ 99,00" in body and "10/2026" in body
    assert reverse("admin:support_ticket_change", args=[ticket.pk]) in body
    assert "https://loja.test/hook" in body
    assert "Cliente em homologação" in body
    assert instance.token not in body
    if secret is not None:
        assert secret.secret not in body


def test_extending_a_trial_is_audited_and_revives_an_expired_instance(
    staff_client, staff, owner
):
    instance = InstanceFactory(owner=owner, name="Expirada")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("celery.current_app.send_task", lambda *a, **k: None)
        with time_travel(instance.trial_ends_at + timedelta(hours=1)):
            instance_services.instances_trial_expire()
    instance.refresh_from_db()
    assert instance.state == InstanceState.EXPIRED
    url = reverse("admin:instances_instance_changelist")
    data = {"action": "extend_trial", ACTION_CHECKBOX_NAME: [str(instance.pk)]}
    assert "Dias a mais" in staff_client.post(url, data).content.decode()
    staff_client.post(url, {**data, "apply": "1", "days": "3", "reason": ""})
    assert not AuditRecord.objects.exists()
    response = staff_client.post(
        url,
        {**data, "apply": "1", "days": "3", "reason": "Pedido pelo comercial"},
        follow=True,
    )
    assert "Teste estendido" in response.content.decode()
    instance.refresh_from_db()
    assert instance.state == InstanceState.DISCONNECTED
    assert instance.trial_ends_at > timezone.now() + timedelta(days=2)
    record = AuditRecord.objects.get()
    assert (record.action, record.actor, record.customer) == (
        "trial_extend",
        staff,
        owner,
    )
    assert record.after["days"] == 3


def test_forcing_a_disconnection_is_audited(staff_client, staff, owner):
    instance = instance_services.instance_connect(
        instance=instance_services.instance_create(owner=owner, name="Conectada"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    instance_services.engine_events_apply(
        [engine_get().phone_scan(code, "5511987654321")]
    )
    data = {
        "action": "force_disconnect",
        ACTION_CHECKBOX_NAME: [str(instance.pk)],
        "apply": "1",
        "reason": "Denúncia de spam confirmada",
    }
    staff_client.post(reverse("admin:instances_instance_changelist"), data)
    instance.refresh_from_db()
    assert instance.state == InstanceState.DISCONNECTED
    record = AuditRecord.objects.get()
    assert record.action == "instance_force_disconnect"
    assert record.before["state"] == "connected"
    assert (
        SimulatedSession.objects.get(engine_ref=instance.engine_ref).status == "closed"
    )


def test_resending_the_verification_email_is_audited(staff_client, staff):
    customer = UserFactory(verified_email=False)
    data = {
        "action": "resend_verification",
        ACTION_CHECKBOX_NAME: [str(customer.pk)],
        "apply": "1",
        "reason": "Cliente não achou o e-mail",
    }
    with pytest.MonkeyPatch.context():
        response = staff_client.post(
            reverse("admin:accounts_user_changelist"), data, follow=True
        )
    assert "reenviado" in response.content.decode()
    record = AuditRecord.objects.get()
    assert (record.action, record.customer) == ("verification_resend", customer)
    verified = UserFactory()
    data[ACTION_CHECKBOX_NAME] = [str(verified.pk)]
    response = staff_client.post(
        reverse("admin:accounts_user_changelist"), data, follow=True
    )
    assert "já está verificado" in response.content.decode()
    assert AuditRecord.objects.count() == 1
    assert EmailAddress.objects.get(user=customer).verified is False


def test_a_refused_resend_leaves_no_address_behind(staff):
    customer = UserFactory(verified_email=False)
    EmailAddress.objects.filter(user=customer).delete()
    with pytest.raises(ValidationError):
        user_verification_resend(user=customer, actor=staff, reason=" ")
    assert not EmailAddress.objects.filter(user=customer).exists()
    assert not AuditRecord.objects.exists()


# The same actions outside a test transaction, as in production: each
# service must open the transaction its lock and its audit record need.

LOCKS_ON_POSTGRESQL = "locks are tested on PostgreSQL (make test with DATABASE_URL)"


def _staff_action(client, changelist, action, obj, **fields):
    return client.post(
        reverse(changelist),
        {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk)], "apply": "1", **fields},
        follow=True,
    )


@pytest.mark.django_db(transaction=True)
def test_extending_a_trial_commits_with_its_audit_record_on_postgresql(
    staff_client, staff, owner
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    instance = lifecycle.transition(
        instance=InstanceFactory(owner=owner),
        to_state=InstanceState.EXPIRED,
        cause="O teste grátis terminou",
    )

    response = _staff_action(
        staff_client,
        "admin:instances_instance_changelist",
        "extend_trial",
        instance,
        days="3",
        reason="Pedido pelo comercial",
    )

    assert "Teste estendido" in response.content.decode()
    instance.refresh_from_db()
    assert instance.state == InstanceState.DISCONNECTED
    assert instance.trial_ends_at > timezone.now() + timedelta(days=2)
    record = AuditRecord.objects.get()
    assert (record.action, record.actor, record.after["days"]) == (
        "trial_extend",
        staff,
        3,
    )


@pytest.mark.django_db(transaction=True)
def test_forcing_a_disconnection_commits_with_its_audit_record_on_postgresql(
    staff_client, staff, owner
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    instance = live_instance(owner)

    response = _staff_action(
        staff_client,
        "admin:instances_instance_changelist",
        "force_disconnect",
        instance,
        reason="Denúncia de spam confirmada",
    )

    assert "Instância desconectada" in response.content.decode()
    instance.refresh_from_db()
    assert instance.state == InstanceState.DISCONNECTED
    session = SimulatedSession.objects.get(engine_ref=instance.engine_ref)
    assert session.status == "closed"
    record = AuditRecord.objects.get()
    assert (record.action, record.before["state"]) == (
        "instance_force_disconnect",
        "connected",
    )


@pytest.mark.django_db(transaction=True)
def test_resending_the_verification_commits_with_its_audit_record_on_postgresql(
    staff_client, staff, mailoutbox
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    customer = UserFactory(verified_email=False)

    response = _staff_action(
        staff_client,
        "admin:accounts_user_changelist",
        "resend_verification",
        customer,
        reason="Cliente não achou o e-mail",
    )

    assert "reenviado" in response.content.decode()
    record = AuditRecord.objects.get()
    assert (record.action, record.customer) == ("verification_resend", customer)
    assert [m.to for m in mailoutbox] == [[customer.email]]


def time_travel(moment):
    import time_machine

    return time_machine.travel(moment, tick=False)


def test_support_sees_webhook_secrets_masked_and_the_user_page_links_to_360(
    staff_client, owner
):
    from webhooks.services import webhook_settings_get

    instance = InstanceFactory(owner=owner)
    settings_row = webhook_settings_get(instance_id=instance.pk)
    page = staff_client.get(
        reverse("admin:webhooks_webhooksettings_change", args=[settings_row.pk])
    ).content.decode()
    assert settings_row.secret not in page
    assert settings_row.secret[:10] + "…" in page
    user_page = staff_client.get(
        reverse("admin:accounts_user_change", args=[owner.pk])
    ).content.decode()
    assert reverse("admin:support_customer_change", args=[owner.pk]) in user_page


def test_support_actions_refuse_team_accounts(staff_client):
    chief = UserFactory(is_staff=True, is_superuser=True, verified_email=False)
    for action, extra in (
        ("change_email_with_reason", {"new_email": "outro@evil.test"}),
        ("resend_verification", {}),
    ):
        response = staff_client.post(
            reverse("admin:accounts_user_changelist"),
            {
                "action": action,
                ACTION_CHECKBOX_NAME: [str(chief.pk)],
                "apply": "1",
                "reason": "Tentativa",
                **extra,
            },
            follow=True,
        )
        assert "Esta ação vale só para contas de clientes." in response.content.decode()
    chief.refresh_from_db()
    assert chief.email != "outro@evil.test"
    assert not AuditRecord.objects.exists()


def test_addresses_cannot_be_marked_verified_without_the_audited_action(
    staff_client, owner
):
    address = EmailAddress.objects.get(user=owner)
    EmailAddress.objects.filter(pk=address.pk).update(verified=False)
    page = staff_client.get(
        reverse("admin:account_emailaddress_changelist")
    ).content.decode()
    assert 'value="make_verified"' not in page
    response = staff_client.post(
        reverse("admin:account_emailaddress_changelist"),
        {"action": "make_verified", ACTION_CHECKBOX_NAME: [str(address.pk)]},
    )
    assert response.status_code in (200, 302)
    address.refresh_from_db()
    assert address.verified is False


def test_a_cancelled_instance_has_no_trial_to_extend(staff, owner):
    instance = InstanceFactory(owner=owner)
    instance = lifecycle.transition(
        instance=instance, to_state=InstanceState.CANCELLED, cause="Cancelada"
    )
    with pytest.raises(Exception, match="assinar de novo"):
        instance_services.instance_trial_extend(
            instance=instance, days=2, actor=staff, reason="Teste"
        )
    assert not AuditRecord.objects.exists()


def test_replying_and_resolving_in_one_save_emails_once(
    staff_client, staff, owner, queued, django_capture_on_commit_callbacks
):
    ticket = _ticket(owner, "Resolver", 3)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            url,
            {**_inline(ticket), "reply": "Feito!", "resolve": "on", "assigned_to": ""},
        )
    kinds = [args[0] for _name, args in queued]
    assert kinds == ["staff_reply"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=ticket, actor=staff)
    assert [args[0] for _name, args in queued] == ["staff_reply"]


@pytest.mark.django_db(transaction=True)
def test_resolving_from_the_ticket_page_commits_and_emails_once_on_postgresql(
    staff_client, staff, owner, emailed
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    ticket = _ticket(owner, "Resolver", 3)
    emailed.clear()  # the support inbox's "opened"

    response = staff_client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]),
        {**_inline(ticket), "assigned_to": "", "resolve": "on"},
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.assigned_to) == (TicketStatus.RESOLVED, staff)
    assert [(m.to, "resolvido" in m.subject) for m in emailed] == [
        ([owner.email], True)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_staff_resolving_at_once_email_the_customer_once_on_postgresql(
    staff, owner, emailed
):
    if connection.vendor != "postgresql":
        pytest.skip(LOCKS_ON_POSTGRESQL)
    ticket = _ticket(owner, "Resolver", 3)
    emailed.clear()

    _results, errors = at_the_same_moment(
        [lambda: services.ticket_resolve(ticket=ticket, actor=staff)] * 2
    )

    assert errors == []
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.RESOLVED
    assert [m.to for m in emailed] == [[owner.email]]


def test_the_360_page_is_for_customers_only(staff_client, staff):
    assert (
        staff_client.get(
            reverse("admin:support_customer_change", args=[staff.pk])
        ).status_code
        == 404
    )
    assert staff_client.get("/admin/support/customer/abc/change/").status_code == 404


def test_no_admin_lets_support_delete(rf, staff):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = staff
    can_delete = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_delete_permission(request)
    ]
    assert can_delete == []
    viewable = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    ]
    assert {"support.Ticket", "billing.Invoice", "instances.Instance"} <= set(viewable)


def test_webhook_urls_hide_passwords_and_query_values_from_staff(staff_client, owner):
    instance = InstanceFactory(owner=owner)
    endpoint = WebhookEndpoint.objects.create(
        instance=instance,
        kind="message.received",
        url="https://loja:s3nh4@loja.test/hook?token=abc123&modo=1",
        failing_since=timezone.now(),
    )
    assert endpoint.url_masked == "https://loja:***@loja.test/hook?token=***&modo=***"
    pages = [
        reverse("admin:webhooks_webhookendpoint_changelist"),
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:support_customer_change", args=[owner.pk]),
    ]
    for url in pages:
        body = staff_client.get(url).content.decode()
        assert "loja.test/hook" in body, url
        assert "s3nh4" not in body and "abc123" not in body, url


def test_staff_read_aguardando_cliente_where_the_customer_reads_aguardando_voce(
    client, staff, owner, queued
):
    ticket = _ticket(owner, "Webhook parou", 5)
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.WAITING_CUSTOMER)

    client.force_login(staff)
    queue = client.get(reverse("admin:support_ticket_changelist")).content.decode()
    assert "Aguardando cliente" in queue
    assert "Aguardando você" not in queue

    client.force_login(owner)
    mine = client.get(reverse("support:home")).content.decode()
    assert "Aguardando você" in mine
    assert "Aguardando cliente" not in mine


def test_each_section_of_the_admin_has_its_own_name(staff_client):
    import re

    index = staff_client.get(reverse("admin:index")).content.decode()
    sections = re.findall(r'<caption>\s*<a[^>]*class="section"[^>]*>([^<]+)</a>', index)
    assert len(sections) > 5
    assert len(sections) == len(set(sections)), sections
