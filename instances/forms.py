from django import forms
from django.utils.translation import gettext_lazy as _

from instances.models import Instance
from instances.phones import phone_to_e164


class InstanceForm(forms.ModelForm):
    """Name an instance ("Adicionar") or rename it ("Dados da Instância")."""

    class Meta:
        model = Instance
        fields = ["name", "opt_out_words", "opt_out_reply", "number_activated_at"]
        labels = {"name": _("Nome da instância")}
        help_texts = {
            "opt_out_words": _(
                "Separadas por vírgula. Quem responder exatamente uma delas (maiúsculas, "
                "acentos e espaços não importam) entra na lista de exclusão na hora."
            ),
            "opt_out_reply": _("Opcional: resposta enviada a quem se descadastrar."),
            "number_activated_at": _(
                "Opcional: quando o chip ou o WhatsApp deste número foi ativado. Avisamos "
                "se você tentar conectá-lo antes de 24 horas."
            ),
            "name": _(
                "Só para você reconhecê-la no painel, por exemplo “Vendas” ou “Suporte”."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "opt_out_reply": forms.Textarea(attrs={"rows": 2}),
            "number_activated_at": forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            ),
        }
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


class InstanceCreateForm(InstanceForm):
    class Meta(InstanceForm.Meta):
        fields = ["name"]


class ExclusionAddForm(forms.Form):
    phone = forms.CharField(
        label=_("Número"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    reason = forms.CharField(label=_("Motivo"), max_length=200, required=False)

    def clean_phone(self) -> str:
        return phone_to_e164(self.cleaned_data["phone"])


class ExclusionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Arquivo CSV"),
        help_text=_("Um número por linha; um motivo opcional na segunda coluna."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("O arquivo passa de 5 MB."))
        return upload


class ProfileForm(forms.Form):
    """ "Perfil do WhatsApp": what contacts see of the number. Only what is
    filled in changes; the picture is read from its content."""

    profile_name = forms.CharField(
        label=_("Nome no WhatsApp"),
        max_length=25,
        required=False,
        help_text=_("Até 25 caracteres, como seus clientes veem na conversa."),
    )
    profile_about = forms.CharField(
        label=_("Recado"),
        max_length=139,
        required=False,
        help_text=_("Até 139 caracteres: horário de atendimento, site, o que faz."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    profile_picture = forms.FileField(
        label=_("Foto do perfil"),
        required=False,
        help_text=_("JPEG ou PNG, até 5 MB. A logomarca costuma funcionar melhor."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
