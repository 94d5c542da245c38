import re

from django import forms
from django.utils.translation import gettext_lazy as _
from validate_docbr import CNPJ, CPF

from billing.models import BillingProfile

UFS = [
    "AC",
    "AL",
    "AM",
    "AP",
    "BA",
    "CE",
    "DF",
    "ES",
    "GO",
    "MA",
    "MG",
    "MS",
    "MT",
    "PA",
    "PB",
    "PE",
    "PI",
    "PR",
    "RJ",
    "RN",
    "RO",
    "RR",
    "RS",
    "SC",
    "SE",
    "SP",
    "TO",
]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


class BillingProfileForm(forms.ModelForm):
    # Typed with dots, dashes and slashes; stored as digits.
    document = forms.CharField(
        label=_("CPF ou CNPJ"),
        max_length=18,
        help_text=_("Com ou sem pontuação: os dígitos verificadores são conferidos."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    postal_code = forms.CharField(
        label=_("CEP"),
        max_length=9,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "postal-code"}
        ),
    )
    state = forms.ChoiceField(
        label=_("UF"), choices=[("", "—")] + [(uf, uf) for uf in UFS]
    )

    class Meta:
        model = BillingProfile
        fields = [
            "name",
            "document",
            "email",
            "postal_code",
            "street",
            "number",
            "complement",
            "district",
            "city",
            "state",
        ]
        help_texts = {
            "email": _(
                "As faturas, boletos e avisos de pagamento vão para este e-mail."
            ),
        }

    def clean_document(self) -> str:
        digits = _digits(self.cleaned_data["document"])
        if len(digits) == 11:
            if not CPF().validate(digits):
                raise forms.ValidationError(_("CPF inválido: confira os dígitos."))
        elif len(digits) == 14:
            if not CNPJ().validate(digits):
                raise forms.ValidationError(_("CNPJ inválido: confira os dígitos."))
        else:
            raise forms.ValidationError(
                _("Informe um CPF (11 dígitos) ou um CNPJ (14 dígitos).")
            )
        return digits

    def clean_postal_code(self) -> str:
        digits = _digits(self.cleaned_data["postal_code"])
        if len(digits) != 8:
            raise forms.ValidationError(
                _("O CEP tem 8 dígitos, por exemplo 01310-100.")
            )
        return digits
