from allauth.account import admin as allauth_admin
from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_actions import reason_action
from accounts.forms import StaffEmailChangeForm
from accounts.models import AuditRecord, User
from accounts.services import user_email_change_by_staff, user_verification_resend

# allauth's own admin for email addresses, imported (and so registered) here
# to be replaced: its "verify" action would bypass the audited one.
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(allauth_admin.EmailAddressAdmin):
    actions = []

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


admin.site.site_header = _("PlugMessage — administração")
admin.site.site_title = _("PlugMessage")
# The lists need the width (the ticket queue's subject wrapped one word a
# line at 1280 px, later columns were cut off): no side navigation; the
# breadcrumbs and the index lead everywhere.
admin.site.enable_nav_sidebar = False
admin.site.index_title = _("Suporte e operação")


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Já existe uma conta com este e-mail."))
        return email


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined")
    list_filter = (
        "is_active",
        "is_staff",
        "is_superuser",
        "client_token_enabled",
        "groups",
    )
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "customer_360", "password")}),
        (_("Dados pessoais"), {"fields": ("full_name",)}),
        (
            _("Client-Token da API"),
            {
                "fields": (
                    "client_token_status",
                    "client_token_hint",
                    "client_token_created_at",
                ),
                "description": _(
                    "Só o início do token é guardado para exibição; nem a equipe "
                    "pode vê-lo. Apenas o cliente o gera, troca, ativa ou "
                    "desativa, em Minha conta › Segurança."
                ),
            },
        ),
        (
            _("Permissões"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Datas"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )
    actions = ["change_email_with_reason", "resend_verification"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        # The email is changed only by the audited action, never by editing.
        if obj is None:
            return ()
        return (
            "email",
            "customer_360",
            "client_token_status",
            "client_token_hint",
            "client_token_created_at",
            "last_login",
            "date_joined",
        )

    @admin.display(description=_("Visão 360"))
    def customer_360(self, user: User) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:support_customer_change", args=[user.pk]),
            _("Instâncias, faturas, chamados, webhooks e auditoria desta conta"),
        )

    @admin.display(description=_("Situação"))
    def client_token_status(self, user: User) -> str:
        return user.client_token_status

    def has_change_email_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_user_email")

    def has_resend_verification_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.resend_user_verification")

    @admin.action(
        description=_("Reenviar e-mail de verificação (com motivo, auditado)"),
        permissions=["resend_verification"],
    )
    def resend_verification(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="resend_verification",
            title=_("Reenviar e-mail de verificação"),
            summary=lambda user: user.email,
            explain=_(
                "O cliente recebe de novo o link para confirmar o e-mail da conta."
            ),
            run=lambda user, data: user_verification_resend(
                user=user, actor=request.user, reason=data["reason"], request=request
            ),
            done=_("E-mail de verificação reenviado e registrado na auditoria."),
        )

    @admin.action(
        description=_("Alterar e-mail (com motivo, auditado)"),
        permissions=["change_email"],
    )
    def change_email_with_reason(self, request: HttpRequest, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="change_email_with_reason",
            title=_("Alterar e-mail"),
            summary=lambda user: (
                _(
                    "O e-mail é a identidade permanente da conta %(email)s. Altere-o "
                    "apenas em casos excepcionais, depois de confirmar a identidade "
                    "do cliente."
                )
                % {"email": user.email}
            ),
            explain=_(
                "O novo endereço começa não verificado: o cliente recebe um e-mail "
                "de confirmação e só volta a entrar depois de confirmá-lo."
            ),
            run=lambda user, data: user_email_change_by_staff(
                user=user,
                new_email=data["new_email"],
                reason=data["reason"],
                actor=request.user,
                request=request,
            ),
            done=_("E-mail alterado e registrado na auditoria."),
            form_class=StaffEmailChangeForm,
            error_field="new_email",
        )


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "customer", "target", "reason")
    list_filter = ("action",)
    search_fields = ("customer__email", "actor__email", "target", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "customer")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
