from django import forms
from django.utils.translation import gettext_lazy as _

from instances.models import Instance, MessageKind, SimulatedMessage
from instances.phones import phone_display, phone_to_e164


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


# The simulated phone's conversation.

SIMULATED_FILE_MAX = 16 * 1024 * 1024


class SimulatedContactForm(forms.Form):
    """Who the person plays on the simulated phone (a GET form: the chosen
    contact is in the address, so every send form carries it along)."""

    contato = forms.CharField(
        label=_("Número do contato"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    nome = forms.CharField(
        label=_("Nome do contato"),
        max_length=100,
        required=False,
        help_text=_("Opcional: o nome que a instância vê (sender_name)."),
    )

    def clean_contato(self) -> str:
        return phone_to_e164(self.cleaned_data["contato"])


class SimulatedSendForm(forms.Form):
    """One message the contact sends the instance; a subclass per kind. The
    contact and name come from the conversation, in hidden fields."""

    kind = MessageKind.TEXT
    contact = forms.CharField(widget=forms.HiddenInput, max_length=30)
    sender_name = forms.CharField(
        widget=forms.HiddenInput, max_length=100, required=False
    )

    def __init__(self, *args, instance: Instance, **kwargs):
        kwargs.setdefault("prefix", self.kind)
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_contact(self) -> str:
        return phone_to_e164(self.cleaned_data["contact"])

    def contact_given(self) -> tuple[str, str] | None:
        """The (E.164 contact, name) this form was posted with, valid or not
        the rest, so a refused send shows the same conversation."""
        try:
            contact = phone_to_e164(self.data.get(self.add_prefix("contact"), ""))
        except forms.ValidationError:
            return None
        return contact, self.data.get(self.add_prefix("sender_name"), "")[:100]

    def message(self) -> dict:
        """The keyword arguments of services.simulated_phone_send."""
        return {
            "contact": self.cleaned_data["contact"],
            "sender_name": self.cleaned_data["sender_name"],
            "kind": self.kind,
            **self._kind_fields(),
        }

    def _kind_fields(self) -> dict:
        return {"text": self.cleaned_data["text"]}


class SimulatedTextForm(SimulatedSendForm):
    kind = MessageKind.TEXT
    title = _("Texto")
    button = _("Enviar texto")
    text = forms.CharField(
        label=_("Mensagem"), max_length=4096, widget=forms.Textarea(attrs={"rows": 2})
    )


class SimulatedFileForm(SimulatedSendForm):
    """Image, video, document or sticker: the file as the person has it. It
    is not checked here: the instance receives whatever the phone sends and
    records a file it does not accept as a download error."""

    kind = MessageKind.IMAGE
    accept = ""
    file = forms.FileField(label=_("Arquivo"))
    caption = forms.CharField(label=_("Legenda"), max_length=1024, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.accept:
            self.fields["file"].widget.attrs["accept"] = self.accept

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > SIMULATED_FILE_MAX:
            raise forms.ValidationError(_("O arquivo passa de 16 MB."))
        return upload

    def _kind_fields(self) -> dict:
        upload = self.cleaned_data["file"]
        return {
            "text": self.cleaned_data.get("caption", ""),
            "file_data": upload.read(),
            "file_name": upload.name,
            "file_mime": upload.content_type or "",
        }


class SimulatedImageForm(SimulatedFileForm):
    kind = MessageKind.IMAGE
    title = _("Imagem")
    button = _("Enviar imagem")
    accept = "image/*"


class SimulatedVideoForm(SimulatedFileForm):
    kind = MessageKind.VIDEO
    title = _("Vídeo")
    button = _("Enviar vídeo")
    accept = "video/*"


class SimulatedDocumentForm(SimulatedFileForm):
    kind = MessageKind.DOCUMENT
    title = _("Documento")
    button = _("Enviar documento")


class SimulatedStickerForm(SimulatedFileForm):
    kind = MessageKind.STICKER
    title = _("Figurinha")
    button = _("Enviar figurinha")
    accept = "image/webp,image/png"
    caption = None


class SimulatedAudioForm(SimulatedFileForm):
    kind = MessageKind.AUDIO
    title = _("Áudio")
    button = _("Enviar áudio")
    accept = "audio/*"
    caption = None
    ptt = forms.BooleanField(
        label=_("Mensagem de voz (gravada na hora)"), required=False, initial=True
    )

    def _kind_fields(self) -> dict:
        return {
            **super()._kind_fields(),
            "content": {"ptt": self.cleaned_data["ptt"]},
        }


class SimulatedLocationForm(SimulatedSendForm):
    kind = MessageKind.LOCATION
    title = _("Localização")
    button = _("Enviar localização")
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    name = forms.CharField(label=_("Nome do lugar"), max_length=200, required=False)
    address = forms.CharField(label=_("Endereço"), max_length=300, required=False)

    def _kind_fields(self) -> dict:
        data = self.cleaned_data
        content = {"latitude": data["latitude"], "longitude": data["longitude"]}
        content.update({k: data[k] for k in ("name", "address") if data[k]})
        return {"content": content}


class SimulatedContactCardForm(SimulatedSendForm):
    kind = MessageKind.CONTACT
    title = _("Contato")
    button = _("Enviar contato")
    name = forms.CharField(label=_("Nome"), max_length=100)
    phone = forms.CharField(
        label=_("Telefone"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def clean_phone(self) -> str:
        return phone_to_e164(self.cleaned_data["phone"])

    def _kind_fields(self) -> dict:
        data = self.cleaned_data
        return {"content": {"name": data["name"], "phone": data["phone"]}}


class _MessageChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: SimulatedMessage) -> str:
        who = _("Você") if obj.inbound else _("Instância")
        kind = MessageKind(obj.kind).label if obj.kind in MessageKind.values else ""
        what = str(obj.text or obj.content.get("file_name") or kind)
        return f"{who}: {what[:50]}"


class SimulatedReactionForm(SimulatedSendForm):
    kind = MessageKind.REACTION
    title = _("Reação")
    button = _("Enviar reação")
    EMOJIS = ["👍", "❤️", "😂", "😮", "😢", "🙏"]

    message_id = _MessageChoice(
        label=_("Mensagem"),
        queryset=SimulatedMessage.objects.none(),
        to_field_name="message_id",
        empty_label=None,
    )
    emoji = forms.ChoiceField(label=_("Reação"), choices=[(e, e) for e in EMOJIS])

    def __init__(self, *args, contact: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            contact = self.data.get(self.add_prefix("contact"), "")
            try:
                contact = phone_to_e164(contact)
            except forms.ValidationError:
                contact = ""
        self.fields["message_id"].queryset = (
            SimulatedMessage.objects.filter(
                engine_ref=self.instance.engine_ref, to=contact
            )
            .exclude(kind=MessageKind.REACTION)
            .order_by("-sent_at", "-id")
        )

    def _kind_fields(self) -> dict:
        target = self.cleaned_data["message_id"]
        return {
            "content": {
                "emoji": self.cleaned_data["emoji"],
                "reaction_to": target.message_id,
            }
        }


SIMULATED_SEND_FORMS = {
    form.kind: form
    for form in (
        SimulatedTextForm,
        SimulatedImageForm,
        SimulatedAudioForm,
        SimulatedVideoForm,
        SimulatedDocumentForm,
        SimulatedStickerForm,
        SimulatedLocationForm,
        SimulatedContactCardForm,
        SimulatedReactionForm,
    )
}


def simulated_send_forms(*, instance: Instance, contact: str, sender_name: str) -> dict:
    """An empty send form of each kind for the conversation with `contact`."""
    initial = {"contact": phone_display(contact), "sender_name": sender_name}
    forms_by_kind = {}
    for kind, form_class in SIMULATED_SEND_FORMS.items():
        extra = {"contact": contact} if form_class is SimulatedReactionForm else {}
        forms_by_kind[kind] = form_class(instance=instance, initial=initial, **extra)
    return forms_by_kind
