"""Account routes: allauth's views, listed one by one so that the email
add/change view (`account_email`) is never routed — the email is permanent."""

from allauth.account import views as allauth_views
from django.urls import path, re_path

from accounts import views

allauth_patterns = [
    path("entrar/", allauth_views.login, name="account_login"),
    path("sair/", allauth_views.logout, name="account_logout"),
    path("cadastro/", allauth_views.signup, name="account_signup"),
    path("inativa/", allauth_views.account_inactive, name="account_inactive"),
    path("reautenticar/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path(
        "confirmar-email/",
        allauth_views.email_verification_sent,
        name="account_email_verification_sent",
    ),
    re_path(
        r"^confirmar-email/(?P<key>[-:\w]+)/$",
        allauth_views.confirm_email,
        name="account_confirm_email",
    ),
    path(
        "senha/alterar/",
        allauth_views.password_change,
        name="account_change_password",
    ),
    path("senha/definir/", allauth_views.password_set, name="account_set_password"),
    path(
        "senha/redefinir/",
        allauth_views.password_reset,
        name="account_reset_password",
    ),
    path(
        "senha/redefinir/enviado/",
        allauth_views.password_reset_done,
        name="account_reset_password_done",
    ),
    re_path(
        r"^senha/redefinir/chave/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        allauth_views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "senha/redefinir/concluido/",
        allauth_views.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
]

app_name = "accounts"
urlpatterns = [
    path("", views.profile, name="profile"),
    path("seguranca/", views.security, name="security"),
    path(
        "seguranca/gerar-token/",
        views.client_token_generate,
        name="client_token_generate",
    ),
    path(
        "seguranca/ativar/", views.client_token_activate, name="client_token_activate"
    ),
    path(
        "seguranca/desativar/",
        views.client_token_deactivate,
        name="client_token_deactivate",
    ),
]
