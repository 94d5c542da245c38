from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from instances.phones import phone_to_e164
from privacy import selectors, services
from privacy.models import ContactErasure


class ContactErasureAddForm(forms.ModelForm):
    """Staff erase a contact's data for a customer: the instance, the
    number and a reason, which goes to the audit record."""

    phone = forms.CharField(
        label=_("Número do contato"),
        max_length=40,
        help_text=_("Com DDD; o DDI 55 é o padrão. Exemplo: (21) 99876-5432."),
    )
    reason = forms.CharField(
        label=_("Motivo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Fica no registro de auditoria, com quem fez e quando."),
    )

    class Meta:
        model = ContactErasure
        fields = ["instance"]

    def clean_phone(self) -> str:
        return phone_to_e164(self.cleaned_data["phone"])


@admin.register(ContactErasure)
class ContactErasureAdmin(admin.ModelAdmin):
    """Every erasure, by customers and by staff, read-only; staff with the
    permission ask for a new one ("Adicionar"), audited when it runs."""

    list_display = (
        "created_at",
        "instance",
        "customer",
        "phone_masked",
        "status",
        "by_staff",
        "requested_by",
        "erased",
    )
    list_filter = ("status", "by_staff")
    list_select_related = ("instance__owner", "requested_by")
    search_fields = ("instance__name", "instance__owner__email", "=instance__id")
    raw_id_fields = ("instance",)
    readonly_fields = (
        "instance",
        "phone_masked",
        "status",
        "by_staff",
        "requested_by",
        "reason",
        "erased",
        "created_at",
        "finished_at",
    )
    fields = readonly_fields

    @admin.display(description=_("cliente"))
    def customer(self, erasure: ContactErasure) -> str:
        return erasure.instance.owner.email

    @admin.display(description=_("apagados"))
    def erased(self, erasure: ContactErasure) -> str:
        return ", ".join(
            f"{count} {words}"
            for count, words in selectors.erasure_lines(erasure.counts)
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ContactErasureAddForm
            kwargs["fields"] = ["instance", "phone", "reason"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["instance", "phone", "reason"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("privacy.erase_contact_data")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        erasure = services.contact_erasure_request(
            instance=form.cleaned_data["instance"],
            phone=form.cleaned_data["phone"],
            actor=request.user,
            by_staff=True,
            reason=form.cleaned_data["reason"],
        )
        obj.pk, obj.phone_masked = erasure.pk, erasure.phone_masked
