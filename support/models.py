"""Support tickets: a conversation between a customer and the support team,
with attachments checked by content, and a proxy of the user for the
admin's customer-360 page."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class TicketCategory(models.TextChoices):
    TECHNICAL = "technical", _("Técnico")
    FINANCIAL = "financial", _("Financeiro")
    COMMERCIAL = "commercial", _("Comercial")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Aberto")
    # Staff's word; the customer's pages say "Aguardando você"
    # (templates/support/_status.html).
    WAITING_CUSTOMER = "waiting_customer", _("Aguardando cliente")
    RESOLVED = "resolved", _("Resolvido")


class Ticket(models.Model):
    """Open (the team owes an answer), waiting for the customer, or resolved.
    `waiting_since` orders the team's queue: oldest waiting first."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    category = models.CharField(
        _("categoria"), max_length=12, choices=TicketCategory.choices
    )
    subject = models.CharField(_("assunto"), max_length=140)
    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instância"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    status = models.CharField(
        _("situação"),
        max_length=20,
        choices=TicketStatus.choices,
        default=TicketStatus.OPEN,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsável"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets_assigned",
        limit_choices_to={"is_staff": True},
    )
    created_at = models.DateTimeField(_("aberto em"), default=timezone.now)
    updated_at = models.DateTimeField(_("atualizado em"), default=timezone.now)
    waiting_since = models.DateTimeField(
        _("esperando a equipe desde"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolvido em"), null=True, blank=True)

    class Meta:
        verbose_name = _("chamado")
        verbose_name_plural = _("chamados")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["account", "-updated_at"]),
            models.Index(fields=["status", "waiting_since"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("autor"), on_delete=models.PROTECT
    )
    from_staff = models.BooleanField(_("da equipe"), default=False)
    body = models.TextField(_("mensagem"))
    created_at = models.DateTimeField(_("enviada em"), default=timezone.now)

    class Meta:
        verbose_name = _("mensagem do chamado")
        verbose_name_plural = _("mensagens do chamado")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


def _attachment_path(attachment: "TicketAttachment", filename: str) -> str:
    # The stored name never comes from the customer.
    return f"tickets/{attachment.message.ticket_id}/{timezone.now():%Y%m%d%H%M%S%f}"


class TicketAttachment(models.Model):
    """An image or PDF sent with a message; its type was read from its
    content. Served only to its ticket's customer and to staff."""

    message = models.ForeignKey(
        TicketMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path)
    original_name = models.CharField(_("nome do arquivo"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("tamanho (bytes)"))

    class Meta:
        verbose_name = _("anexo")
        verbose_name_plural = _("anexos")

    def __str__(self) -> str:
        return self.original_name


class Customer(User):
    """The admin's customer-360 page: one user with everything about them."""

    class Meta:
        proxy = True
        verbose_name = _("cliente (visão 360)")
        verbose_name_plural = _("clientes (visão 360)")
