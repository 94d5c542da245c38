from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def support_home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "support/home.html", {"support_email": settings.SUPPORT_EMAIL}
    )


@login_required
@require_GET
def best_practices(request: HttpRequest) -> HttpResponse:
    return render(request, "support/best_practices.html")
