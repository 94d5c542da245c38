"""Importing a CSV into the exclusion list: checked in the request, run by a
task in batches, its progress and report on a page htmx polls."""

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from instances import health, tasks
from instances.models import ExclusionEntry, ExclusionImport, ImportStatus
from plugmessage import broker
from privacy.services import retention_sweep
from tests.factories import InstanceFactory, UserFactory
from tests.helpers import at_the_same_moment

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def instance(owner):
    return InstanceFactory(owner=owner, name="Loja Centro")


def _csv(lines: int, start: int = 0) -> bytes:
    rows = ["numero,motivo"] + [
        f"+55219{start + n:08d},pediu para sair" for n in range(lines)
    ]
    return ("\n".join(rows) + "\n").encode()


def _upload(client, instance, content: bytes, name="lista.csv", capture=None):
    url = reverse("instances:exclusion_import", args=[instance.pk])
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if capture is None:
        return client.post(url, data)
    with capture(execute=True):
        return client.post(url, data)


def _detail(instance, job) -> str:
    return reverse("instances:exclusion_import_detail", args=[instance.pk, job.pk])


@pytest.fixture
def ask(instance, owner, task_queue, django_capture_on_commit_callbacks):
    """An import of `content` as the owner's upload would make, its task
    queued after commit."""

    def request(content: bytes, file_name="lista.csv") -> ExclusionImport:
        with django_capture_on_commit_callbacks(execute=True):
            return health.exclusion_import_request(
                instance=instance, content=content, file_name=file_name, actor=owner
            )

    return request


@pytest.fixture
def job(ask):
    return ask(_csv(3))


def test_every_import_url_is_404_for_another_customer_and_changes_nothing(
    client, other, instance, job, task_queue
):
    client.force_login(other)
    assert client.get(_detail(instance, job)).status_code == 404
    assert client.get(_detail(instance, job), **HTMX).status_code == 404
    assert _upload(client, instance, _csv(2)).status_code == 404
    assert ExclusionImport.objects.count() == 1
    # Another customer's own instance does not open this import either.
    theirs = InstanceFactory(owner=other)
    url = reverse("instances:exclusion_import_detail", args=[theirs.pk, job.pk])
    assert client.get(url).status_code == 404


def test_every_import_url_sends_a_visitor_to_login(instance, job):
    visitor = Client()
    page = visitor.get(_detail(instance, job))
    assert page.status_code == 302 and page.url.startswith(reverse("account_login"))
    poll = visitor.get(_detail(instance, job), **HTMX)
    assert poll.headers["HX-Redirect"].startswith(reverse("account_login"))
    upload = _upload(visitor, instance, _csv(2))
    assert upload.status_code == 302 and "/contas/entrar/" in upload.url
    assert ExclusionImport.objects.count() == 1 and not ExclusionEntry.objects.exists()


def test_the_import_answers_only_post_and_its_page_only_get(
    owner_client, instance, job
):
    url = reverse("instances:exclusion_import", args=[instance.pk])
    assert owner_client.get(url).status_code == 405
    assert owner_client.post(_detail(instance, job)).status_code == 405


def test_an_upload_shows_its_progress_then_the_report_without_a_reload(
    owner_client, instance, task_queue, django_capture_on_commit_callbacks
):
    content = b"numero,motivo\n(21) 99876-5432,cliente pediu\n123,lixo\n\n5511912345678\n(21) 99876-5432\n"
    response = _upload(
        owner_client, instance, content, capture=django_capture_on_commit_callbacks
    )
    job = ExclusionImport.objects.get()
    assert response.status_code == 302 and response.url == _detail(instance, job)
    assert (job.status, job.file_name) == (ImportStatus.PENDING, "lista.csv")
    assert task_queue == [(health.IMPORT_TASK, [job.pk])]
    assert not ExclusionEntry.objects.exists()  # nothing done in the request

    pending = owner_client.get(response.url).content.decode()
    assert "Importando “lista.csv”…" in pending
    assert 'hx-trigger="every 2s"' in pending
    assert "Atualizar" in pending  # without JavaScript, in <noscript>
    poll = owner_client.get(response.url, **HTMX)
    assert poll.status_code == 200 and 'hx-trigger="every 2s"' in poll.content.decode()

    task_queue.run()
    done = owner_client.get(response.url, **HTMX)
    assert done.status_code == 286
    text = done.content.decode()
    assert "2 adicionados, 1 já estavam na lista, 1 recusados." in text
    assert "<td>3</td>" in text and "<code>123</code>" in text
    assert "hx-trigger" not in text and "<html" not in text
    # Without JavaScript: the same result on the whole page.
    page = owner_client.get(response.url).content.decode()
    assert "2 adicionados, 1 já estavam na lista, 1 recusados." in page
    assert "Voltar à lista de exclusão" in page
    listed = owner_client.get(reverse("instances:exclusions", args=[instance.pk]))
    assert response.url in listed.content.decode()


def test_the_poll_costs_a_fixed_number_of_queries(
    owner_client, instance, job, django_assert_num_queries
):
    # session (with its user), instance, the import
    with django_assert_num_queries(3):
        owner_client.get(_detail(instance, job), **HTMX)


def test_two_thousand_lines_are_imported_by_one_task_in_short_transactions(
    owner_client,
    instance,
    owner,
    task_queue,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    batches = []
    real = health.exclusion_import_csv

    def counted(**kwargs):
        batches.append(kwargs["max_lines"])
        return real(**kwargs)

    monkeypatch.setattr(health, "exclusion_import_csv", counted)
    response = _upload(
        owner_client, instance, _csv(2000), capture=django_capture_on_commit_callbacks
    )
    assert task_queue.run() == 1
    job = ExclusionImport.objects.get()
    assert job.status == ImportStatus.DONE and job.finished_at is not None
    assert (job.report["added"], job.report["already"], job.report["rejected"]) == (
        2000,
        0,
        [],
    )
    assert ExclusionEntry.objects.filter(instance=instance).count() == 2000
    assert ExclusionEntry.objects.filter(created_by=owner).count() == 2000
    # 2001 lines (a header), 500 a transaction.
    assert batches == [health.IMPORT_BATCH_LINES] * 5
    # The numbers are not kept once imported.
    assert job.content == ""
    done = owner_client.get(response.url, **HTMX)
    assert done.status_code == 286
    assert "2000 adicionados, 0 já estavam na lista, 0 recusados." in (
        done.content.decode()
    )


def test_a_long_file_goes_on_in_the_next_task(
    ask, task_queue, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(health, "IMPORT_BATCH_LINES", 100)
    monkeypatch.setattr(health, "IMPORT_LINES_PER_TASK", 300)
    job = ask(_csv(700), "grande.csv")
    assert len(task_queue) == 1
    name, args = task_queue.pop()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.exclusion_import_run_task(*args)
    job.refresh_from_db()
    assert job.status == ImportStatus.PENDING and job.report["lines"] == 300
    assert ExclusionEntry.objects.count() == 299
    assert task_queue == [(name, args)]  # the rest, in another task
    assert task_queue.run() == 2
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.report["added"] == 700
    assert ExclusionEntry.objects.count() == 700


def test_running_an_import_again_counts_nothing_twice(job, task_queue):
    task_queue.run()
    before = ExclusionImport.objects.get(pk=job.pk).report
    tasks.exclusion_import_run_task(job.pk)
    assert ExclusionImport.objects.get(pk=job.pk).report == before
    assert before["added"] == 3 and ExclusionEntry.objects.count() == 3


def test_the_line_cap_stays_and_a_file_right_at_it_is_whole(
    ask, task_queue, monkeypatch
):
    monkeypatch.setattr(health, "IMPORT_MAX_LINES", 11)
    at_cap = ask(_csv(10), "a.csv")
    over = ask(_csv(12, start=100), "b.csv")
    task_queue.run()
    at_cap.refresh_from_db()
    over.refresh_from_db()
    assert (at_cap.report["added"], at_cap.report["rejected"]) == (10, [])
    assert over.report["added"] == 10
    assert over.report["rejected"] == [
        [12, "", "Arquivo longo demais: o resto foi ignorado."]
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "Este campo é obrigatório."),
        (b"5521998765432\n" * (5 * 1024 * 1024 // 14 + 1), "O arquivo passa de 5 MB."),
        (b"PK\x03\x04\x00\x00 planilha", "Este arquivo não é um CSV de texto."),
    ],
    ids=["no file", "too big", "not text"],
)
def test_a_bad_upload_is_explained_in_portuguese_and_nothing_is_queued(
    owner_client,
    instance,
    task_queue,
    django_capture_on_commit_callbacks,
    content,
    error,
):
    url = reverse("instances:exclusion_import", args=[instance.pk])
    data = (
        {}
        if content is None
        else {"file": SimpleUploadedFile("lista.csv", content, content_type="text/csv")}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ExclusionImport.objects.exists() and task_queue == []


def test_an_upload_while_the_broker_is_down_is_kept_and_started_by_beat(
    owner_client,
    instance,
    task_queue,
    django_capture_on_commit_callbacks,
    monkeypatch,
    caplog,
):
    def broker_down(name, args=(), **options):
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr("instances.health.current_app.send_task", broker_down)
    response = _upload(
        owner_client, instance, _csv(5), capture=django_capture_on_commit_callbacks
    )
    job = ExclusionImport.objects.get()
    assert response.status_code == 302 and response.url == _detail(instance, job)
    assert job.status == ImportStatus.PENDING and job.content
    assert "broker unavailable" in caplog.text

    # Redis is back; beat leaves an import alone for a minute...
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    monkeypatch.setattr(
        "instances.health.current_app.send_task",
        lambda name, args=(), **options: task_queue.append((name, list(args))),
    )
    tasks.exclusion_imports_resume_task()
    assert task_queue == []
    # ...then starts it.
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        tasks.exclusion_imports_resume_task()
        assert task_queue == [(health.IMPORT_TASK, [job.pk])]
        tasks.exclusion_imports_resume_task()  # asked for: not again at once
        assert len(task_queue) == 1
    task_queue.run()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.report["added"] == 5
    assert ExclusionEntry.objects.count() == 5


def test_retention_deletes_old_import_reports_but_not_a_running_import(
    ask, settings, task_queue
):
    settings.RETENTION_EVENTS_DAYS = 30
    ask(_csv(1), "a.csv")
    task_queue.run()
    running = ask(_csv(1, start=5), "b.csv")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        retention_sweep()
    assert list(ExclusionImport.objects.values_list("pk", flat=True)) == [running.pk]
    assert ExclusionEntry.objects.count() == 1  # the list itself stays


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_import_at_once_count_each_line_once(monkeypatch, settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (make test with DATABASE_URL)")
    monkeypatch.setattr(health, "IMPORT_BATCH_LINES", 50)
    # Each worker would ask for the next task: nobody listens here.
    monkeypatch.setattr(
        "instances.health.current_app.send_task", lambda name, args=(), **o: None
    )
    settings.LOCK_TIMEOUT_MS = 10_000
    instance = InstanceFactory(owner=UserFactory())
    job = health.exclusion_import_request(
        instance=instance, content=_csv(300), file_name="a.csv", actor=None
    )
    results, errors = at_the_same_moment(
        [partial(health.exclusion_import_run, import_id=job.pk) for _ in range(2)]
    )
    assert errors == []
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.report["added"], job.report["already"]) == (300, 0)
    assert ExclusionEntry.objects.filter(instance=instance).count() == 300
