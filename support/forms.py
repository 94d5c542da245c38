from django import forms
from django.utils.translation import gettext_lazy as _

from instances.models import Instance
from support.models import TicketCategory


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={
                    "accept": "image/png,image/jpeg,image/gif,image/webp,application/pdf"
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


ATTACHMENTS_HELP = _(
    "Imagens (PNG, JPEG, GIF, WebP) ou PDF, até 5 MB cada, no máximo 5."
)


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Categoria"), choices=TicketCategory.choices)
    subject = forms.CharField(label=_("Assunto"), max_length=140)
    body = forms.CharField(
        label=_("Mensagem"), widget=forms.Textarea(attrs={"rows": 6})
    )
    instance = forms.ModelChoiceField(
        label=_("Instância (opcional)"),
        queryset=Instance.objects.none(),
        required=False,
        empty_label=_("Nenhuma"),
    )
    attachments = MultipleFileField(
        label=_("Anexos (opcional)"), required=False, help_text=ATTACHMENTS_HELP
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = Instance.objects.filter(owner=user).order_by(
            "name"
        )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Sua resposta"), widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = MultipleFileField(
        label=_("Anexos (opcional)"), required=False, help_text=ATTACHMENTS_HELP
    )


class CustomerSuccessForm(forms.Form):
    goal = forms.CharField(
        label=_("O que você quer alcançar com o WhatsApp?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    monthly_volume = forms.ChoiceField(
        label=_("Volume mensal de mensagens previsto"),
        choices=[
            ("até 1.000", _("até 1.000")),
            ("1.000 a 10.000", _("1.000 a 10.000")),
            ("10.000 a 100.000", _("10.000 a 100.000")),
            ("mais de 100.000", _("mais de 100.000")),
        ],
    )
    best_time = forms.ChoiceField(
        label=_("Melhor horário para conversarmos"),
        choices=[
            ("manhã (9h às 12h)", _("manhã (9h às 12h)")),
            ("tarde (13h às 18h)", _("tarde (13h às 18h)")),
            ("qualquer horário comercial", _("qualquer horário comercial")),
        ],
    )
