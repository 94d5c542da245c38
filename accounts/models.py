from django.conf import settings
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SUPPORT_GROUP_NAME = "Suporte"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> "User":
        # Emails are unique regardless of letter case, so logins are too.
        return self.get(email__iexact=email)

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("O e-mail é obrigatório.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(
        self, email: str, password: str | None = None, **extra
    ) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A PlugMessage account. The email is its permanent identity: only the
    audited staff action in the admin changes it (see services)."""

    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    full_name = models.CharField(_("nome"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("membro da equipe"),
        default=False,
        help_text=_("Pode entrar no painel de administração."),
    )
    is_active = models.BooleanField(_("ativo"), default=True)
    date_joined = models.DateTimeField(_("cadastrado em"), default=timezone.now)
    # The account's API security token ("Client-Token"). The token itself is
    # shown once and never stored: only its SHA-256 digest and a short hint.
    client_token_digest = models.CharField(
        _("resumo do Client-Token"), max_length=64, blank=True, editable=False
    )
    client_token_hint = models.CharField(
        _("início do Client-Token"), max_length=8, blank=True, editable=False
    )
    client_token_created_at = models.DateTimeField(
        _("Client-Token gerado em"), null=True, blank=True, editable=False
    )
    client_token_enabled = models.BooleanField(
        _("Client-Token ativo"),
        default=False,
        editable=False,
        help_text=_(
            "Quando ativo, toda chamada à API das instâncias da conta precisa "
            "do cabeçalho Client-Token."
        ),
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("usuário")
        verbose_name_plural = _("usuários")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("Já existe uma conta com este e-mail."),
            ),
            models.CheckConstraint(
                condition=Q(client_token_enabled=False) | ~Q(client_token_digest=""),
                name="accounts_user_client_token_enabled_needs_token",
                violation_error_message=_("Gere um Client-Token antes de ativá-lo."),
            ),
        ]
        permissions = [
            ("change_user_email", _("Pode alterar o e-mail de um cliente (auditado)")),
            (
                "resend_user_verification",
                _("Pode reenviar o e-mail de verificação (auditado)"),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def client_token_status(self) -> str:
        """The Client-Token's state in words, for staff pages."""
        if self.client_token_enabled:
            return _("Ativo: as chamadas à API sem ele são recusadas")
        if self.client_token_digest:
            return _("Gerado, mas desativado")
        return _("Nunca gerado (desativado)")


class AuditRecord(models.Model):
    """One staff action on a customer's data (or on what every customer is
    charged): who, what, on what, before and after, why and when. Written in
    the same transaction as the change and never edited afterwards."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("quem"),
        on_delete=models.PROTECT,
        related_name="audit_records_made",
    )
    # None for a change that is no one customer's (the plan's price).
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_records",
    )
    action = models.CharField(_("ação"), max_length=64)
    target = models.CharField(_("sobre o quê"), max_length=200)
    before = models.JSONField(_("antes"), default=dict)
    after = models.JSONField(_("depois"), default=dict)
    reason = models.TextField(_("motivo"))
    created_at = models.DateTimeField(_("quando"), default=timezone.now)

    class Meta:
        verbose_name = _("registro de auditoria")
        verbose_name_plural = _("registros de auditoria")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} · {self.target}"
