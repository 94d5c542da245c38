"""The real URLs plus the benchmark's baseline: a bare view returning a
constant, through the same middleware. Used only by bench/ (ROOT_URLCONF)."""

from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI, Schema

from instances.models import Instance
from plugmessage.models import Heartbeat
from plugmessage.urls import urlpatterns as real_urlpatterns


def bare(request):
    return HttpResponse("ok")


bare_api = NinjaAPI(urls_namespace="bench", docs_url=None, openapi_url=None)


class Constant(Schema):
    ok: bool


@bare_api.post("/bench/ninja/", response={202: Constant})
def bare_ninja(request):
    """The baseline of the send-text benchmark: a django-ninja endpoint that
    answers a constant."""
    return 202, {"ok": True}


@bare_api.post("/bench/ninja-write/", response={202: Constant})
def bare_ninja_write(request):
    """A reference point, not a baseline: the bare endpoint plus the one
    committed write any durable acceptance needs (one UPDATE of one row)."""
    Heartbeat.objects.filter(name="bench").update(beat_at=timezone.now())
    return 202, {"ok": True}


@bare_api.post("/bench/ninja-least-send/", response={202: Constant})
def bare_ninja_least_send(request):
    """A second reference point: what any send must do at the least, done as
    cheaply as possible: find the instance by its token digest, one committed
    UPDATE, one cache add (the dispatch signal)."""
    Instance.objects.filter(token_digest=request.headers.get("X-Digest", "")).first()
    Heartbeat.objects.filter(name="bench").update(beat_at=timezone.now())
    cache.add("bench:dispatch", 1, timeout=10)
    return 202, {"ok": True}


urlpatterns = [path("bench/bare/", bare), path("", bare_api.urls), *real_urlpatterns]
