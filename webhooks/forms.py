from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import DeliveryStatus, EventKind, PayloadFormat
from webhooks.sender import UnsafeURL, url_check


def _checked_url(value: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            url_check(value)
        except UnsafeURL as error:
            raise forms.ValidationError(str(error)) from error
    return value


FORMAT_EXPLANATIONS = {
    PayloadFormat.PLUGMESSAGE: _(
        "O formato próprio da PlugMessage: type, timestamp, instance_id e data, "
        "o mesmo envelope em todos os eventos."
    ),
    PayloadFormat.ZAPI: _(
        "Os mesmos corpos da Z-API (ReceivedCallback, DeliveryCallback, "
        "MessageStatusCallback…): escolha este se o seu sistema foi feito para a Z-API."
    ),
}


class EndpointsForm(forms.Form):
    """One URL and one switch per event kind, plus "the same URL for all",
    the payload format and "notify sent by me"."""

    payload_format = forms.ChoiceField(
        label=_("Formato dos eventos"),
        choices=PayloadFormat.choices,
        widget=forms.RadioSelect,
        # A post without it (an older page) leaves the format as it is.
        required=False,
    )
    notify_sent_by_me = forms.BooleanField(
        label=_("Avisar também as mensagens enviadas por mim"),
        help_text=_(
            "Cada mensagem que a instância envia chega também à URL de mensagem "
            "recebida, marcada como enviada por você (fromMe / from_me)."
        ),
        required=False,
    )
    use_same_url = forms.BooleanField(
        label=_("Usar a mesma URL para todos"),
        required=False,
        # panel.js keeps "URL para todos os eventos" disabled while this is off.
        widget=forms.CheckboxInput(attrs={"data-enables": "id_same_url"}),
    )
    same_url = forms.CharField(
        label=_("URL para todos os eventos"), required=False, max_length=2000
    )

    def __init__(self, *args, endpoints=None, settings=None, **kwargs):
        super().__init__(*args, **kwargs)
        if settings is not None:
            self.fields["payload_format"].initial = settings.payload_format
            self.fields["notify_sent_by_me"].initial = settings.notify_sent_by_me
        else:
            self.fields["payload_format"].initial = PayloadFormat.PLUGMESSAGE
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

    def format_choices(self):
        """Each radio of the payload format with its one-line explanation."""
        for radio in self["payload_format"]:
            yield radio, FORMAT_EXPLANATIONS[radio.data["value"]]

    def clean_same_url(self) -> str:
        if not self.cleaned_data.get("use_same_url"):
            return ""  # counts only while "Usar a mesma URL para todos" is on
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

    def settings_values(self) -> dict:
        """The payload format (None when the post had none: unchanged) and
        "notify sent by me", as webhook_endpoints_save takes them."""
        return {
            "payload_format": self.cleaned_data["payload_format"] or None,
            "notify_sent_by_me": self.cleaned_data["notify_sent_by_me"],
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
