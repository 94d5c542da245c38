from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("webhooks/documentacao/", views.webhooks_docs, name="docs"),
    path("<uuid:instance_id>/webhooks/", views.webhooks_edit, name="edit"),
    path(
        "<uuid:instance_id>/webhooks/testar/<str:kind>/",
        views.webhook_test,
        name="test",
    ),
    path(
        "<uuid:instance_id>/webhooks/testes/<int:delivery_id>/",
        views.webhook_test_result,
        name="test_result",
    ),
    path(
        "<uuid:instance_id>/webhooks/novo-segredo/",
        views.webhook_secret_rotate,
        name="secret",
    ),
    path(
        "<uuid:instance_id>/webhooks/<int:endpoint_id>/reativar/",
        views.webhook_reactivate,
        name="reactivate",
    ),
    path(
        "<uuid:instance_id>/webhooks/reenviar-falhas/",
        views.webhook_replay,
        name="replay",
    ),
    path(
        "<uuid:instance_id>/webhooks/entregas/", views.delivery_list, name="deliveries"
    ),
    path(
        "<uuid:instance_id>/webhooks/entregas/<int:delivery_id>/",
        views.delivery_detail,
        name="delivery",
    ),
    path(
        "<uuid:instance_id>/webhooks/entregas/<int:delivery_id>/reenviar/",
        views.delivery_resend,
        name="resend",
    ),
]
