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
    path("boletos/<uuid:invoice_id>/", views.boleto, name="boleto"),
    path("boletos/<uuid:invoice_id>/pdf/", views.boleto_pdf, name="boleto_pdf"),
    path(
        "boletos/<uuid:invoice_id>/segunda-via/",
        views.invoice_reissue,
        name="reissue",
    ),
    path(
        "boletos/<uuid:invoice_id>/simular-pagamento/",
        views.payment_simulate,
        name="simulate_payment",
    ),
    path("pagamentos/notificacoes/", views.payment_webhook, name="payment_webhook"),
    path("minha-conta/cobranca/", views.billing_profile_edit, name="profile"),
]
