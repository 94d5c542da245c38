"""What went wrong with a delivery is said to the customer in Portuguese;
httpx's own text ("[Errno 111] Connection refused") is kept for staff, in
the admin."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from webhooks import sender
from webhooks.models import WebhookAttempt

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def refused(emit, receiver):
    """A delivery to a receiver that no longer listens."""
    receiver.close()
    return emit()


def test_the_log_and_the_test_button_say_a_refused_connection_in_portuguese(
    owner_client, hooked, refused, press_test
):
    detail = owner_client.get(
        reverse("webhooks:delivery", args=[hooked.pk, refused.pk])
    ).content.decode()
    tested = press_test(hooked, "message.status").content.decode()

    for page in (detail, tested):
        assert "O servidor recusou a conexão." in page
        assert "Errno" not in page
        assert "Connection refused" not in page
        assert "ConnectError" not in page


def test_staff_read_the_technical_detail_in_the_admin(staff_client, refused):
    page = staff_client.get(
        reverse("admin:webhooks_webhookdelivery_change", args=[refused.pk])
    ).content.decode()

    assert "O servidor recusou a conexão." in page
    assert "Connection refused" in page


def test_a_media_url_that_refuses_the_connection_is_explained_in_portuguese(
    receiver,
):
    url = receiver.url
    receiver.close()

    with pytest.raises(sender.FetchFailed) as failed:
        sender.fetch(url, max_bytes=1024)

    assert str(failed.value) == "O servidor recusou a conexão."
    assert "Connection refused" in failed.value.detail


@pytest.mark.parametrize(
    ("stored", "error", "detail"),
    [
        (
            "Falha ao conectar: [Errno 111] Connection refused",
            "O servidor recusou a conexão.",
            "Falha ao conectar: [Errno 111] Connection refused",
        ),
        (
            "Falha ao conectar: [Errno 113] No route to host",
            "Não foi possível conectar ao servidor.",
            "Falha ao conectar: [Errno 113] No route to host",
        ),
        (
            "Server disconnected without sending a response.",
            "A conexão com o servidor falhou.",
            "Server disconnected without sending a response.",
        ),
        (
            "RuntimeError: boom",
            "A conexão com o servidor falhou.",
            "RuntimeError: boom",
        ),
        ("Tempo esgotado", "Tempo esgotado", ""),
        (
            "Redirecionamento não seguido (https://x.test/)",
            "Redirecionamento não seguido (https://x.test/)",
            "",
        ),
        ("", "", ""),
    ],
)
def test_the_migration_moves_old_english_errors_to_the_staff_detail(
    delivery_for_migration, stored, error, detail
):
    attempt = delivery_for_migration(stored)

    attempt.refresh_from_db()
    assert (attempt.error, attempt.error_detail) == (error, detail)


@pytest.fixture
def delivery_for_migration(emit, receiver):
    """Store an attempt as the old code did, then run the data migration on
    it (the real one, through the migration's own function)."""

    def store(error: str) -> WebhookAttempt:
        delivery = emit()
        attempt = delivery.attempts.get()
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            error=error, error_detail=""
        )
        executor = MigrationExecutor(connection)
        state = executor.loader.project_state(
            ("webhooks", "0003_webhookattempt_error_detail")
        )
        migration = executor.loader.get_migration(
            "webhooks", "0003_webhookattempt_error_detail"
        )
        migration.operations[-1].code(state.apps, None)
        return attempt

    return store
