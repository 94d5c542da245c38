"""Support in the admin: the ticket queue (oldest waiting first) where staff
reply, assign and resolve, and the customer-360 page."""

from django import forms
from django.contrib import admin
from django.db.models import F
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from plugmessage.admin import ReadOnlyInlineMixin
from support import selectors, services
from support.models import Customer, Ticket, TicketAttachment, TicketMessage
from support.views import attachment_response


class TicketMessageInline(ReadOnlyInlineMixin, admin.StackedInline):
    model = TicketMessage
    fields = ("created_at", "author", "from_staff", "body", "files")
    readonly_fields = fields

    @admin.display(description=_("anexos"))
    def files(self, message: TicketMessage) -> str:
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (
                        reverse(
                            "admin:support_ticket_attachment",
                            args=[message.ticket_id, attachment.pk],
                        ),
                        attachment.original_name,
                    )
                    for attachment in message.attachments.all()
                ),
            )
            or "—"
        )


class TicketAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Responder ao cliente"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        required=False,
        help_text=_(
            "Enviada por e-mail ao cliente; o chamado passa a “Aguardando cliente”."
        ),
    )
    resolve = forms.BooleanField(
        label=_("Marcar como resolvido"),
        required=False,
        help_text=_("O cliente é avisado por e-mail e pode reabrir respondendo."),
    )
    reason = forms.CharField(
        label=_("Motivo da alteração"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Obrigatório ao mudar o responsável; fica no histórico."),
    )

    class Meta:
        model = Ticket
        fields = ["assigned_to"]

    def clean(self):
        cleaned = super().clean()
        if "assigned_to" in self.changed_data and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason",
                _("Informe o motivo: toda mudança feita pela equipe fica registrada."),
            )
        return cleaned


def _short(moment) -> str:
    return date_format(localtime(moment), "d/m/Y H:i") if moment else "—"


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """The queue: open tickets, oldest waiting first."""

    form = TicketAdminForm
    # Short dates: the long form ("1 de dezembro de 2026 às 04:25") left the
    # subject one word a line at 1280 px.
    list_display = (
        "__str__",
        "account",
        "category",
        "status",
        "waiting",
        "assigned_to",
        "updated",
    )
    list_filter = ("status", "category", "assigned_to")
    search_fields = ("subject", "account__email", "messages__body")
    list_select_related = ("account", "assigned_to")

    @admin.display(description=_("esperando desde"), ordering="waiting_since")
    def waiting(self, ticket: Ticket) -> str:
        return _short(ticket.waiting_since)

    @admin.display(description=_("atualizado"), ordering="updated_at")
    def updated(self, ticket: Ticket) -> str:
        return _short(ticket.updated_at)

    fields = (
        "account_link",
        "category",
        "subject",
        "instance",
        "status",
        "created_at",
        "waiting_since",
        "assigned_to",
        "reason",
        "reply",
        "resolve",
    )
    readonly_fields = (
        "account_link",
        "category",
        "subject",
        "instance",
        "status",
        "created_at",
        "waiting_since",
    )
    inlines = [TicketMessageInline]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .order_by(F("waiting_since").asc(nulls_last=True), "-updated_at")
        )

    @admin.display(description=_("cliente"))
    def account_link(self, ticket: Ticket) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:support_customer_change", args=[ticket.account_id]),
            ticket.account.email,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Ticket, form, change) -> None:
        # The assignee is the one field saved from the form, audited with its
        # reason; a reply and the resolution go through their services.
        if "assigned_to" in form.changed_data:
            services.ticket_assign(
                ticket=obj,
                assigned_to=form.cleaned_data["assigned_to"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        replied = bool(form.cleaned_data.get("reply", "").strip())
        if replied:
            services.ticket_reply(
                ticket=obj, author=request.user, body=form.cleaned_data["reply"]
            )
        if form.cleaned_data.get("resolve"):
            # A reply sent in the same save already told the customer.
            services.ticket_resolve(ticket=obj, actor=request.user, notify=not replied)

    def get_urls(self):
        return [
            path(
                "<int:ticket_id>/anexos/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="support_ticket_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request: HttpRequest, ticket_id: int, attachment_id: int):
        if not self.has_view_permission(request):
            raise Http404
        attachment = get_object_or_404(
            TicketAttachment, pk=attachment_id, message__ticket_id=ticket_id
        )
        return attachment_response(attachment)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customer 360: everything about one account on one page."""

    list_display = ("email", "full_name", "date_joined", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("-date_joined",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(is_staff=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("accounts.view_user")

    def change_view(
        self, request: HttpRequest, object_id, form_url="", extra_context=None
    ):
        if not self.has_view_permission(request):
            raise Http404
        customer = self.get_object(request, object_id)
        if customer is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Cliente: %(email)s") % {"email": customer.email},
            "customer": customer,
            "c360": selectors.customer_360(customer),
        }
        return TemplateResponse(request, "admin/support/customer_360.html", context)
