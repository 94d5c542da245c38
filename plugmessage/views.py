from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from plugmessage.models import Heartbeat


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("instances:list")
    return redirect("account_login")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For a load balancer: 200 while the database answers; also shows when the
    worker last ran the beat's heartbeat task."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beats = {h.name: h.beat_at.isoformat() for h in Heartbeat.objects.all()}
    return JsonResponse({"database": "ok", "heartbeats": beats})
