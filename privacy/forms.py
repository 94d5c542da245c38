from django import forms
from django.utils.translation import gettext_lazy as _

from instances.phones import phone_to_e164


class ContactEraseForm(forms.Form):
    phone = forms.CharField(
        label=_("Número do contato"),
        max_length=40,
        help_text=_("Com DDD; o DDI 55 é o padrão. Exemplo: (21) 99876-5432."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_phone(self) -> str:
        return phone_to_e164(self.cleaned_data["phone"])
