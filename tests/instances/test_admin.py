import pytest
from django.urls import reverse

from accounts.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_staff_find_instances_by_name_number_and_owner_email(
    staff_client, connected, other_instance
):
    url = reverse("admin:instances_instance_changelist")
    for query in ("Vendas", "98765", "dona@exemplo"):
        body = staff_client.get(url, {"q": query}).content.decode()
        assert "Vendas" in body, query
        assert "Do outro" not in body, query


def test_staff_filter_instances_by_state(staff_client, connected, other_instance):
    url = reverse("admin:instances_instance_changelist")
    body = staff_client.get(url, {"state__exact": "connected"}).content.decode()

    assert "Vendas" in body
    assert "Do outro" not in body


def test_the_instance_page_shows_the_timeline_and_masks_the_token(
    staff_client, connected
):
    body = staff_client.get(
        reverse("admin:instances_instance_change", args=[connected.pk])
    ).content.decode()

    assert connected.token not in body
    assert connected.token_masked in body
    assert "Instância criada" in body
    assert "QR Code lido" in body


def test_customers_cannot_open_the_instance_admin(owner_client, connected):
    response = owner_client.get(reverse("admin:instances_instance_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_staff_with_change_permission_edit_only_the_warm_up_plan(client, connected):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        Permission.objects.get(codename="view_instance"),
        Permission.objects.get(codename="change_instance"),
    )
    client.force_login(editor)
    url = reverse("admin:instances_instance_change", args=[connected.pk])
    page = client.get(url).content.decode()
    assert 'name="warmup_plan"' in page and 'name="name"' not in page

    # Without a reason: refused, and what was typed is kept on the page.
    response = client.post(url, {"warmup_plan": "[50, 100, 500]", "name": "Tomada"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Informe o motivo" in page and "[50, 100, 500]" in page
    connected.refresh_from_db()
    assert connected.warmup_plan != [50, 100, 500]
    assert not AuditRecord.objects.exists()

    before = connected.warmup_plan
    response = client.post(
        url,
        {
            "warmup_plan": "[50, 100, 500]",
            "reason": "Número antigo, já aquecido em outra plataforma",
            "name": "Tomada",
        },
    )

    assert response.status_code == 302
    connected.refresh_from_db()
    assert connected.warmup_plan == [50, 100, 500]
    assert connected.name == "Vendas"
    record = AuditRecord.objects.get()
    assert (record.actor, record.customer, record.action) == (
        editor,
        connected.owner,
        "instance_warmup_plan_set",
    )
    assert record.before == {"warmup_plan": before}
    assert record.after == {"warmup_plan": [50, 100, 500]}
    assert record.reason == "Número antigo, já aquecido em outra plataforma"


def test_the_suporte_group_only_reads_instances(staff_client, connected):
    url = reverse("admin:instances_instance_change", args=[connected.pk])
    staff_client.post(url, {"warmup_plan": "[1]"})
    connected.refresh_from_db()
    assert connected.warmup_plan != [1]


def test_a_malformed_warm_up_plan_is_refused(client, connected):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_instance"))
    client.force_login(editor)
    url = reverse("admin:instances_instance_change", args=[connected.pk])
    for bad in ('{"a": 1}', "[]", '["x"]', "[0, 10]"):
        response = client.post(url, {"warmup_plan": bad})
        assert response.status_code == 200, bad
    connected.refresh_from_db()
    assert connected.warmup_plan == [20, 40, 80, 160, 320, 640, 1000]


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_plan_change_locks_and_audits_on_postgresql(owner, staff):
    """Outside any test transaction: the lock needs its own (PostgreSQL
    refuses FOR UPDATE outside one), and the change and its record commit
    together or not at all."""
    from django.core.exceptions import ValidationError

    from instances import services

    instance = services.instance_create(owner=owner, name="Loja")
    with pytest.raises(ValidationError):
        services.instance_warmup_plan_set(
            instance=instance, plan=[5], actor=staff, reason=" "
        )
    changed = services.instance_warmup_plan_set(
        instance=instance, plan=[5, 10], actor=staff, reason="Pedido do cliente"
    )
    assert changed.warmup_plan == [5, 10]
    instance.refresh_from_db()
    assert instance.warmup_plan == [5, 10]
    assert AuditRecord.objects.get().after == {"warmup_plan": [5, 10]}
