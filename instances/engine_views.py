"""The one inbound endpoint of the WhatsApp engine (DESIGN, "The WhatsApp
engine"): the engine posts what happened; a shared secret proves it is ours. What it
posts is stored before it is applied (instances.inbox)."""

import hmac
import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from instances import inbox
from instances.engines.base import ENGINE_EVENTS_HEADER

logger = logging.getLogger(__name__)


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
    try:
        answer = inbox.inbox_receive(payload)
    except DatabaseError:
        # Not stored, so not received: the engine posts it again.
        logger.warning("engine event not stored: database unavailable")
        return JsonResponse(
            {"code": "service_unavailable"}, status=503, headers={"Retry-After": "5"}
        )
    return JsonResponse(answer)
