"""Support tickets: open, reply (customer or team), close, resolve, assign
(audited);
attachments checked by their content; "Falar com Customer Success"."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record_create
from instances.models import Instance
from plugmessage.broker import task_after_commit
from plugmessage.locks import lock_one
from support.models import (
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatus,
)

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 5
# What a file starts with, whatever its name says.
_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]


def attachment_content_type(upload: UploadedFile) -> str:
    """The type of an uploaded file read from its first bytes: PNG, JPEG,
    GIF, WebP or PDF. Raises ValidationError (in Portuguese) for anything
    else or anything over 5 MB."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("O arquivo “%(name)s” passa de 5 MB.") % {"name": upload.name}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise ValidationError(
        _(
            "O arquivo “%(name)s” não é uma imagem (PNG, JPEG, GIF ou WebP) nem um "
            "PDF. Outros tipos não são aceitos, mesmo com outro nome."
        )
        % {"name": upload.name}
    )


def attachments_check(files: Iterable[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    files = list(files)
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(_("Envie no máximo 5 arquivos por mensagem."))
    return [(upload, attachment_content_type(upload)) for upload in files]


def _email_later(kind: str, message: TicketMessage) -> None:
    task_after_commit(
        "ticket email", "support.tasks.ticket_email_task", kind, message.pk
    )


def _message_add(
    ticket: Ticket, author: User, body: str, files, *, from_staff: bool
) -> TicketMessage:
    checked = attachments_check(files)
    message = TicketMessage.objects.create(
        ticket=ticket, author=author, body=body.strip(), from_staff=from_staff
    )
    for upload, content_type in checked:
        attachment = TicketAttachment(
            message=message,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
        )
        attachment.file.save("anexo", upload, save=False)
        attachment.save()
    return message


@transaction.atomic
def ticket_open(
    *,
    account: User,
    category: str,
    subject: str,
    body: str,
    instance: Instance | None = None,
    files: Iterable[UploadedFile] = (),
) -> Ticket:
    """Open a ticket with its first message and attachments, and tell the
    support inbox. Atomic: an attachment refused (ValidationError) leaves
    nothing behind."""
    if instance is not None and instance.owner_id != account.pk:
        raise ValidationError(_("Instância não encontrada."))
    now = timezone.now()
    ticket = Ticket.objects.create(
        account=account,
        category=category,
        subject=subject.strip(),
        instance=instance,
        created_at=now,
        updated_at=now,
        waiting_since=now,
    )
    message = _message_add(ticket, account, body, files, from_staff=False)
    _email_later("opened", message)
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    files: Iterable[UploadedFile] = (),
) -> TicketMessage:
    """Add a message. From the team: the ticket waits for the customer, who
    is emailed. From the customer: it waits for the team again (a resolved
    ticket reopens) and the support inbox is told."""
    from_staff = author.pk != ticket.account_id and author.is_staff
    if not from_staff and author.pk != ticket.account_id:
        raise ValidationError(_("Chamado não encontrado."))
    ticket = lock_one(Ticket, pk=ticket.pk)
    message = _message_add(ticket, author, body, files, from_staff=from_staff)
    now = timezone.now()
    ticket.updated_at = now
    if from_staff:
        ticket.status = TicketStatus.WAITING_CUSTOMER
        ticket.waiting_since = None
        if ticket.assigned_to_id is None:
            ticket.assigned_to = author
        _email_later("staff_reply", message)
    else:
        if ticket.status != TicketStatus.OPEN or ticket.waiting_since is None:
            ticket.waiting_since = now
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
        _email_later("customer_reply", message)
    ticket.save()
    return message


def ticket_assign(
    *, ticket: Ticket, assigned_to: User | None, actor: User, reason: str
) -> Ticket:
    """Staff hand a ticket to a team member (or to nobody). Atomic with its
    audit record (who had it, who has it, who changed it and why), the
    ticket locked while it is read and changed, so two staff changing it at
    once are recorded one after the other, each with what it really
    replaced. Giving it to whom it already has changes and records nothing.
    Raises ValidationError for an empty reason or an assignee outside the
    team."""
    if not reason.strip():
        raise ValidationError(_("Informe o motivo da alteração."))
    if assigned_to is not None and not assigned_to.is_staff:
        raise ValidationError(_("Só alguém da equipe pode ser o responsável."))
    with transaction.atomic():
        current = lock_one(Ticket, pk=ticket.pk)
        if current.assigned_to_id == (assigned_to.pk if assigned_to else None):
            return current
        before = current.assigned_to.email if current.assigned_to_id else None
        Ticket.objects.filter(pk=current.pk).update(assigned_to=assigned_to)
        current.assigned_to = assigned_to
        audit_record_create(
            actor=actor,
            customer=current.account,
            action="ticket_assign",
            target=f"{_('Chamado')} #{current.pk} {current.subject}",
            before={"assigned_to": before},
            after={"assigned_to": assigned_to.email if assigned_to else None},
            reason=reason,
        )
    return current


def ticket_close(*, ticket: Ticket, account: User) -> Ticket:
    """The customer closes their own ticket: resolved, nobody emailed."""
    if ticket.account_id != account.pk:
        raise ValidationError(_("Chamado não encontrado."))
    return _resolved(ticket)


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor: User, notify: bool = True) -> Ticket:
    """The team resolves a ticket; the customer is emailed (unless `notify`
    is off: the reply sent with it already was). Resolving a resolved ticket
    changes nothing."""
    if lock_one(Ticket, pk=ticket.pk).status == TicketStatus.RESOLVED:
        return ticket
    ticket = _resolved(ticket)
    last = ticket.messages.order_by("-created_at", "-id").first()
    if notify and last is not None:
        _email_later("resolved", last)
    if ticket.assigned_to_id is None:
        Ticket.objects.filter(pk=ticket.pk).update(assigned_to=actor)
    return ticket


def _resolved(ticket: Ticket) -> Ticket:
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.RESOLVED,
        resolved_at=now,
        waiting_since=None,
        updated_at=now,
    )
    ticket.status, ticket.resolved_at, ticket.waiting_since = (
        TicketStatus.RESOLVED,
        now,
        None,
    )
    return ticket


def customer_success_request(
    *, account: User, goal: str, monthly_volume: str, best_time: str
) -> Ticket:
    """ "Falar com Customer Success": a Comercial ticket the team answers by
    contacting the customer."""
    body = _(
        "Objetivo: %(goal)s\nVolume mensal previsto: %(volume)s\n"
        "Melhor horário para conversar: %(time)s"
    ) % {"goal": goal.strip(), "volume": monthly_volume, "time": best_time}
    return ticket_open(
        account=account,
        category=TicketCategory.COMMERCIAL,
        subject=_("Falar com Customer Success"),
        body=body,
    )
