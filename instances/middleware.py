"""The unchanged QR poll, answered before the rest of the middleware.

An open instance page asks for its QR panel every 2 s, and almost every
answer is "nothing changed" (204, no body). Everything the stack does after
SecurityMiddleware (static files, the Content-Security-Policy, locale,
CSRF, messages, htmx, allauth, URL resolution) exists for pages with a
body or for writes, and costs more than the one cache round trip the answer
needs. So this middleware, placed right after SecurityMiddleware, answers
that case itself with instances.poll_cache.poll_unchanged, the same rule
the view applies; anything else (a new code, another customer, a visitor,
a session or entry the cache lost, Redis down) goes on through the stack to
the view's full path, which checks the login and the ownership as any page
does. Without this middleware the view still answers every case right, only
slower."""

import re
from importlib import import_module
from uuid import UUID

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from instances.poll_cache import poll_unchanged

_PLACEHOLDER = UUID(int=0)


class QrPollMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._session_store = import_module(settings.SESSION_ENGINE).SessionStore
        before, after = reverse("instances:qr", args=[_PLACEHOLDER]).split(
            str(_PLACEHOLDER)
        )
        self._path = re.compile(
            rf"{re.escape(before)}(?P<id>[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}"
            rf"-[0-9a-f]{{4}}-[0-9a-f]{{12}}){re.escape(after)}"
        )

    def __call__(self, request):
        if request.method == "GET" and (match := self._path.fullmatch(request.path)):
            cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
            if cookie and poll_unchanged(
                session=self._session_store(cookie),
                instance_id=match["id"],
                version=request.GET.get("v"),
            ):
                response = HttpResponse(status=204)
                # The answer depends on who asks, as the view's does.
                patch_vary_headers(response, ("Cookie",))
                return response
        return self.get_response(request)
