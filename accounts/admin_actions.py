"""Audited staff actions in the admin: one object, a reason (and any other
fields the action needs), then the service that does it and writes the
audit record."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from plugmessage.locks import LockTimeout


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Fica no registro de auditoria, com quem fez e quando."),
    )


def reason_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    *,
    action: str,
    title: str,
    summary: Callable[[object], str],
    explain: str,
    run: Callable[[object, dict], object],
    done: str,
    form_class: type[forms.Form] = ReasonForm,
    errors: tuple[type[Exception], ...] = (),
    error_field: str | None = None,
):
    """Ask for the reason on an intermediate page, then run the action on
    the one selected object. When the action refuses, the page comes back
    with the reason (on `error_field`, or above the form) and everything
    typed kept; so it does, with the reason above the form, when another
    transaction holds the object's row past the lock timeout."""
    if queryset.count() != 1:
        modeladmin.message_user(
            request, _("Selecione exatamente um item para esta ação."), messages.ERROR
        )
        return None
    obj = queryset.get()
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            run(obj, form.cleaned_data)
        except ValidationError as error:
            form.add_error(error_field, error)
        except errors as error:
            form.add_error(error_field, str(error))
        except LockTimeout as error:
            form.add_error(None, str(error))
        else:
            modeladmin.message_user(request, done, messages.SUCCESS)
            return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{title}: {obj}",
        "opts": opts,
        "summary": summary(obj),
        "explain": explain,
        "form": form,
        "object_id": obj.pk,
        "action_name": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": f"admin:{opts.app_label}_{opts.model_name}_changelist",
    }
    return TemplateResponse(request, "admin/reason_action.html", context)
