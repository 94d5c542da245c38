import pytest
from django.urls import reverse

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

    response = client.post(url, {"warmup_plan": "[50, 100, 500]", "name": "Tomada"})

    assert response.status_code == 302
    connected.refresh_from_db()
    assert connected.warmup_plan == [50, 100, 500]
    assert connected.name == "Vendas"


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
