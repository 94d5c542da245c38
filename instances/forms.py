from django import forms
from django.utils.translation import gettext_lazy as _

from instances.models import Instance
from instances.phones import phone_to_e164


class InstanceForm(forms.ModelForm):
    """Name an instance ("Adicionar") or rename it ("Dados da Instância")."""

    class Meta:
        model = Instance
        fields = ["name"]
        labels = {"name": _("Nome da instância")}
        help_texts = {
            "name": _(
                "Só para você reconhecê-la no painel, por exemplo “Vendas” ou “Suporte”."
            )
        }
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "off"})}
        error_messages = {"name": {"required": _("Dê um nome à instância.")}}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Dê um nome à instância."))
        return name


class PairingForm(forms.Form):
    phone_number = forms.CharField(
        label=_("Número do WhatsApp"),
        max_length=30,
        help_text=_(
            "Com DDD, por exemplo (11) 98765-4321. O código vale para este número."
        ),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_phone_number(self) -> str:
        return phone_to_e164(self.cleaned_data["phone_number"])


class SimulatedPhoneForm(forms.Form):
    phone_number = forms.CharField(
        label=_("Número deste celular"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def clean_phone_number(self) -> str:
        return phone_to_e164(self.cleaned_data["phone_number"])


class SimulatedPairingForm(SimulatedPhoneForm):
    pairing_code = forms.CharField(label=_("Código de pareamento"), max_length=12)
