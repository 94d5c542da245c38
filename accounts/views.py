from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import ProfileForm
from accounts.services import (
    client_token_create,
    client_token_enable,
    client_token_is_current,
    user_profile_update,
)

# Carries a just-generated Client-Token from the POST to the page that shows
# it once. The session lives on the server (never in a cookie or a URL), and
# the security page removes the token from it when showing it.
NEW_CLIENT_TOKEN_KEY = "accounts_new_client_token"  # noqa: S105 (a key name)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_profile_update(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, _("Seus dados foram salvos."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "tab": "profile"})


@never_cache
@login_required
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    new_token = request.session.pop(NEW_CLIENT_TOKEN_KEY, None)
    if new_token and not client_token_is_current(user=request.user, token=new_token):
        new_token = None  # replaced meanwhile (another tab): it no longer works
    example_url = (
        f"{settings.SITE_URL}/instances/ID-DA-INSTANCIA/token/TOKEN-DA-INSTANCIA"
        "/send-text"
    )
    return render(
        request,
        "accounts/security.html",
        {"tab": "security", "new_token": new_token, "api_example_url": example_url},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def client_token_generate(request: HttpRequest) -> HttpResponse:
    """The first token is generated straight from the page; replacing one asks
    first (GET), because integrations that use it stop working."""
    rotating = bool(request.user.client_token_digest)
    if request.method == "GET":
        if not rotating:
            return redirect("accounts:security")
        return render(request, "accounts/client_token_rotate.html", {"tab": "security"})
    request.session[NEW_CLIENT_TOKEN_KEY] = client_token_create(user=request.user)
    if rotating:
        messages.success(
            request, _("Novo Client-Token gerado. O anterior já não funciona.")
        )
    else:
        messages.success(request, _("Client-Token gerado."))
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "POST"])
def client_token_activate(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if not request.user.client_token_digest or request.user.client_token_enabled:
            return redirect("accounts:security")
        return render(
            request, "accounts/client_token_activate.html", {"tab": "security"}
        )
    try:
        client_token_enable(user=request.user, enabled=True)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("Client-Token ativado: as chamadas à API sem ele agora são recusadas."),
        )
    return redirect("accounts:security")


@login_required
@require_POST
def client_token_deactivate(request: HttpRequest) -> HttpResponse:
    client_token_enable(user=request.user, enabled=False)
    messages.success(
        request,
        _("Client-Token desativado: as chamadas à API funcionam sem ele."),
    )
    return redirect("accounts:security")
