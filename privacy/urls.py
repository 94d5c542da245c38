from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path(
        "<uuid:instance_id>/apagar-contato/", views.contact_erase, name="contact_erase"
    ),
    path(
        "<uuid:instance_id>/apagar-contato/<int:erasure_id>/",
        views.erasure_detail,
        name="erasure",
    ),
]
