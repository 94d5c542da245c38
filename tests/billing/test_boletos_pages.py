"""The "Boletos" page, the boleto (screen and PDF), the 2ª via, "Simular
pagamento" and the payment notifications endpoint."""

import json
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import (
    Charge,
    ChargeStatus,
    InvoiceStatus,
    Payment,
)
from billing.providers.base import ProviderError, ProviderUnavailable

pytestmark = pytest.mark.django_db
TODAY = timezone.make_aware(datetime(2026, 11, 20, 10))


@time_machine.travel(TODAY, tick=False)
def test_the_boletos_page_lists_open_invoices_preview_and_history(
    owner_client, invoice
):
    body = owner_client.get(reverse("billing:invoices")).content.decode()
    charge = invoice.charges.get()
    assert "Uso de 10/2026" in body
    assert "R$ 99,00" in body
    assert "Vencido" in body  # due 10/11
    assert charge.linha_digitavel in body
    assert charge.pix_payload in body
    assert "Copiar linha digitável" in body and "Copiar código PIX" in body
    assert reverse("billing:boleto", args=[invoice.pk]) in body
    assert reverse("billing:reissue", args=[invoice.pk]) in body
    # November so far: 20 of 30 days of the still-subscribed instance.
    assert "Próxima fatura (prévia de 11/2026)" in body
    assert "20 de 30" in body and "R$ 66,00" in body
    assert "Nenhum pagamento ainda." in body


def test_an_empty_boletos_page_explains_itself(owner_client):
    body = owner_client.get(reverse("billing:invoices")).content.decode()
    assert "Nenhuma fatura em aberto" in body
    assert "nada a cobrar até agora" in body


@time_machine.travel(TODAY, tick=False)
def test_the_boleto_shows_lines_linha_barcode_and_pix(owner_client, invoice):
    response = owner_client.get(reverse("billing:boleto", args=[invoice.pk]))
    body = response.content.decode()
    charge = invoice.charges.get()
    assert response.status_code == 200
    assert "31 de 31" in body
    assert charge.linha_digitavel[:5] in body
    assert body.count("<rect") > 100  # the Interleaved 2 of 5 bars
    assert 'class="qr"' in body
    assert "@media print" not in body  # print CSS lives in the stylesheet


def test_the_pdf_downloads(owner_client, invoice):
    response = owner_client.get(reverse("billing:boleto_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "fatura-2026-10.pdf" in response["Content-Disposition"]


@time_machine.travel(TODAY, tick=False)
def test_the_2a_via_is_confirmed_then_issued(owner_client, invoice):
    url = reverse("billing:reissue", args=[invoice.pk])
    body = owner_client.get(url).content.decode()
    assert "R$ 1,98" in body  # 2 % fine
    assert "23/11/2026" in body
    assert Charge.objects.count() == 1  # a GET changes nothing
    response = owner_client.post(url)
    assert response.url == reverse("billing:boleto", args=[invoice.pk])
    assert (
        Charge.objects.filter(status=ChargeStatus.ACTIVE, is_reissue=True).count() == 1
    )


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("refusal", "shown"),
    [
        (
            ProviderError(
                "Asaas recusou (400): Customer has invalid postal code "
                "(invalid_postalCode)",
                status=400,
            ),
            "O serviço de pagamentos recusou o pedido.",
        ),
        (
            ProviderUnavailable("Asaas indisponível: [Errno 111] Connection refused"),
            "O serviço de pagamentos está fora do ar agora.",
        ),
    ],
)
def test_a_provider_refusal_reaches_the_customer_in_portuguese_only(
    owner_client, invoice, monkeypatch, caplog, refusal, shown
):
    def refuse(**kwargs):
        raise refusal

    monkeypatch.setattr(services, "invoice_reissue", refuse)
    response = owner_client.post(
        reverse("billing:reissue", args=[invoice.pk]), follow=True
    )
    body = response.content.decode()
    assert shown in body
    assert "Asaas" not in body and "Errno" not in body
    assert str(refusal) in caplog.text  # the provider's words stay for staff


def test_a_2a_via_before_the_due_date_is_refused(owner_client, invoice):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 5)), tick=False):
        response = owner_client.post(
            reverse("billing:reissue", args=[invoice.pk]), follow=True
        )
    assert "Só uma fatura em aberto e vencida tem 2ª via." in response.content.decode()
    assert Charge.objects.count() == 1


def test_simulating_a_payment_needs_debug(owner_client, invoice, settings):
    url = reverse("billing:simulate_payment", args=[invoice.pk])
    settings.DEBUG = False
    assert owner_client.post(url).status_code == 404
    settings.DEBUG = True
    assert (
        "Simular pagamento"
        in owner_client.get(reverse("billing:invoices")).content.decode()
    )
    owner_client.post(url)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    body = owner_client.get(reverse("billing:invoices")).content.decode()
    assert "Histórico de pagamentos" in body and "PIX" in body
    assert "Nenhuma fatura em aberto" in body


@pytest.mark.parametrize(
    "name", ["billing:boleto", "billing:boleto_pdf", "billing:reissue"]
)
def test_another_customers_invoice_is_not_found(client, other, invoice, name):
    client.force_login(other)
    assert client.get(reverse(name, args=[invoice.pk])).status_code == 404
    assert client.post(reverse("billing:reissue", args=[invoice.pk])).status_code == 404
    assert (
        client.post(reverse("billing:simulate_payment", args=[invoice.pk])).status_code
        == 404
    )
    assert (
        "Uso de 10/2026" not in client.get(reverse("billing:invoices")).content.decode()
    )


@pytest.mark.parametrize(
    "name",
    [
        "billing:boleto",
        "billing:boleto_pdf",
        "billing:reissue",
        "billing:simulate_payment",
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, invoice, name):
    response = client.post(reverse(name, args=[invoice.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert client.get(reverse("billing:invoices")).status_code == 302


# The provider's notifications (the simulated provider's own format).


TOKEN = "segredo-de-teste"  # noqa: S105


def _post(client, body, token=TOKEN):
    return client.post(
        reverse("billing:payment_webhook"),
        json.dumps(body),
        content_type="application/json",
        HTTP_X_PLUGMESSAGE_TOKEN=token,
    )


@pytest.fixture
def webhook_token(settings):
    settings.PAYMENT_WEBHOOK_TOKEN = TOKEN


def test_a_notification_records_the_payment_once(client, invoice, webhook_token):
    charge = invoice.charges.get()
    body = {
        "id": "evt-42",
        "charge": charge.provider_ref,
        "paid_on": "2026-11-08",
        "amount_cents": 9900,
        "method": "boleto",
    }
    assert _post(client, body).status_code == 200
    assert _post(client, body).status_code == 200
    payment = Payment.objects.get()
    assert (payment.method, payment.paid_on) == ("boleto", date(2026, 11, 8))


def test_a_notification_with_a_wrong_token_or_unknown_charge_records_nothing(
    client, invoice, webhook_token, settings
):
    body = {"id": "evt-1", "charge": invoice.charges.get().provider_ref,
            "paid_on": "2026-11-08", "amount_cents": 9900}  # fmt: skip
    assert _post(client, body, token="errado").status_code == 401
    assert _post(client, {**body, "charge": "sim_desconhecida"}).status_code == 404
    assert _post(client, {"id": "x"}).status_code == 401  # malformed
    settings.PAYMENT_WEBHOOK_TOKEN = ""
    assert _post(client, body, token="").status_code == 401  # no token configured
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"HTTP_X_PLUGMESSAGE_TOKEN": "tökén"}, None),
        (
            {},
            {
                "id": "evt-2",
                "charge": None,
                "paid_on": "2026-11-08",
                "amount_cents": -5,
            },
        ),
        (
            {},
            {
                "id": "evt-3",
                "charge": "x",
                "paid_on": "2099-01-01",
                "amount_cents": 9900,
            },
        ),
        ({}, ["não", "é", "um", "objeto"]),
    ],
    ids=["non-ascii token", "negative amount", "paid in the future", "not an object"],
)
def test_malformed_notifications_are_refused_not_crashes(
    client, invoice, webhook_token, headers, body
):
    charge = invoice.charges.get()
    payload = body or {
        "id": "evt-1",
        "charge": charge.provider_ref,
        "paid_on": "2026-11-08",
        "amount_cents": 9900,
    }
    if isinstance(payload, dict) and payload.get("charge") is None:
        payload["charge"] = charge.provider_ref
    response = client.post(
        reverse("billing:payment_webhook"),
        json.dumps(payload),
        content_type="application/json",
        **{"HTTP_X_PLUGMESSAGE_TOKEN": TOKEN, **headers},
    )
    assert response.status_code == 401
    assert not Payment.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_a_partial_payment_is_shown_on_the_open_invoice(owner_client, invoice):
    from billing.providers.base import PaymentNotice

    charge = invoice.charges.get()
    services.payment_record(
        notice=PaymentNotice(
            notice_ref="evt-parcial",
            charge_ref=charge.provider_ref,
            paid_on=date(2026, 11, 8),
            amount_cents=5000,
            method="pix",
        ),
        provider_name=charge.provider,
    )
    body = owner_client.get(reverse("billing:invoices")).content.decode()
    assert "Recebido até agora: R$ 50,00" in body
    assert "Uso de 10/2026" in body  # still open
