from allauth.account import forms as allauth_forms
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class ProfileForm(forms.ModelForm):
    """What a customer may edit in "Minha conta". The email is not a field, so
    a POST that carries one is ignored."""

    class Meta:
        model = User
        fields = ["full_name"]
        widgets = {"full_name": forms.TextInput(attrs={"autocomplete": "name"})}


class StaffEmailChangeForm(forms.Form):
    new_email = forms.EmailField(label=_("Novo e-mail"))
    reason = forms.CharField(
        label=_("Motivo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obrigatório. Fica registrado na auditoria."),
    )


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up form with the panel's Portuguese labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail")
        self.fields["email"].widget.attrs["placeholder"] = "voce@empresa.com.br"
        self.fields["password1"].widget.attrs.pop("placeholder", None)
        self.fields["password2"].label = _("Repita a senha")
        self.fields["password2"].widget.attrs.pop("placeholder", None)


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail")
        self.fields["login"].widget.attrs["placeholder"] = "voce@empresa.com.br"
        self.fields["password"].widget.attrs.pop("placeholder", None)
        self.fields["remember"].label = _("Manter conectado neste aparelho")


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    """ "Esqueci minha senha" answers the same whether or not an account has
    the email: nobody learns from it who is a customer. (Sign-up still says
    clearly that an email is taken, so allauth's ACCOUNT_PREVENT_ENUMERATION
    stays off and only this form keeps quiet.) An unknown email gets
    allauth's "no account with this address" message instead of a link."""

    def clean_email(self) -> str:
        try:
            return super().clean_email()
        except forms.ValidationError:
            return self.cleaned_data["email"]  # self.users is empty
