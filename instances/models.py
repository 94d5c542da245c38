import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TRIAL_LENGTH = timedelta(days=2)


def token_generate() -> str:
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def warmup_plan_default() -> list[int]:
    """Daily sends allowed on day 1, 2, ... of a newly connected number,
    doubling to 1000 on day 7, which then holds."""
    return [20, 40, 80, 160, 320, 640, 1000]


def engine_ref_generate() -> str:
    return f"pm-{uuid.uuid4().hex}"


class InstanceState(models.TextChoices):
    CREATED = "created", _("Criada")
    WAITING_SCAN = "waiting_scan", _("Aguardando leitura")
    CONNECTED = "connected", _("Conectado")
    DISCONNECTED = "disconnected", _("Desconectado")
    EXPIRED = "expired", _("Expirado")
    CANCELLED = "cancelled", _("Cancelada")


class Instance(models.Model):
    """One WhatsApp number of a customer. `state` is written only by
    instances.lifecycle; the QR fields are what the engine last reported, so a
    poll reads them without calling the engine."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cliente"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    name = models.CharField(_("nome"), max_length=60)
    state = models.CharField(
        _("estado"),
        max_length=20,
        choices=InstanceState.choices,
        default=InstanceState.CREATED,
    )
    phone_number = models.CharField(_("número"), max_length=20, blank=True)
    token = models.CharField(
        _("token"), max_length=64, unique=True, default=token_generate
    )
    # The API finds an instance by the SHA-256 of the token it was given, so
    # the lookup's timing says nothing about the token itself.
    token_digest = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("criada em"), default=timezone.now)
    trial_ends_at = models.DateTimeField(_("fim do teste grátis"))
    # Set while the instance is subscribed (billing keeps the periods; this
    # copy lets every use check it without a query of its own).
    subscribed_since = models.DateTimeField(
        _("assinada desde"), null=True, blank=True, editable=False
    )
    connected_at = models.DateTimeField(_("conectada em"), null=True, blank=True)
    # When this number started its warm-up: kept across reconnections of the
    # same number, reset when another number is connected.
    warmup_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    # What the engine last reported about the pending connection.
    engine_ref = models.CharField(
        _("nome no motor"), max_length=80, unique=True, default=engine_ref_generate
    )
    engine_token = models.CharField(_("token no motor"), max_length=200, blank=True)
    qr_code = models.TextField(_("QR Code atual"), blank=True)
    qr_expires_at = models.DateTimeField(null=True, blank=True)
    pairing_code = models.CharField(
        _("código de pareamento"), max_length=16, blank=True
    )
    pairing_phone = models.CharField(max_length=20, blank=True)
    # Number health (DESIGN rule 10).
    opt_out_words = models.CharField(
        _("palavras de descadastro"),
        max_length=300,
        default="SAIR, PARAR, CANCELAR, DESCADASTRAR, STOP",
    )
    opt_out_reply = models.CharField(
        _("resposta ao descadastro"), max_length=500, blank=True
    )
    number_activated_at = models.DateField(
        _("número ativado em"), null=True, blank=True
    )
    warmup_plan = models.JSONField(_("plano de maturação"), default=warmup_plan_default)
    connect_error = models.CharField(
        _("erro da última conexão"), max_length=300, blank=True
    )
    # The number's WhatsApp profile, as last set through PlugMessage.
    profile_name = models.CharField(_("nome no WhatsApp"), max_length=25, blank=True)
    profile_about = models.CharField(_("recado"), max_length=139, blank=True)
    profile_picture = models.ForeignKey(
        "MediaFile",
        verbose_name=_("foto do perfil"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("instância")
        verbose_name_plural = _("instâncias")
        ordering = ["-created_at"]
        permissions = [
            ("extend_instance_trial", _("Pode estender o teste grátis (auditado)")),
            ("force_instance_disconnect", _("Pode forçar a desconexão (auditado)")),
        ]
        constraints = [
            # Rule 2: a number is live on at most one instance in the system.
            models.UniqueConstraint(
                fields=["phone_number"],
                condition=Q(state="connected"),
                name="instances_one_live_number",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.trial_ends_at is None:
            self.trial_ends_at = self.created_at + TRIAL_LENGTH
        self.token_digest = token_digest(self.token)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "token" in update_fields:
            kwargs["update_fields"] = {*update_fields, "token_digest"}
        super().save(*args, **kwargs)

    @property
    def is_connected(self) -> bool:
        return self.state == InstanceState.CONNECTED

    @property
    def awaiting_scan(self) -> bool:
        """A code is (or will shortly be) on screen, so the page polls."""
        return self.state == InstanceState.WAITING_SCAN and not self.connect_error

    @property
    def poll_version(self) -> str:
        """Changes whenever what the QR panel shows changes, so an unchanged
        poll can be answered with an empty 204."""
        seen = "|".join(
            [
                self.state,
                self.qr_code,
                self.pairing_code,
                self.connect_error,
                self.phone_number,
            ]
        )
        return hashlib.blake2s(seen.encode(), digest_size=8).hexdigest()

    @property
    def token_masked(self) -> str:
        return f"{self.token[:4]}…{self.token[-4:]}"


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", _("Cliente")
    STAFF = "staff", _("Equipe")
    ENGINE = "engine", _("Motor do WhatsApp")
    SYSTEM = "system", _("Sistema")


class InstanceEvent(models.Model):
    """One transition of an instance's lifecycle: from, to, why and who."""

    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(
        _("de"), max_length=20, choices=InstanceState.choices, blank=True
    )
    to_state = models.CharField(_("para"), max_length=20, choices=InstanceState.choices)
    cause = models.CharField(_("causa"), max_length=200)
    actor_kind = models.CharField(_("quem"), max_length=10, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuário"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("quando"), default=timezone.now)

    class Meta:
        verbose_name = _("evento da instância")
        verbose_name_plural = _("eventos da instância")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} → {self.to_state}"


class SimulatedSession(models.Model):
    """The built-in WhatsApp simulator's side of a session. It lives in the
    database so that the web, worker and beat processes see the same state."""

    class Status(models.TextChoices):
        QR = "qr", "qr"
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    engine_ref = models.CharField(max_length=80, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.CLOSED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    code_index = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=64, blank=True, db_index=True)
    pairing_code = models.CharField(max_length=16, blank=True, db_index=True)
    pairing_phone = models.CharField(max_length=20, blank=True)
    phone_number = models.CharField(max_length=20, blank=True)
    # The simulated number's WhatsApp profile and what it last showed a chat.
    profile = models.JSONField(default=dict, blank=True)
    presence = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("sessão simulada")
        verbose_name_plural = _("sessões simuladas")

    def __str__(self) -> str:
        return self.engine_ref


class SimulatedMessage(models.Model):
    """A message in the simulator's conversations: one the instance "sent"
    (so that its tick can report delivery and reading like a phone would), or
    one the simulated phone sent to the instance (`inbound`)."""

    engine_ref = models.CharField(max_length=80, db_index=True)
    message_id = models.CharField(max_length=40, unique=True)
    to = models.CharField(max_length=20)
    inbound = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, default="text")
    text = models.TextField()
    # What the kind carries besides text (caption, file name, coordinates...).
    content = models.JSONField(default=dict, blank=True)
    media = models.ForeignKey(
        "MediaFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply_to = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, default="sent")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mensagem simulada")
        verbose_name_plural = _("mensagens simuladas")

    def __str__(self) -> str:
        return self.message_id


def wa_message_id_generate() -> str:
    """An id in the shape WhatsApp Web gives the messages it sends (3EB0 and
    16 upper-case hex digits): assigned when a send is accepted, so the
    answer, the queue and every webhook about the message carry the same id."""
    return "3EB0" + secrets.token_hex(8).upper()


def media_upload_to(instance: "MediaFile", filename: str) -> str:
    # The name on disk says nothing the link does not: a random id.
    now = timezone.now()
    return f"media/{now:%Y/%m}/{uuid.uuid4().hex}"


class MediaFile(models.Model):
    """The bytes of one image, audio, video, document or sticker sent or
    received by an instance, in Django's storage (files under VAR_DIR by
    default, an S3-compatible bucket in production). Its type is the one read
    from the content, never the one a name or a caller claimed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="media_files"
    )
    file = models.FileField(upload_to=media_upload_to, max_length=200)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    file_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("arquivo de mídia")
        verbose_name_plural = _("arquivos de mídia")

    def __str__(self) -> str:
        return self.file_name or str(self.pk)


class MessageKind(models.TextChoices):
    TEXT = "text", _("Texto")
    IMAGE = "image", _("Imagem")
    AUDIO = "audio", _("Áudio")
    VIDEO = "video", _("Vídeo")
    DOCUMENT = "document", _("Documento")
    LINK = "link", _("Link")
    LOCATION = "location", _("Localização")
    CONTACT = "contact", _("Contato")
    REACTION = "reaction", _("Reação")
    STICKER = "sticker", _("Figurinha")


MEDIA_KINDS = frozenset(
    [
        MessageKind.IMAGE,
        MessageKind.AUDIO,
        MessageKind.VIDEO,
        MessageKind.DOCUMENT,
        MessageKind.STICKER,
    ]
)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Na fila")
    SENT = "sent", _("Enviada")
    DELIVERED = "delivered", _("Entregue")
    READ = "read", _("Lida")
    FAILED = "failed", _("Falhou")


class Message(models.Model):
    """A message sent through an instance's API, of any kind. Its status
    moves forward only (queued → sent → delivered → read), or to failed.
    `text` is the text of a text or link message and the caption of media;
    `content` holds what the kind carries besides (file name, coordinates,
    contact, emoji, link preview); `media` the bytes once they are here (a
    URL given by the caller is fetched by the worker into it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Its lookups all start with the instance: the composite indexes below
    # serve them, and every index more is written on each status change.
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    message_id = models.CharField(
        _("id da mensagem"), max_length=80, default=wa_message_id_generate
    )
    to = models.CharField(_("para"), max_length=20)
    kind = models.CharField(
        _("tipo"), max_length=10, choices=MessageKind.choices, default=MessageKind.TEXT
    )
    text = models.TextField(_("texto"), blank=True)
    content = models.JSONField(default=dict, blank=True)
    media = models.ForeignKey(
        MediaFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: most messages carry none
    )
    media_url = models.URLField(_("endereço da mídia"), max_length=2000, blank=True)
    # The message this one answers (WhatsApp's id, or one of ours).
    reply_to = models.CharField(max_length=80, blank=True)
    # delayMessage: not handed to the engine before this moment.
    send_after = models.DateTimeField(null=True, blank=True)
    # delayTyping: seconds of "digitando..." shown before the message goes.
    typing_seconds = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MessageStatus.choices,
        default=MessageStatus.QUEUED,
    )
    engine_message_id = models.CharField(max_length=80, blank=True)
    # The confirmation sent to someone who just opted out: the one message an
    # excluded number may still get.
    is_opt_out_reply = models.BooleanField(default=False)
    error = models.CharField(_("erro"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("criada em"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # When its send task was queued (see messaging.messages_dispatch).
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mensagem")
        verbose_name_plural = _("mensagens")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["instance", "-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="queued", dispatched_at__isnull=True),
                name="instances_message_undispatched",
            ),
            models.Index(fields=["instance", "message_id"]),
            # Receipts and quotes find a message by the engine's id within
            # its instance; a queued message has none yet.
            models.Index(
                fields=["instance", "engine_message_id"],
                condition=~models.Q(engine_message_id=""),
                name="instances_message_engine_id",
            ),
            models.Index(
                fields=["media"],
                condition=models.Q(media__isnull=False),
                name="instances_message_media",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:30]}"

    @property
    def zaap_id(self) -> str:
        """The queue's id of the message (Z-API's zaapId)."""
        return self.pk.hex.upper()


class ReceivedMessage(models.Model):
    """A message a contact sent to the instance's number, with its content:
    stored once per WhatsApp id, whatever the engine repeats."""

    id = models.BigAutoField(primary_key=True)
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="received_messages"
    )
    message_id = models.CharField(_("id da mensagem"), max_length=80)
    phone = models.CharField(_("de"), max_length=20)
    sender_name = models.CharField(_("nome"), max_length=100, blank=True)
    kind = models.CharField(
        _("tipo"), max_length=10, choices=MessageKind.choices, default=MessageKind.TEXT
    )
    text = models.TextField(_("texto"), blank=True)
    content = models.JSONField(default=dict, blank=True)
    media = models.ForeignKey(
        MediaFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply_to = models.CharField(max_length=80, blank=True)
    received_at = models.DateTimeField(_("recebida em"), default=timezone.now)

    class Meta:
        verbose_name = _("mensagem recebida")
        verbose_name_plural = _("mensagens recebidas")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "message_id"], name="instances_received_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:30]}"


class ExclusionSource(models.TextChoices):
    CUSTOMER = "customer", _("Cliente (painel)")
    API = "api", _("API")
    OPT_OUT = "opt_out", _("Palavra de descadastro")


class ExclusionEntry(models.Model):
    """A number that asked not to be contacted: the API never sends to it."""

    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="exclusions"
    )
    phone = models.CharField(_("número"), max_length=20)
    reason = models.CharField(_("motivo"), max_length=200, blank=True)
    source = models.CharField(
        _("origem"), max_length=10, choices=ExclusionSource.choices
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("quando"), default=timezone.now)

    class Meta:
        verbose_name = _("número excluído")
        verbose_name_plural = _("lista de exclusão")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "phone"], name="instances_excluded_once"
            )
        ]

    def __str__(self) -> str:
        return self.phone


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Importando")
    DONE = "done", _("Concluída")


class ExclusionImport(models.Model):
    """A CSV of numbers to put on an instance's exclusion list: the upload,
    checked in the request, and what a task made of it. The uploaded text
    (phone numbers) is kept only until the import is done; the report
    counts what was added and lists each rejected line."""

    instance = models.ForeignKey(
        Instance,
        verbose_name=_("instância"),
        on_delete=models.CASCADE,
        related_name="exclusion_imports",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enviado por"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    file_name = models.CharField(_("arquivo"), max_length=200, blank=True)
    content = models.TextField(_("conteúdo"), blank=True)
    line_count = models.PositiveIntegerField(_("linhas"), default=0)
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=ImportStatus.choices,
        default=ImportStatus.PENDING,
    )
    # instances.health.exclusion_import_csv's report, kept as it goes.
    report = models.JSONField(_("resultado"), default=dict, blank=True)
    created_at = models.DateTimeField(_("enviado em"), default=timezone.now)
    # The last progress, or the last time a task was asked to go on: a
    # pending import left alone for a minute is started again by beat.
    updated_at = models.DateTimeField(_("atualizado em"), default=timezone.now)
    finished_at = models.DateTimeField(_("concluído em"), null=True, blank=True)

    class Meta:
        verbose_name = _("importação da lista de exclusão")
        verbose_name_plural = _("importações da lista de exclusão")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=Q(status="pending"),
                name="instances_import_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} · {self.get_status_display()}"


class DailySends(models.Model):
    """How many messages an instance accepted on one day (São Paulo time):
    the warm-up limit is enforced by a conditional UPDATE of this row."""

    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="daily_sends"
    )
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "day"], name="instances_one_count_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"


class InboxStatus(models.TextChoices):
    PENDING = "pending", _("A aplicar")
    APPLIED = "applied", _("Aplicado")
    FAILED = "failed", _("Falhou: aguarda a equipe")


class EngineInboxEntry(models.Model):
    """One body the engine posted to /motor/eventos/, stored before it is
    applied: a failure while applying it (or a process that dies) leaves it
    here to be applied again by beat, and staff see what failed. The same
    body posted twice (the engine retrying) is stored once."""

    key = models.CharField(_("chave"), max_length=64, unique=True)
    engine_ref = models.CharField(_("sessão no motor"), max_length=200, blank=True)
    kind = models.CharField(_("tipo"), max_length=60, blank=True)
    payload = models.JSONField(_("corpo"))
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=InboxStatus.choices,
        default=InboxStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    # What went wrong the last time, for staff (never shown to customers).
    error = models.TextField(_("último erro"), blank=True)
    received_at = models.DateTimeField(_("recebido em"), default=timezone.now)
    applied_at = models.DateTimeField(_("aplicado em"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True)
    # Whoever applies it holds it until then (a lease: one that dies lets go).
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("evento do motor")
        verbose_name_plural = _("eventos do motor")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("retry_engine_event", _("Pode aplicar de novo eventos do motor")),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="instances_inbox_due",
            ),
            models.Index(fields=["received_at"], name="instances_inbox_received"),
        ]

    def __str__(self) -> str:
        return f"{self.kind or '?'} · {self.engine_ref}"


class EngineLogout(models.Model):
    """A session the engine must close (an instance that expired, was
    cancelled, refused a number already live elsewhere...) whose logout
    failed: retried by beat until the engine confirms, so no number stays
    live at the engine without the panel knowing. A new connection of the
    instance finishes it first."""

    instance = models.OneToOneField(
        Instance,
        verbose_name=_("instância"),
        on_delete=models.CASCADE,
        related_name="pending_logout",
    )
    requested_at = models.DateTimeField(_("pedido em"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("tentativas"), default=1)
    error = models.TextField(_("último erro"), blank=True)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"))
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("desconexão pendente no motor")
        verbose_name_plural = _("desconexões pendentes no motor")
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return str(self.instance_id)
