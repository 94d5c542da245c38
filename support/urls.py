from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("", views.support_home, name="home"),
    path("chamados/novo/", views.ticket_create, name="ticket_create"),
    path("chamados/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path(
        "chamados/<int:ticket_id>/responder/", views.ticket_reply, name="ticket_reply"
    ),
    path("chamados/<int:ticket_id>/encerrar/", views.ticket_close, name="ticket_close"),
    path(
        "chamados/<int:ticket_id>/anexos/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("customer-success/", views.customer_success, name="customer_success"),
    path("ajuda/", views.help_centre, name="help"),
    path("boas-praticas/", views.best_practices, name="best_practices"),
]
