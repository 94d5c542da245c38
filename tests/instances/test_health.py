"""Rule 10: exclusion list, opt-out words, warm-up limit, the 24-hour wait."""

from datetime import date, timedelta
from functools import partial

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from instances import health, messaging, services
from instances.engines import engine_get
from instances.models import (
    DailySends,
    ExclusionEntry,
    ExclusionSource,
    Instance,
    Message,
    SimulatedMessage,
    SimulatedSession,
)
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment
from webhooks.models import EventKind, WebhookEvent
from webhooks.services import webhook_endpoints_save


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task", lambda name, args: None
    )


def _live(owner, number="5511987654321"):
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name="Saúde"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, number)])
    instance.refresh_from_db()
    return instance


@pytest.fixture
def live(db, owner):
    return _live(owner)


def _send(client, instance, phone="5521998765432"):
    return client.post(
        f"/instances/{instance.pk}/send-text",
        {"phone": phone, "text": "Olá"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {instance.token}",
    )


# The page.


@pytest.mark.django_db
def test_every_exclusion_url_is_404_for_another_customer_and_login_for_a_visitor(
    client, live, other
):
    entry, _created = health.exclusion_add(
        instance=live, phone="5521998765432", reason="", source="customer"
    )
    pk = live.pk
    urls = [
        ("get", reverse("instances:exclusions", args=[pk]), None),
        (
            "post",
            reverse("instances:exclusion_add", args=[pk]),
            {"phone": "5521911112222"},
        ),
        ("post", reverse("instances:exclusion_import", args=[pk]), {}),
        ("get", reverse("instances:exclusion_export", args=[pk]), None),
        ("get", reverse("instances:exclusion_remove", args=[pk, entry.pk]), None),
        ("post", reverse("instances:exclusion_remove", args=[pk, entry.pk]), {}),
    ]
    for method, url, data in urls:
        anonymous = (
            getattr(Client(), method)(url, data)
            if data is not None
            else Client().get(url)
        )
        assert anonymous.status_code == 302 and "/contas/entrar/" in anonymous.url, url
    client.force_login(other)
    for method, url, data in urls:
        response = (
            getattr(client, method)(url, data) if data is not None else client.get(url)
        )
        assert response.status_code == 404, url
    assert list(ExclusionEntry.objects.values_list("phone", flat=True)) == [
        "+5521998765432"
    ]


@pytest.mark.django_db
def test_the_owner_adds_searches_and_removes_after_confirming(
    owner_client, live, owner
):
    owner_client.post(
        reverse("instances:exclusion_add", args=[live.pk]),
        {"phone": "(21) 99876-5432", "reason": "Pediu por telefone"},
    )
    entry = ExclusionEntry.objects.get()
    assert (entry.phone, entry.source, entry.created_by) == (
        "+5521998765432",
        ExclusionSource.CUSTOMER,
        owner,
    )

    page = owner_client.get(
        reverse("instances:exclusions", args=[live.pk]), {"q": "99876"}
    ).content.decode()
    assert "+5521998765432" in page and "Pediu por telefone" in page
    assert (
        "+5521998765432"
        not in owner_client.get(
            reverse("instances:exclusions", args=[live.pk]), {"q": "1111"}
        ).content.decode()
    )

    url = reverse("instances:exclusion_remove", args=[live.pk, entry.pk])
    assert "Sim, remover" in owner_client.get(url).content.decode()
    assert ExclusionEntry.objects.exists()
    owner_client.post(url)
    assert not ExclusionEntry.objects.exists()


@pytest.mark.django_db
def test_a_bad_number_is_explained_and_kept(owner_client, live):
    response = owner_client.post(
        reverse("instances:exclusion_add", args=[live.pk]),
        {"phone": "12", "reason": "x"},
    )
    body = response.content.decode()
    assert "Número de telefone inválido" in body
    assert 'value="12"' in body
    assert not ExclusionEntry.objects.exists()


@pytest.mark.django_db
def test_csv_import_reports_rejected_lines_and_export_lists_everyone(
    owner_client, live, task_queue, django_capture_on_commit_callbacks
):
    content = b"numero,motivo\n(21) 99876-5432,cliente pediu\n123,lixo\n\n5511912345678\n(21) 99876-5432\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("instances:exclusion_import", args=[live.pk]),
            {"file": SimpleUploadedFile("lista.csv", content, content_type="text/csv")},
        )
    assert task_queue.run() == 1
    body = owner_client.get(response.url).content.decode()
    assert "2 adicionados, 1 já estavam na lista, 1 recusados." in body
    assert "<td>3</td>" in body and "<code>123</code>" in body

    export = owner_client.get(reverse("instances:exclusion_export", args=[live.pk]))
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().strip().splitlines()
    assert lines[0] == "\ufeffnumero,motivo,origem,quando"
    assert {line.split(",")[0] for line in lines[1:]} == {
        "+5521998765432",
        "+5511912345678",
    }


# The API and the exclusion list.


@pytest.mark.django_db
def test_the_api_never_sends_to_an_excluded_number(client, live):
    health.exclusion_add(
        instance=live, phone="5521998765432", reason="", source="customer"
    )
    response = _send(client, live)
    assert (response.status_code, response.json()["code"]) == (
        422,
        "recipient_excluded",
    )
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_exclusion_endpoints(client, live):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {live.token}"}
    created = client.post(
        f"/instances/{live.pk}/exclusions",
        {"phone": "21 99876-5432", "reason": "API"},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201 and created.json()["source"] == "api"
    again = client.post(
        f"/instances/{live.pk}/token/{live.token}/exclusions",
        {"phone": "5521998765432"},
        content_type="application/json",
    )
    assert again.status_code == 200
    listed = client.get(f"/instances/{live.pk}/exclusions", **auth).json()
    assert [e["phone"] for e in listed] == ["+5521998765432"]
    assert (
        client.delete(
            f"/instances/{live.pk}/exclusions/5521998765432", **auth
        ).status_code
        == 204
    )
    assert (
        client.delete(
            f"/instances/{live.pk}/exclusions/5521998765432", **auth
        ).status_code
        == 404
    )
    bad = client.post(
        f"/instances/{live.pk}/exclusions",
        {"phone": "1"},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422


# Opt-out words.


@pytest.mark.parametrize("text", ["SAIR", "  sáir ", "Parar", "descadastrar", "stop"])
@pytest.mark.django_db
def test_an_opt_out_word_puts_the_sender_on_the_list_and_the_next_send_is_refused(
    client, live, text
):
    webhook_endpoints_save(
        instance=live,
        values={EventKind.MESSAGE_RECEIVED.value: ("https://cliente.test/h", True)},
    )
    event = engine_get().phone_send_message(live.engine_ref, "5521998765432", text)
    services.engine_events_apply([event])

    entry = ExclusionEntry.objects.get()
    assert (entry.phone, entry.source) == ("+5521998765432", ExclusionSource.OPT_OUT)
    received = WebhookEvent.objects.get(kind=EventKind.MESSAGE_RECEIVED).payload["data"]
    assert received["opted_out"] is True and received["text"] == text
    assert _send(client, live).status_code == 422


@pytest.mark.django_db
def test_other_words_change_nothing_and_the_words_are_editable(live):
    services.engine_events_apply(
        [
            engine_get().phone_send_message(
                live.engine_ref, "5521998765432", "quero sair amanhã"
            )
        ]
    )
    assert not ExclusionEntry.objects.exists()
    services.instance_update(
        instance=live,
        name=live.name,
        opt_out_words="chega, basta",
        opt_out_reply="Pronto, você não receberá mais mensagens.",
    )
    services.engine_events_apply(
        [engine_get().phone_send_message(live.engine_ref, "5521998765432", "Chega")]
    )
    assert ExclusionEntry.objects.count() == 1
    reply = Message.objects.get()
    assert (reply.to, reply.text) == (
        "+5521998765432",
        "Pronto, você não receberá mais mensagens.",
    )


# Maturação.


@pytest.mark.django_db
def test_the_warm_up_limit_refuses_with_429_and_retry_after(client, live):
    for _ in range(20):
        assert _send(client, live).status_code == 202
    refused = _send(client, live)

    assert refused.status_code == 429
    assert refused.json()["code"] == "warmup_limit"
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert Message.objects.count() == 20


@pytest.mark.django_db
def test_the_limit_doubles_each_day_up_to_1000(live):
    start = timezone.localtime(live.connected_at)
    limits = []
    for day in range(9):
        with time_machine.travel(start + timedelta(days=day)):
            limits.append(health.warmup_limit(live))
    assert limits == [20, 40, 80, 160, 320, 640, 1000, 1000, 1000]


@pytest.mark.django_db
def test_the_page_shows_todays_use_against_the_limit(owner_client, live, client):
    for _ in range(3):
        _send(client, live)
    body = owner_client.get(
        reverse("instances:detail", args=[live.pk])
    ).content.decode()
    assert "Maturação: 3 de 20 envios hoje." in body


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_sends_against_a_limit_of_twenty_accept_exactly_twenty():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (make test with DATABASE_URL)")
    instance = _live(UserFactory())
    sent, refused = at_the_same_moment(
        [
            partial(
                messaging.message_send_text,
                instance=instance,
                phone=f"55219987{n:05d}",
                text="oi",
            )
            for n in range(50)
        ]
    )
    outcomes = ["ok"] * len(sent) + [
        error.status if isinstance(error, messaging.SendRefused) else error
        for error in refused
    ]

    assert outcomes.count("ok") == 20
    assert outcomes.count(429) == 30
    assert Message.objects.filter(instance=instance).count() == 20
    assert DailySends.objects.get(instance=instance).count == 20


# 24 hours.


@pytest.mark.django_db
def test_connecting_a_number_activated_today_warns_to_wait(owner_client, owner):
    instance = services.instance_create(owner=owner, name="Novo")
    Instance.objects.filter(pk=instance.pk).update(
        number_activated_at=timezone.localdate()
    )
    owner_client.post(reverse("instances:connect", args=[instance.pk]))
    body = owner_client.get(
        reverse("instances:detail", args=[instance.pk])
    ).content.decode()
    assert "ativado há menos de 24 horas" in body

    Instance.objects.filter(pk=instance.pk).update(
        number_activated_at=timezone.localdate() - timedelta(days=2)
    )
    body = owner_client.get(
        reverse("instances:detail", args=[instance.pk])
    ).content.decode()
    assert "ativado há menos de 24 horas" not in body


def test_with_only_a_date_the_warning_lasts_until_a_full_day_has_surely_passed():
    instance = Instance(number_activated_at=date(2026, 11, 26))
    at = lambda *args: timezone.make_aware(timezone.datetime(*args))  # noqa: E731
    assert health.activated_recently(instance, at(2026, 11, 26, 9, 0))
    assert health.activated_recently(
        instance, at(2026, 11, 27, 9, 0)
    )  # maybe activated at 20:00
    assert not health.activated_recently(instance, at(2026, 11, 28, 0, 1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("connected", "waited"),
    [
        ((2026, 11, 11, 8, 0), False),  # the next morning: maybe 12 h after
        ((2026, 11, 11, 23, 59), False),
        ((2026, 11, 12, 0, 0), True),  # a full day after the end of the 10th
    ],
)
def test_the_instance_page_and_best_practices_agree_on_the_24_hours(
    owner_client, owner, connected, waited
):
    """Activated on the 10th: the instance page (while it is still that
    moment) and Boas práticas (afterwards) give the same verdict."""
    instance = services.instance_create(owner=owner, name="Nova")
    Instance.objects.filter(pk=instance.pk).update(
        number_activated_at=date(2026, 11, 10)
    )
    moment = timezone.make_aware(timezone.datetime(*connected))
    with time_machine.travel(moment, tick=False):
        owner_client.post(reverse("instances:connect", args=[instance.pk]))
        page = owner_client.get(
            reverse("instances:detail", args=[instance.pk])
        ).content.decode()
        code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
        services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    assert Instance.objects.get(pk=instance.pk).connected_at == moment
    practices = owner_client.get(reverse("support:best_practices")).content.decode()
    assert ("ativado há menos de 24 horas" in page) is not waited
    verdict = (
        "Conectado depois de completar 24 h."
        if waited
        else "Conectado antes de completar 24 h."
    )
    assert verdict in practices


@pytest.mark.django_db
def test_an_opt_out_from_an_old_style_mobile_number_covers_its_new_form(client, live):
    # WhatsApp reports 55 31 8888-7777; customers send to 55 31 98888-7777.
    services.engine_events_apply(
        [engine_get().phone_send_message(live.engine_ref, "553188887777", "SAIR")]
    )
    assert ExclusionEntry.objects.get().phone == "+5531988887777"
    assert _send(client, live, phone="5531988887777").status_code == 422


@pytest.mark.django_db
def test_a_queued_message_to_someone_who_opted_out_meanwhile_is_not_sent(live):
    message = messaging.message_send_text(
        instance=live, phone="5521998765432", text="oi"
    )
    health.exclusion_add(
        instance=live, phone="5521998765432", reason="", source="opt_out"
    )

    messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == "failed"
    assert "exclusão" in message.error
    assert not SimulatedMessage.objects.exists()


@pytest.mark.django_db
def test_the_opt_out_reply_still_reaches_the_person_who_opted_out(live):
    services.instance_update(
        instance=live, name=live.name, opt_out_words="SAIR", opt_out_reply="Feito."
    )
    services.engine_events_apply(
        [engine_get().phone_send_message(live.engine_ref, "5521998765432", "sair")]
    )
    reply = Message.objects.get()
    messaging.message_send(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.status == "sent"
    # A second "sair" does not send a second reply.
    services.engine_events_apply(
        [engine_get().phone_send_message(live.engine_ref, "5521998765432", "SAIR")]
    )
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_the_export_is_safe_to_open_in_a_spreadsheet(owner_client, live):
    health.exclusion_add(
        instance=live,
        phone="5521998765432",
        reason='=HYPERLINK("x")',
        source="customer",
    )
    body = owner_client.get(
        reverse("instances:exclusion_export", args=[live.pk])
    ).content.decode()
    assert body.startswith("\ufeff")
    assert "'=HYPERLINK" in body


@pytest.mark.django_db
def test_an_unreadable_csv_line_is_reported_not_a_crash(
    owner_client, live, task_queue, django_capture_on_commit_callbacks
):
    content = b'numero\n5521998765432\n"' + b"x" * 200_000 + b'"\n5511912345678\n'
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("instances:exclusion_import", args=[live.pk]),
            {"file": SimpleUploadedFile("lista.csv", content, content_type="text/csv")},
        )
    task_queue.run()
    result = owner_client.get(response.url)
    assert result.status_code == 200
    assert "Linha ilegível" in result.content.decode()
    assert ExclusionEntry.objects.filter(phone="+5521998765432").exists()


@pytest.mark.parametrize(
    ("number", "limit"),
    [("5511987654321", 160), ("5521998765432", 20)],
    ids=["the same number keeps its warm-up day", "another number starts again"],
)
@pytest.mark.django_db
def test_reconnecting_after_three_days(live, owner, number, limit):
    # Past the 2-day trial: a subscribed instance.
    Instance.objects.filter(pk=live.pk).update(subscribed_since=timezone.now())
    live.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        services.instance_disconnect(instance=live, actor_kind="customer", actor=owner)
        live.refresh_from_db()
        services.instance_connect(instance=live, actor_kind="customer")
        code = SimulatedSession.objects.get(engine_ref=live.engine_ref).code
        services.engine_events_apply([engine_get().phone_scan(code, number)])
        live.refresh_from_db()
        assert health.warmup_limit(live) == limit


@pytest.mark.django_db
def test_the_exclusion_list_pages_keep_the_search(owner_client, live):
    ExclusionEntry.objects.bulk_create(
        ExclusionEntry(instance=live, phone=f"+55219987{n:05d}", source="customer")
        for n in range(60)
    )
    body = owner_client.get(
        reverse("instances:exclusions", args=[live.pk]), {"q": "552199"}
    ).content.decode()
    assert "Página 1 de 2" in body
    assert 'href="?q=552199&pagina=2"' in body
