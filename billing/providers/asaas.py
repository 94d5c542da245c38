"""Asaas API v3 over httpx: customers, BOLETO payments (which Asaas also lets
the payer settle by PIX), their linha digitável and PIX copia-e-cola,
cancellation, and the payment notifications Asaas posts to us."""

import contextlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings

from billing.providers.base import (
    ChargeRequest,
    IssuedCharge,
    NotificationRefused,
    Payer,
    PaymentNotice,
    PaymentProvider,
    ProviderError,
    ProviderUnavailable,
    notice_check,
    notification_token_check,
)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "PlugMessage/1.0 (+https://plugmessage.com.br)"
# A boleto is announced CONFIRMED (paid) and later RECEIVED (money available);
# PIX only RECEIVED. Either means the customer paid.
PAID_EVENTS = {"PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"}


def _cents(value) -> int:
    try:
        return int((Decimal(str(value)) * 100).quantize(Decimal(1)))
    except (InvalidOperation, TypeError) as error:
        raise NotificationRefused("valor inválido") from error


class AsaasProvider(PaymentProvider):
    name = "asaas"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = (base_url or settings.ASAAS_API_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else settings.ASAAS_API_KEY
        self.transport = transport

    def _request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        params: dict | None = None,
    ) -> dict:
        headers = {"access_token": self.api_key, "User-Agent": USER_AGENT}
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=TIMEOUT, transport=self.transport
            ) as client:
                # GET requests must go without a body (Asaas answers 403).
                response = client.request(
                    method, path, headers=headers, params=params, json=body or None
                )
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"Asaas indisponível: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(f"Asaas respondeu {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise ProviderUnavailable("Asaas respondeu algo que não é JSON") from error
        if response.status_code >= 400:
            errors = data.get("errors") if isinstance(data, dict) else None
            detail = "; ".join(
                f"{e.get('description', '')} ({e.get('code', '')})"
                for e in errors or []
                if isinstance(e, dict)
            )
            raise ProviderError(
                f"Asaas recusou ({response.status_code}): {detail or 'sem detalhes'}",
                status=response.status_code,
            )
        return data

    def customer_ensure(self, payer: Payer, *, known_ref: str = "") -> str:
        """Asaas accepts duplicate customers, so look the document up first."""
        if known_ref:
            return known_ref
        found = self._request("GET", "/customers", params={"cpfCnpj": payer.document})
        for customer in found.get("data") or []:
            if not customer.get("deleted"):
                return customer["id"]
        created = self._request(
            "POST",
            "/customers",
            {
                "name": payer.name,
                "cpfCnpj": payer.document,
                "email": payer.email,
                "postalCode": payer.postal_code,
                "address": payer.street,
                "addressNumber": payer.number,
                "complement": payer.complement,
                "province": payer.district,
                "externalReference": payer.reference,
                "notificationDisabled": True,  # PlugMessage sends its own emails
            },
        )
        return created["id"]

    def charge_create(self, request: ChargeRequest) -> IssuedCharge:
        payment = self._request(
            "POST",
            "/payments",
            {
                "customer": request.customer_ref,
                "billingType": "BOLETO",
                "value": float(Decimal(request.amount_cents) / 100),
                "dueDate": request.due_date.isoformat(),
                "description": request.description,
                "externalReference": request.reference,
                "fine": {
                    "value": request.fine_basis_points / 100,
                    "type": "PERCENTAGE",
                },
                "interest": {"value": request.monthly_interest_basis_points / 100},
            },
        )
        try:
            return self._issued(payment)
        except ProviderError:
            # Do not leave a payment behind that we never recorded.
            with contextlib.suppress(ProviderError):
                self.charge_cancel(payment["id"])
            raise

    def charge_find(self, reference: str) -> IssuedCharge | None:
        """Asaas keeps our reference as the payment's externalReference; a
        deleted payment is not listed unless asked for, and is skipped."""
        found = self._request(
            "GET", "/payments", params={"externalReference": reference}
        )
        for payment in found.get("data") or []:
            if not payment.get("deleted") and payment.get("externalReference") == (
                reference
            ):
                return self._issued(payment)
        return None

    def _issued(self, payment: dict) -> IssuedCharge:
        payment_id = payment["id"]
        line = self._request("GET", f"/payments/{payment_id}/identificationField")
        qr = self._request("GET", f"/payments/{payment_id}/pixQrCode")
        return IssuedCharge(
            provider_ref=payment_id,
            barcode=line["barCode"],
            linha_digitavel=line["identificationField"],
            nosso_numero=line.get("nossoNumero") or payment.get("nossoNumero") or "",
            pix_payload=qr["payload"],
        )

    def charge_cancel(self, provider_ref: str) -> None:
        try:
            self._request("DELETE", f"/payments/{provider_ref}")
        except ProviderError as error:
            if error.status == 404:
                return  # already gone
            raise

    def notification_parse(
        self, headers: Mapping[str, str], body: bytes
    ) -> PaymentNotice | None:
        notification_token_check(
            headers.get("asaas-access-token", ""), settings.PAYMENT_WEBHOOK_TOKEN
        )
        try:
            data = json.loads(body)
            event = data["event"]
            payment = data["payment"]
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationRefused("corpo inválido") from error
        if not isinstance(payment, dict):
            raise NotificationRefused("corpo inválido")
        if event not in PAID_EVENTS:
            return None
        try:
            paid_on = date.fromisoformat(
                payment.get("clientPaymentDate")
                or payment.get("paymentDate")
                or payment.get("confirmedDate")
            )
            amount = _cents(payment["value"])
            # Paid late, Asaas adds its fine and interest to the value and
            # keeps the charged one in originalValue.
            original = payment.get("originalValue")
            fees = max(0, amount - _cents(original)) if original is not None else 0
            notice = PaymentNotice(
                # One payment per Asaas payment, whichever events announce it.
                notice_ref=str(payment["id"]),
                charge_ref=str(payment["id"]),
                paid_on=paid_on,
                amount_cents=amount,
                method="pix" if payment.get("billingType") == "PIX" else "boleto",
                fees_cents=fees,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationRefused("pagamento inválido") from error
        return notice_check(notice)
