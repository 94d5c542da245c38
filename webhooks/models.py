import base64
import secrets
from urllib.parse import urlsplit, urlunsplit

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def secret_generate() -> str:
    """A signing secret in the Standard Webhooks format: whsec_ + base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def event_id_generate() -> str:
    return "msg_" + secrets.token_hex(13)


class EventKind(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", _("Mensagem recebida")
    MESSAGE_SENT = "message.sent", _("Mensagem enviada")
    MESSAGE_STATUS = "message.status", _("Status da mensagem")
    CONNECTED = "instance.connected", _("Conectado")
    DISCONNECTED = "instance.disconnected", _("Desconectado")
    CHAT_PRESENCE = "chat.presence", _("Presença do chat")


class PayloadFormat(models.TextChoices):
    """The body each delivery carries: PlugMessage's own envelope, or the
    callbacks integrations written for Z-API read (webhooks/zapi.py)."""

    PLUGMESSAGE = "plugmessage", "PlugMessage"
    ZAPI = "zapi", "Z-API"


class WebhookSettings(models.Model):
    """The instance's signing secret and how its webhooks speak. After a
    rotation the previous secret keeps signing too until
    `previous_expires_at`, so receivers can switch."""

    instance = models.OneToOneField(
        "instances.Instance", on_delete=models.CASCADE, related_name="webhook_settings"
    )
    secret = models.CharField(_("segredo"), max_length=100, default=secret_generate)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    payload_format = models.CharField(
        _("formato dos eventos"),
        max_length=12,
        choices=PayloadFormat.choices,
        default=PayloadFormat.PLUGMESSAGE,
    )
    # Z-API's "notifySentByMe": what the instance sends is also announced as
    # a received message (fromMe true), on the message.received URL.
    notify_sent_by_me = models.BooleanField(
        _("avisar também as mensagens enviadas por mim"), default=False
    )

    class Meta:
        verbose_name = _("segredo de webhooks")
        verbose_name_plural = _("segredos de webhooks")

    def __str__(self) -> str:
        return str(self.instance_id)

    def signing_secrets(self, now=None) -> list[str]:
        now = now or timezone.now()
        if (
            self.previous_secret
            and self.previous_expires_at
            and now < self.previous_expires_at
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookEndpoint(models.Model):
    """Where one kind of event of one instance is sent."""

    instance = models.ForeignKey(
        "instances.Instance", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    kind = models.CharField(_("evento"), max_length=30, choices=EventKind.choices)
    url = models.URLField(_("URL"), max_length=2000, blank=True)
    enabled = models.BooleanField(_("ativo"), default=True)
    disabled_reason = models.CharField(
        _("motivo da desativação"), max_length=300, blank=True
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(_("falhando desde"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("endpoint de webhook")
        verbose_name_plural = _("endpoints de webhook")
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "kind"], name="webhooks_one_url_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.url_masked}"

    @property
    def url_masked(self) -> str:
        """The URL with any password and query values hidden: customers put
        their own tokens there, and staff need the host, not the secrets."""
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if parts.password:
            netloc = netloc.replace(f":{parts.password}@", ":***@")
        query = "&".join(
            f"{pair.split('=', 1)[0]}=***" if "=" in pair else pair
            for pair in parts.query.split("&")
            if pair
        )
        return urlunsplit(parts._replace(netloc=netloc, query=query))

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.url) and not self.disabled_at


class WebhookEvent(models.Model):
    """Something that happened on an instance, written in the same transaction
    as the change. Its id is the `webhook-id` every delivery of it carries."""

    id = models.CharField(primary_key=True, max_length=40, default=event_id_generate)
    instance = models.ForeignKey(
        "instances.Instance", on_delete=models.CASCADE, related_name="webhook_events"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evento de webhook")
        verbose_name_plural = _("eventos de webhook")
        ordering = ["-created_at"]
        # The retention sweep finds the old ones (privacy.services).
        indexes = [models.Index(fields=["created_at"], name="webhooks_event_age")]

    def __str__(self) -> str:
        return self.id


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Entregue")
    FAILED = "failed", _("Falhou")


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint. `next_attempt_at` is when it is
    due; a worker holds it while `locked_until` is in the future."""

    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        _("resultado"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempt_count = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    next_attempt_at = models.DateTimeField(
        _("próxima tentativa"), null=True, blank=True
    )
    locked_until = models.DateTimeField(null=True, blank=True)
    is_test = models.BooleanField(_("teste"), default=False)
    created_at = models.DateTimeField(_("criada em"), default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("entrega de webhook")
        verbose_name_plural = _("entregas de webhook")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"]),
            # The retention sweep finds the old ones (privacy.services).
            models.Index(fields=["created_at"], name="webhooks_delivery_age"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts"
    )
    url = models.URLField(max_length=2000)
    request_headers = models.JSONField(default=dict)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the customer's delivery log says, in Portuguese; the technical
    # text behind it (httpx's exception, in English) is for staff only.
    error = models.CharField(max_length=300, blank=True)
    error_detail = models.TextField(_("detalhe técnico do erro"), blank=True)
    response_body = models.TextField(blank=True)

    class Meta:
        verbose_name = _("tentativa de entrega")
        verbose_name_plural = _("tentativas de entrega")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
