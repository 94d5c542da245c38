"""The Asaas v3 adapter, against responses shaped exactly like its documented
API (tests/billing/fixtures/asaas/NOTES.md says where each comes from),
served by respx: nothing leaves the machine."""

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
import respx
from django.urls import reverse

from billing import services
from billing.models import BillingProfile, Charge, Invoice, Payment
from billing.providers import _provider
from billing.providers.asaas import AsaasProvider
from billing.providers.base import (
    ChargeRequest,
    NotificationRefused,
    ProviderError,
    ProviderUnavailable,
)
from tests.billing.conftest import PAYER

FIXTURES = Path(__file__).parent / "fixtures" / "asaas"
API = "https://api-sandbox.asaas.com/v3"
KEY = "$aact_hmlg_chave-de-teste"  # noqa: S105
TOKEN = "token-do-webhook-com-mais-de-32-caracteres"  # noqa: S105


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


REQUEST = ChargeRequest(
    customer_ref="cus_000005401844",
    reference="PM202610ABCDEF12345601",
    amount_cents=12774,
    due_date=date(2026, 11, 10),
    description="PlugMessage – uso de 10/2026",
    fine_basis_points=200,
    monthly_interest_basis_points=100,
)


@pytest.fixture
def asaas(settings):
    settings.PAYMENT_WEBHOOK_TOKEN = TOKEN
    with respx.mock(base_url=API, assert_all_called=False) as mock:
        yield mock


def provider() -> AsaasProvider:
    return AsaasProvider(base_url=API, api_key=KEY)


def test_it_finds_or_creates_the_customer_with_the_key_in_access_token(asaas):
    lookup = asaas.get("/customers", params={"cpfCnpj": "11222333000181"}).respond(
        json=fixture("customers_empty_list")
    )
    create = asaas.post("/customers").respond(json=fixture("customer_created"))

    assert provider().customer_ensure(PAYER) == "cus_000005401844"

    sent = create.calls.last.request
    assert sent.headers["access_token"] == KEY
    assert "authorization" not in sent.headers
    assert sent.headers["user-agent"].startswith("PlugMessage/")
    body = json.loads(sent.content)
    assert (body["cpfCnpj"], body["postalCode"], body["addressNumber"]) == (
        "11222333000181",
        "01310100",
        "1000",
    )
    assert lookup.calls.last.request.content == b""  # a GET carries no body


def test_an_existing_customer_is_reused(asaas):
    asaas.get("/customers").respond(
        json={**fixture("customers_empty_list"), "data": [fixture("customer_created")]}
    )
    create = asaas.post("/customers")
    assert provider().customer_ensure(PAYER) == "cus_000005401844"
    assert not create.called
    assert provider().customer_ensure(PAYER, known_ref="cus_x") == "cus_x"


def test_a_charge_is_a_boleto_payment_with_its_line_and_pix(asaas):
    create = asaas.post("/payments").respond(json=fixture("payment_created"))
    asaas.get("/payments/pay_080225913252/identificationField").respond(
        json=fixture("identification_field")
    )
    asaas.get("/payments/pay_080225913252/pixQrCode").respond(
        json=fixture("pix_qr_code")
    )

    issued = provider().charge_create(REQUEST)

    body = json.loads(create.calls.last.request.content)
    assert body["billingType"] == "BOLETO"
    assert body["value"] == 127.74
    assert body["dueDate"] == "2026-11-10"
    assert body["externalReference"] == REQUEST.reference
    assert body["fine"] == {"value": 2.0, "type": "PERCENTAGE"}
    assert body["interest"] == {"value": 1.0}
    assert issued.provider_ref == "pay_080225913252"
    assert issued.barcode == "00191878900000050000000002759288002193297817"
    assert issued.linha_digitavel == "00190000090275928800021932978170187890000005000"
    assert issued.nosso_numero == "6543"
    assert issued.pix_payload.startswith("000201") and issued.pix_payload.endswith(
        "5E7A"
    )


def test_a_refused_charge_says_why(asaas):
    asaas.post("/payments").respond(400, json=fixture("error_400"))
    with pytest.raises(ProviderError) as error:
        provider().charge_create(REQUEST)
    assert error.value.status == 400
    assert "The due date cannot be earlier than today (invalid_dueDate)" in str(
        error.value
    )


def test_a_wrong_api_key_is_a_refusal_and_an_outage_is_unavailable(asaas):
    asaas.post("/payments").respond(401, json=fixture("error_401"))
    with pytest.raises(ProviderError, match="A chave de API fornecida é inválida"):
        provider().charge_create(REQUEST)
    asaas.post("/payments").respond(503, text="Service Unavailable")
    with pytest.raises(ProviderUnavailable):
        provider().charge_create(REQUEST)
    asaas.post("/payments").mock(side_effect=httpx.ConnectError("recusada"))
    with pytest.raises(ProviderUnavailable):
        provider().charge_create(REQUEST)


def test_a_payment_whose_line_cannot_be_read_is_deleted_again(asaas):
    asaas.post("/payments").respond(json=fixture("payment_created"))
    asaas.get("/payments/pay_080225913252/identificationField").respond(
        404, json={"errors": [{"code": "not_found", "description": "Não encontrado"}]}
    )
    delete = asaas.delete("/payments/pay_080225913252").respond(
        json=fixture("payment_deleted")
    )
    with pytest.raises(ProviderError):
        provider().charge_create(REQUEST)
    assert delete.called


def test_cancelling_deletes_the_payment_and_a_missing_one_is_fine(asaas):
    delete = asaas.delete("/payments/pay_080225913252").respond(
        json=fixture("payment_deleted")
    )
    provider().charge_cancel("pay_080225913252")
    assert delete.called
    asaas.delete("/payments/pay_gone").respond(404, json={"errors": []})
    provider().charge_cancel("pay_gone")


def _webhook(event="PAYMENT_RECEIVED", **payment):
    body = fixture("webhook_payment_received")
    body["event"] = event
    body["payment"].update(payment)
    return json.dumps(body).encode()


def test_a_received_notification_becomes_a_payment_notice(asaas):
    notice = provider().notification_parse(
        {"asaas-access-token": TOKEN}, _webhook(billingType="PIX", value=127.74)
    )
    assert notice.charge_ref == notice.notice_ref == "pay_080225913252"
    assert (notice.amount_cents, notice.method) == (12774, "pix")
    assert notice.paid_on == date(2021, 1, 1)


def test_other_events_are_not_payments_and_bad_notifications_are_refused(asaas):
    assert (
        provider().notification_parse(
            {"asaas-access-token": TOKEN}, _webhook("PAYMENT_OVERDUE")
        )
        is None
    )
    with pytest.raises(NotificationRefused):
        provider().notification_parse({"asaas-access-token": "errado"}, _webhook())
    with pytest.raises(NotificationRefused):
        provider().notification_parse({}, _webhook())
    with pytest.raises(NotificationRefused):
        provider().notification_parse({"asaas-access-token": TOKEN}, b"{")


# End to end through billing, with PAYMENT_PROVIDER=asaas.


@pytest.fixture
def with_asaas(settings, asaas):
    settings.PAYMENT_PROVIDER = "billing.providers.asaas.AsaasProvider"
    settings.ASAAS_API_URL = API
    settings.ASAAS_API_KEY = KEY
    _provider.cache_clear()
    yield asaas
    _provider.cache_clear()


@pytest.mark.django_db
def test_an_invoice_is_charged_and_paid_through_asaas_once(client, owner, with_asaas):
    from tests.billing.test_charges_and_payments import invoice_for

    with_asaas.get("/customers").respond(json=fixture("customers_empty_list"))
    with_asaas.post("/customers").respond(json=fixture("customer_created"))
    with_asaas.post("/payments").respond(json=fixture("payment_created"))
    with_asaas.get("/payments/pay_080225913252/identificationField").respond(
        json=fixture("identification_field")
    )
    with_asaas.get("/payments/pay_080225913252/pixQrCode").respond(
        json=fixture("pix_qr_code")
    )
    invoice = invoice_for(owner)
    charge = services.charge_issue(invoice=invoice)
    assert (charge.provider, charge.provider_ref) == ("asaas", "pay_080225913252")
    profile = BillingProfile.objects.get(account=owner)
    assert profile.provider_customer_ref == "cus_000005401844"

    url = reverse("billing:payment_webhook")
    headers = {"HTTP_ASAAS_ACCESS_TOKEN": TOKEN}
    for event in ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED", "PAYMENT_RECEIVED"):
        response = client.post(
            url,
            _webhook(event, billingType="BOLETO", value=99),
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.method, payment.charge) == (
        9900,
        "boleto",
        charge,
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"

    wrong = client.post(
        url, _webhook(), content_type="application/json", HTTP_ASAAS_ACCESS_TOKEN="x"
    )
    assert wrong.status_code == 401
    unknown = client.post(
        url,
        _webhook(id="pay_nao_emitido"),
        content_type="application/json",
        **headers,
    )
    assert unknown.status_code == 404
    assert Payment.objects.count() == 1
    assert Charge.objects.count() == 1


def test_malformed_asaas_notifications_are_refused(asaas):
    body = fixture("webhook_payment_received")
    for broken in (
        {**body, "payment": "pay_080225913252"},
        {**body, "payment": {**body["payment"], "value": -10}},
        {**body, "payment": {**body["payment"], "value": "dez reais"}},
    ):
        with pytest.raises(NotificationRefused):
            provider().notification_parse(
                {"asaas-access-token": TOKEN}, json.dumps(broken).encode()
            )
    with pytest.raises(NotificationRefused):
        provider().notification_parse({"asaas-access-token": "çãé"}, _webhook())
