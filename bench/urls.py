"""The real URLs plus the benchmark's baseline: a bare view returning a
constant, through the same middleware. Used only by bench/ (ROOT_URLCONF)."""

from django.http import HttpResponse
from django.urls import path

from plugmessage.urls import urlpatterns as real_urlpatterns


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), *real_urlpatterns]
