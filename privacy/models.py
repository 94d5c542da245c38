from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureStatus(models.TextChoices):
    PENDING = "pending", _("Apagando")
    DONE = "done", _("Concluído")


class ContactErasure(models.Model):
    """A request to erase what one instance holds about one phone number
    (LGPD), from the customer's panel or by staff, and its result. The
    number itself is kept only until the erasure is done; afterwards only its
    masked form says whose data it was."""

    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instância"),
        on_delete=models.CASCADE,
        related_name="contact_erasures",
    )
    phone = models.CharField(_("número"), max_length=20, blank=True)
    phone_masked = models.CharField(_("número"), max_length=30)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pedido por"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    by_staff = models.BooleanField(_("pela equipe"), default=False)
    reason = models.TextField(_("motivo"), blank=True)
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=ErasureStatus.choices,
        default=ErasureStatus.PENDING,
    )
    # What was erased, by kind (see privacy.services.ERASED_KINDS).
    counts = models.JSONField(_("apagados"), default=dict, blank=True)
    created_at = models.DateTimeField(_("pedido em"), default=timezone.now)
    finished_at = models.DateTimeField(_("concluído em"), null=True, blank=True)

    class Meta:
        verbose_name = _("apagamento de dados de contato")
        verbose_name_plural = _("apagamentos de dados de contato")
        ordering = ["-created_at", "-id"]
        permissions = [
            (
                "erase_contact_data",
                _("Pode apagar os dados de um contato de uma instância (auditado)"),
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="privacy_erasure_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone_masked} · {self.get_status_display()}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())
