"""The "Apagar dados de um contato" pages and the staff's way in the admin."""

import pytest
from django.urls import reverse

from accounts.models import AuditRecord
from instances.models import Message, ReceivedMessage
from privacy import services, tasks
from privacy.models import ContactErasure, ErasureStatus
from tests.factories import UserFactory
from tests.privacy.conftest import CONTACT, delivered, media_file, received, sent

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queued_tasks(monkeypatch):
    queued = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args: queued.append((name, args)),
    )
    return queued


@pytest.fixture
def erasure(instance, owner, queued_tasks):
    return services.contact_erasure_request(
        instance=instance, phone=CONTACT, actor=owner
    )


def _urls(instance, erasure):
    form = reverse("privacy:contact_erase", args=[instance.pk])
    return [
        ("get", form, None),
        ("post", form, {"phone": "(21) 99876-5432"}),
        ("post", form, {"phone": "(21) 99876-5432", "confirmado": "1"}),
        ("get", reverse("privacy:erasure", args=[instance.pk, erasure.pk]), None),
    ]


def _snapshot():
    return (
        Message.objects.count(),
        ReceivedMessage.objects.count(),
        list(ContactErasure.objects.values("pk", "status")),
    )


def test_every_url_is_404_for_another_customer_and_changes_nothing(
    client, other, instance, erasure
):
    sent(instance)
    before = _snapshot()
    client.force_login(other)
    for method, url, data in _urls(instance, erasure):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 404, url
    assert _snapshot() == before


def test_every_url_sends_a_visitor_to_login(client, instance, erasure):
    sent(instance)
    before = _snapshot()
    for method, url, data in _urls(instance, erasure):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url
    assert _snapshot() == before
    poll = client.get(_urls(instance, erasure)[-1][1], **HTMX)
    assert poll.headers["HX-Redirect"].startswith(reverse("account_login"))


def test_the_menu_leads_to_the_form(owner_client, instance):
    page = owner_client.get(reverse("instances:detail", args=[instance.pk]))
    assert reverse("privacy:contact_erase", args=[instance.pk]) in page.content.decode()
    form = owner_client.get(reverse("privacy:contact_erase", args=[instance.pk]))
    assert "Número do contato" in form.content.decode()


def test_a_bad_number_is_explained_in_portuguese_and_kept(owner_client, instance):
    sent(instance)
    response = owner_client.post(
        reverse("privacy:contact_erase", args=[instance.pk]), {"phone": "21 1234"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Número de telefone inválido" in page
    assert 'value="21 1234"' in page
    assert Message.objects.count() == 1 and not ContactErasure.objects.exists()


def test_it_asks_first_saying_what_will_go_and_how_much(owner_client, instance):
    sent(instance)
    sent(instance)
    received(instance, media=media_file(instance))
    delivered(instance)
    response = owner_client.post(
        reverse("privacy:contact_erase", args=[instance.pk]),
        {"phone": "(21) 99876-5432"},
    )
    page = response.content.decode()
    assert "Apagar os dados de +55 21 99876-5432?" in page
    assert "<strong>2</strong> mensagens enviadas" in page
    assert "<strong>1</strong> mensagens recebidas" in page
    assert "<strong>1</strong> arquivos de mídia" in page
    assert "<strong>1</strong> eventos de webhook" in page
    assert "Sim, apagar os dados" in page
    assert 'name="phone" value="+5521998765432"' in page
    # Nothing goes before the confirmation.
    assert Message.objects.count() == 2 and not ContactErasure.objects.exists()


def test_a_number_with_nothing_to_erase_says_so(owner_client, instance):
    page = owner_client.post(
        reverse("privacy:contact_erase", args=[instance.pk]),
        {"phone": "(21) 99876-5432"},
    ).content.decode()
    assert "não há nada a apagar" in page
    assert "Sim, apagar os dados" not in page


def test_confirming_erases_and_shows_the_counts(
    owner_client, instance, queued_tasks, django_capture_on_commit_callbacks
):
    sent(instance)
    received(instance)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("privacy:contact_erase", args=[instance.pk]),
            {"phone": "+5521998765432", "confirmado": "1"},
        )
    erasure = ContactErasure.objects.get()
    result = reverse("privacy:erasure", args=[instance.pk, erasure.pk])
    assert response.status_code == 302 and response.url == result

    pending = owner_client.get(result)
    assert "Apagando os dados de +55 21 *****-5432" in pending.content.decode()
    poll = owner_client.get(result, **HTMX)
    assert poll.status_code == 200 and 'hx-trigger="every 2s"' in poll.content.decode()

    tasks.contact_erasure_run_task(*queued_tasks[0][1])
    done = owner_client.get(result, **HTMX)
    assert done.status_code == 286
    text = done.content.decode()
    assert "Dados de +55 21 *****-5432 apagados" in text
    assert "<strong>1</strong> mensagens enviadas" in text
    assert "<strong>1</strong> mensagens recebidas" in text
    assert "hx-trigger" not in text
    assert not Message.objects.exists() and not ReceivedMessage.objects.exists()
    listed = owner_client.get(reverse("privacy:contact_erase", args=[instance.pk]))
    assert "+55 21 *****-5432" in listed.content.decode()
    assert "+5521998765432" not in listed.content.decode()


def test_the_result_page_answers_only_get(owner_client, instance, erasure):
    url = reverse("privacy:erasure", args=[instance.pk, erasure.pk])
    assert owner_client.post(url).status_code == 405


def test_the_form_page_costs_the_same_queries_for_few_and_many_requests(
    owner_client, owner, instance, queued_tasks, django_assert_num_queries
):
    url = reverse("privacy:contact_erase", args=[instance.pk])
    for n in range(12):
        services.contact_erasure_request(
            instance=instance, phone=f"+55219987654{n:02d}", actor=owner
        )
    # session (with its user), instance, the requests
    with django_assert_num_queries(3):
        owner_client.get(url)


# Staff, in the admin.


def _admin_add(staff_client, instance, **data):
    return staff_client.post(
        reverse("admin:privacy_contacterasure_add"),
        {"instance": str(instance.pk), "phone": "(21) 99876-5432", **data},
    )


def test_staff_erase_a_customers_contact_with_a_reason_audited(
    staff_client,
    staff,
    owner,
    instance,
    queued_tasks,
    django_capture_on_commit_callbacks,
):
    sent(instance)
    with django_capture_on_commit_callbacks(execute=True):
        response = _admin_add(staff_client, instance, reason="Titular pediu por e-mail")
    assert response.status_code == 302
    erasure = ContactErasure.objects.get()
    assert erasure.by_staff and erasure.requested_by == staff
    tasks.contact_erasure_run_task(*queued_tasks[0][1])
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.DONE
    assert not Message.objects.exists()
    record = AuditRecord.objects.get(action="contact_data_erase")
    assert record.actor == staff and record.customer == owner
    assert record.reason == "Titular pediu por e-mail"
    page = staff_client.get(
        reverse("admin:privacy_contacterasure_change", args=[erasure.pk])
    ).content.decode()
    assert "+55 21 *****-5432" in page and "1 mensagens enviadas" in page


def test_staff_without_a_reason_are_asked_for_it_and_keep_what_they_typed(
    staff_client, instance, queued_tasks
):
    response = _admin_add(staff_client, instance, reason="")
    page = response.content.decode()
    assert response.status_code == 200
    assert "(21) 99876-5432" in page
    assert not ContactErasure.objects.exists() and queued_tasks == []


def test_staff_without_the_permission_cannot_erase(client, instance):
    plain_staff = UserFactory(is_staff=True)
    client.force_login(plain_staff)
    response = _admin_add(client, instance, reason="LGPD")
    assert response.status_code == 403
    assert not ContactErasure.objects.exists()
