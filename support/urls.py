from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("", views.support_home, name="home"),
    path("boas-praticas/", views.best_practices, name="best_practices"),
]
