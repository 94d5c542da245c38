from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_actions import ReasonForm, reason_action
from instances import inbox, services
from instances.engines.base import EngineError
from instances.models import (
    EngineInboxEntry,
    EngineLogout,
    InboxStatus,
    Instance,
    InstanceEvent,
)
from plugmessage.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class TrialExtendForm(ReasonForm):
    days = forms.IntegerField(
        label=_("Dias a mais"), min_value=1, max_value=30, initial=2
    )


class InstanceEventInline(ReadOnlyTabularInline):
    model = InstanceEvent
    fields = ("created_at", "from_state", "to_state", "cause", "actor_kind", "actor")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_change_link = False


class InstanceAdminForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Motivo da alteração"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Obrigatório ao mudar o plano de maturação; fica no histórico."),
    )

    class Meta:
        model = Instance
        fields = ["warmup_plan"]

    def clean(self):
        cleaned = super().clean()
        if "warmup_plan" in self.changed_data and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason",
                _("Informe o motivo: toda mudança feita pela equipe fica registrada."),
            )
        return cleaned

    def clean_warmup_plan(self):
        plan = self.cleaned_data["warmup_plan"]
        if (
            not isinstance(plan, list)
            or not 1 <= len(plan) <= 60
            or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in plan
            )
        ):
            raise forms.ValidationError(
                _(
                    "Informe uma lista de 1 a 60 números inteiros positivos, um por dia, como [20, 40, 80]."
                )
            )
        return plan


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    """Staff read instances here and may adjust the warm-up plan; everything
    else changes only through the panel or audited actions."""

    list_display = (
        "name",
        "owner",
        "phone_number",
        "state",
        "trial_ends_at",
        "created_at",
    )
    list_filter = ("state",)
    search_fields = ("name", "phone_number", "owner__email", "=id")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "name",
        "owner",
        "state",
        "phone_number",
        "masked_token",
        "created_at",
        "trial_ends_at",
        "connected_at",
        "engine_ref",
        "connect_error",
        "warmup_plan",
        "reason",
    )
    readonly_fields = tuple(f for f in fields if f not in ("warmup_plan", "reason"))
    inlines = [InstanceEventInline]
    form = InstanceAdminForm
    actions = ["extend_trial", "force_disconnect"]

    def has_extend_trial_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("instances.extend_instance_trial")

    def has_force_disconnect_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("instances.force_instance_disconnect")

    @admin.action(
        description=_("Estender teste grátis (com motivo, auditado)"),
        permissions=["extend_trial"],
    )
    def extend_trial(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="extend_trial",
            title=_("Estender teste grátis"),
            summary=lambda i: (
                _("Teste de “%(name)s” (%(email)s) até %(end)s.")
                % {"name": i.name, "email": i.owner.email, "end": i.trial_ends_at}
            ),
            explain=_(
                "Os dias contam a partir do fim atual do teste, ou de agora se ele já "
                "terminou; uma instância expirada volta a poder ser conectada."
            ),
            run=lambda instance, data: services.instance_trial_extend(
                instance=instance,
                days=data["days"],
                actor=request.user,
                reason=data["reason"],
            ),
            done=_("Teste estendido e registrado na auditoria."),
            form_class=TrialExtendForm,
        )

    @admin.action(
        description=_("Forçar desconexão (com motivo, auditado)"),
        permissions=["force_disconnect"],
    )
    def force_disconnect(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="force_disconnect",
            title=_("Forçar desconexão"),
            summary=lambda i: (
                _("“%(name)s” de %(email)s, número %(phone)s.")
                % {
                    "name": i.name,
                    "email": i.owner.email,
                    "phone": i.phone_number or "—",
                }
            ),
            explain=_(
                "Encerra a sessão do WhatsApp deste número na PlugMessage; o cliente "
                "precisará ler um novo QR Code para voltar."
            ),
            run=lambda instance, data: services.instance_force_disconnect(
                instance=instance, actor=request.user, reason=data["reason"]
            ),
            done=_("Instância desconectada e registrada na auditoria."),
            errors=(services.InstanceError, EngineError),
        )

    @admin.display(description=_("token"))
    def masked_token(self, obj: Instance) -> str:
        return obj.token_masked

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Only the warm-up plan is editable here, audited with its reason.
        if "warmup_plan" in form.changed_data:
            services.instance_warmup_plan_set(
                instance=obj,
                plan=form.cleaned_data["warmup_plan"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )


@admin.register(EngineInboxEntry)
class EngineInboxEntryAdmin(ReadOnlyAdmin):
    """What the engine posted, stored before it was applied. Staff see what
    failed and why, and may have an entry applied again (recorded in the
    admin's history; it re-runs what the engine reported and changes no
    customer data by hand)."""

    list_display = ("received_at", "kind", "status", "attempts")
    list_filter = ("status", "kind")
    search_fields = ("=engine_ref", "=key")
    date_hierarchy = "received_at"
    fields = (
        "received_at",
        "kind",
        "engine_ref",
        "status",
        "attempts",
        "next_attempt_at",
        "applied_at",
        "error",
        "payload",
        "key",
    )
    readonly_fields = fields
    actions = ["retry_now"]

    def has_retry_now_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("instances.retry_engine_event")

    @admin.action(description=_("Aplicar de novo agora"), permissions=["retry_now"])
    def retry_now(self, request: HttpRequest, queryset):
        chosen = list(queryset.exclude(status=InboxStatus.APPLIED))
        applied = inbox.inbox_entries_retry([entry.pk for entry in chosen])
        for entry in chosen:
            self.log_change(request, entry, _("Aplicar de novo agora"))
        level = messages.SUCCESS if applied == len(chosen) else messages.WARNING
        self.message_user(
            request,
            _(
                "%(applied)d de %(chosen)d eventos aplicados; os outros seguem com o erro."
            )
            % {"applied": applied, "chosen": len(chosen)},
            level,
        )


@admin.register(EngineLogout)
class EngineLogoutAdmin(ReadOnlyAdmin):
    """Sessions the engine still has to close: retried until it does."""

    list_display = ("instance", "requested_at", "attempts", "next_attempt_at", "error")
    list_select_related = ("instance",)
    fields = list_display
    readonly_fields = fields
