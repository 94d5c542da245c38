from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("boletos/", views.invoice_list, name="invoices"),
    path("boletos/assinar/<uuid:instance_id>/", views.subscribe, name="subscribe"),
    path(
        "boletos/cancelar-assinatura/<uuid:instance_id>/",
        views.subscription_cancel,
        name="cancel",
    ),
    path("minha-conta/cobranca/", views.billing_profile_edit, name="profile"),
]
