"""The built-in payment provider: issues boletos and PIX charges locally,
with a fictitious bank code, so nothing can actually be paid. Payments are
recorded by staff in the admin or, with DEBUG on, by "Simular pagamento"."""

import json
import secrets
from collections.abc import Mapping
from datetime import date

from django.conf import settings

from billing import boleto, pix
from billing.providers.base import (
    ChargeRequest,
    IssuedCharge,
    NotificationRefused,
    Payer,
    PaymentNotice,
    PaymentProvider,
    notice_check,
    notification_token_check,
)

# No bank has this code: a simulated boleto can never be paid for real.
BANK = "999"
AGENCY = "0001"
ACCOUNT = "00012345"
WALLET = "09"


class SimulatedProvider(PaymentProvider):
    name = "simulated"

    def customer_ensure(self, payer: Payer, *, known_ref: str = "") -> str:
        return known_ref or f"sim_cus_{payer.reference}"

    def charge_create(self, request: ChargeRequest) -> IssuedCharge:
        nosso_numero = f"{secrets.randbelow(10**11):011d}"
        built = boleto.boleto_build(
            bank=BANK,
            due=request.due_date,
            amount_cents=request.amount_cents,
            free_field=nosso_numero + AGENCY + ACCOUNT + WALLET,
        )
        payload = pix.pix_payload(
            key=settings.BILLING_PIX_KEY,
            name=settings.BILLING_PIX_NAME,
            city=settings.BILLING_PIX_CITY,
            amount_cents=request.amount_cents,
            txid=request.reference,
        )
        return IssuedCharge(
            provider_ref=f"sim_{nosso_numero}",
            barcode=built.barcode,
            linha_digitavel=built.linha_digitavel,
            nosso_numero=nosso_numero,
            pix_payload=payload,
        )

    def charge_cancel(self, provider_ref: str) -> None:
        return None

    def notification_parse(
        self, headers: Mapping[str, str], body: bytes
    ) -> PaymentNotice | None:
        """The simulator's own notification (what "Simular pagamento" posts):
        JSON with charge, paid_on, amount_cents and method."""
        notification_token_check(
            headers.get("X-PlugMessage-Token", ""), settings.PAYMENT_WEBHOOK_TOKEN
        )
        try:
            data = json.loads(body)
            notice = PaymentNotice(
                notice_ref=str(data["id"]),
                charge_ref=str(data["charge"]),
                paid_on=date.fromisoformat(data["paid_on"]),
                amount_cents=int(data["amount_cents"]),
                method=str(data.get("method", "pix")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise NotificationRefused("corpo inválido") from error
        return notice_check(notice)
