from django.contrib import admin
from django.urls import include, path

from accounts.urls import allauth_patterns
from instances.api import api
from instances.engine_views import engine_events
from instances.urls import media_urlpatterns
from plugmessage import views

urlpatterns = [
    path("", views.home, name="home"),
    path("saude/", views.health, name="health"),
    path("motor/eventos/", engine_events, name="engine_events"),
    path("contas/", include(allauth_patterns)),
    path("minha-conta/", include("accounts.urls")),
    path("instancias/", include("instances.urls")),
    path("midia/", include((media_urlpatterns, "media"))),
    path("instancias/", include("webhooks.urls")),
    path("instancias/", include("privacy.urls")),
    path("", include("billing.urls")),
    path("suporte/", include("support.urls")),
    path("admin/", admin.site.urls),
    path("", api.urls),
]
