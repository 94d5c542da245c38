import threading
import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse

from accounts.models import SUPPORT_GROUP_NAME, AuditRecord, User
from accounts.services import STAFF_ACTION_PERMISSIONS
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment, holding_the_row

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def _change_email(client, user, **data):
    payload = {
        "action": "change_email_with_reason",
        ACTION_CHECKBOX_NAME: [user.pk],
        **data,
    }
    return client.post(CHANGELIST, payload)


def test_the_support_group_holds_view_permissions_only(staff):
    group = Group.objects.get(name=SUPPORT_GROUP_NAME)
    codenames = set(group.permissions.values_list("codename", flat=True))

    assert {"view_user", "view_auditrecord", "view_emailaddress"} <= codenames
    actions = {codename for _app, codename in STAFF_ACTION_PERMISSIONS}
    assert actions <= codenames
    assert codenames - actions == {c for c in codenames if c.startswith("view_")}


def test_staff_find_users_by_email(staff_client, owner, other):
    response = staff_client.get(CHANGELIST, {"q": "dona@"})

    assert response.status_code == 200
    assert owner.email in response.content.decode()
    assert other.email not in response.content.decode()


def test_the_admin_is_in_portuguese(staff_client):
    body = staff_client.get(reverse("admin:index")).content.decode()
    assert "Suporte e operação" in body
    assert "Encerrar sessão" in body or "Sair" in body


def test_the_change_form_shows_the_email_read_only(client, owner):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(reverse("admin:accounts_user_change", args=[owner.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert owner.email in body
    assert 'name="email"' not in body


def test_a_superuser_edit_with_an_email_field_keeps_the_email(client, owner):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        {
            "email": "outra@coisa.com",
            "full_name": "Ana Renomeada",
            "is_active": "on",
            "last_login_0": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.full_name == "Ana Renomeada"
    assert owner.email == "dona@exemplo.com.br"


def test_the_email_action_first_asks_for_a_reason(staff_client, owner):
    response = _change_email(staff_client, owner)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Motivo" in body
    assert "Novo e-mail" in body
    assert not AuditRecord.objects.exists()


def test_staff_change_an_email_and_the_audit_records_it(
    staff_client, staff, owner, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _change_email(
            staff_client,
            owner,
            apply="1",
            new_email="ana@novaempresa.com.br",
            reason="Empresa trocou de domínio; identidade conferida por telefone.",
        )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "ana@novaempresa.com.br"
    address = EmailAddress.objects.get(user=owner)
    assert (address.email, address.verified, address.primary) == (
        "ana@novaempresa.com.br",
        False,
        True,
    )
    record = AuditRecord.objects.get()
    assert record.actor == staff
    assert record.customer == owner
    assert record.action == "email_change"
    assert record.before == {"email": "dona@exemplo.com.br"}
    assert record.after == {"email": "ana@novaempresa.com.br"}
    assert "domínio" in record.reason
    assert record.created_at is not None
    assert [m.to for m in mailoutbox] == [["ana@novaempresa.com.br"]]


@pytest.mark.django_db(transaction=True)
def test_the_email_change_commits_as_one_transaction_on_postgresql(
    staff_client, staff, owner, mailoutbox
):
    # Outside a test transaction, as in production: the lock needs one of
    # its own, and the confirmation goes out only after commit.
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    response = _change_email(
        staff_client,
        owner,
        apply="1",
        new_email="ana@novaempresa.com.br",
        reason="Empresa trocou de domínio",
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "ana@novaempresa.com.br"
    address = EmailAddress.objects.get(user=owner)
    assert (address.email, address.verified) == ("ana@novaempresa.com.br", False)
    record = AuditRecord.objects.get()
    assert (record.action, record.actor, record.customer) == (
        "email_change",
        staff,
        owner,
    )
    assert record.after == {"email": "ana@novaempresa.com.br"}
    assert [m.to for m in mailoutbox] == [["ana@novaempresa.com.br"]]


@pytest.mark.django_db(transaction=True)
def test_an_email_change_gives_up_on_a_row_held_elsewhere_and_says_so(
    staff_client, owner, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("locks are tested on PostgreSQL (make test with DATABASE_URL)")
    settings.LOCK_TIMEOUT_MS = 200
    held, release = threading.Event(), threading.Event()

    def change():
        assert held.wait(timeout=20)
        started = time.monotonic()
        try:
            response = _change_email(
                staff_client, owner, apply="1", new_email="a@b.com.br", reason="x"
            )
            return response, time.monotonic() - started
        finally:
            release.set()

    results, errors = at_the_same_moment(
        [holding_the_row(User, owner.pk, held=held, release=release), change]
    )

    assert errors == []
    [(response, waited)] = [r for r in results if r != "held"]
    assert waited < 5  # the row's holder keeps it for 20 s
    assert response.status_code == 200
    assert "Outra operação está alterando este registro" in response.content.decode()
    owner.refresh_from_db()
    assert owner.email == "dona@exemplo.com.br"
    assert not AuditRecord.objects.exists()


def test_the_email_action_refuses_a_missing_reason(staff_client, owner):
    response = _change_email(
        staff_client, owner, apply="1", new_email="ana@novaempresa.com.br", reason=""
    )

    assert response.status_code == 200
    assert "obrigatório" in response.content.decode()
    assert 'value="ana@novaempresa.com.br"' in response.content.decode()
    owner.refresh_from_db()
    assert owner.email == "dona@exemplo.com.br"
    assert not AuditRecord.objects.exists()


def test_the_email_action_refuses_an_email_of_another_account(
    staff_client, owner, other
):
    response = _change_email(
        staff_client,
        owner,
        apply="1",
        new_email="OUTRO@exemplo.com.br",
        reason="pedido",
    )

    assert response.status_code == 200
    assert "Já existe uma conta com este e-mail." in response.content.decode()
    owner.refresh_from_db()
    assert owner.email == "dona@exemplo.com.br"
    assert not AuditRecord.objects.exists()


def test_staff_without_the_permission_cannot_change_an_email(client, owner):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)

    _change_email(client, owner, apply="1", new_email="x@y.com.br", reason="teste")

    owner.refresh_from_db()
    assert owner.email == "dona@exemplo.com.br"
    assert not AuditRecord.objects.exists()


def test_customers_cannot_use_the_admin(owner_client, owner):
    response = _change_email(
        owner_client, owner, apply="1", new_email="x@y.com.br", reason="eu quero"
    )

    assert response.status_code == 302
    assert "/admin/login/" in response.url
    owner.refresh_from_db()
    assert owner.email == "dona@exemplo.com.br"


def test_audit_records_are_read_only_in_the_admin(client, staff, owner):
    AuditRecord.objects.create(
        actor=staff, customer=owner, action="email_change", target="x", reason="r"
    )
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    record = AuditRecord.objects.get()

    assert (
        client.get(reverse("admin:accounts_auditrecord_changelist")).status_code == 200
    )
    assert client.get(reverse("admin:accounts_auditrecord_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:accounts_auditrecord_delete", args=[record.pk]),
            {"post": "yes"},
        ).status_code
        == 403
    )
    assert AuditRecord.objects.count() == 1
    assert User.objects.filter(pk=owner.pk).exists()
