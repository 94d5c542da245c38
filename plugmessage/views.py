from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from plugmessage.health import system_health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("instances:list")
    return redirect("account_login")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For a load balancer or a monitor: the database, the broker, the cache
    and the worker's last heartbeat (plugmessage/health.py); 200 when all
    answer, 503 when one is down, each one named."""
    report = system_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
