import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


def png(name="tela.png", content=PNG):
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args=(): sent.append((name, list(args))),
    )
    return sent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def emailed(monkeypatch, mailoutbox):
    """The ticket emails, sent when their task would be queued (after
    commit) instead of through the broker: the outbox holds them."""
    from support.emails import ticket_email_send

    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args=(): ticket_email_send(kind=args[0], message_id=args[1]),
    )
    return mailoutbox
