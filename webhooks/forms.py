from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import DeliveryStatus, EventKind
from webhooks.sender import UnsafeURL, url_check


def _checked_url(value: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            url_check(value)
        except UnsafeURL as error:
            raise forms.ValidationError(str(error)) from error
    return value


class EndpointsForm(forms.Form):
    """One URL and one switch per event kind, plus "the same URL for all"."""

    use_same_url = forms.BooleanField(
        label=_("Usar a mesma URL para todos"), required=False
    )
    same_url = forms.CharField(
        label=_("URL para todos os eventos"), required=False, max_length=2000
    )

    def __init__(self, *args, endpoints=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = {e.kind: e for e in endpoints or []}
        for kind in EventKind:
            endpoint = current.get(kind.value)
            self.fields[f"{kind.value}-url"] = forms.CharField(
                label=kind.label,
                required=False,
                max_length=2000,
                initial=endpoint.url if endpoint else "",
                widget=forms.URLInput(
                    attrs={"placeholder": "https://seu-sistema.com.br/webhooks"}
                ),
            )
            self.fields[f"{kind.value}-enabled"] = forms.BooleanField(
                label=_("Ativo"),
                required=False,
                initial=endpoint.enabled if endpoint else True,
            )

    def rows(self):
        for kind in EventKind:
            yield kind, self[f"{kind.value}-url"], self[f"{kind.value}-enabled"]

    def clean_same_url(self) -> str:
        return _checked_url(self.cleaned_data.get("same_url", ""))

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("use_same_url")
            and not cleaned.get("same_url")
            and "same_url" not in self.errors
        ):
            self.add_error(
                "same_url", _("Informe a URL que vale para todos os eventos.")
            )
        for kind in EventKind:
            name = f"{kind.value}-url"
            if cleaned.get("use_same_url"):
                cleaned[name] = cleaned.get("same_url", "")
                continue
            try:
                cleaned[name] = _checked_url(cleaned.get(name, ""))
            except forms.ValidationError as error:
                self.add_error(name, error)
        return cleaned

    def values(self) -> dict[str, tuple[str, bool]]:
        return {
            kind.value: (
                self.cleaned_data[f"{kind.value}-url"],
                self.cleaned_data[f"{kind.value}-enabled"],
            )
            for kind in EventKind
        }


class DeliveryFilterForm(forms.Form):
    tipo = forms.ChoiceField(
        label=_("Evento"),
        required=False,
        choices=[("", _("Todos")), *EventKind.choices],
    )
    resultado = forms.ChoiceField(
        label=_("Resultado"),
        required=False,
        choices=[("", _("Todos")), *DeliveryStatus.choices],
    )


class ReplayForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Reenviar falhas desde"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
    )
