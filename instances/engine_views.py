"""The one inbound endpoint of the WhatsApp engine (DESIGN, "The WhatsApp
engine"): the engine posts what happened; a shared secret proves it is ours."""

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from instances import services
from instances.engines import engine_get
from instances.engines.base import ENGINE_EVENTS_HEADER


@csrf_exempt
@require_POST
def engine_events(request: HttpRequest) -> JsonResponse:
    secret = settings.ENGINE_EVENTS_SECRET
    given = request.headers.get(ENGINE_EVENTS_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"code": "unauthorized"}, status=401)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"code": "invalid_json"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"code": "invalid_payload"}, status=400)
    events = engine_get().events_from_webhook(payload)
    services.engine_events_apply(events)
    return JsonResponse({"received": len(events)})
