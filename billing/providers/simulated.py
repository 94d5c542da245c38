"""The built-in payment provider: issues boletos and PIX charges locally,
with a fictitious bank code, so nothing can actually be paid. Payments are
recorded by staff in the admin or, with DEBUG on, by "Simular pagamento".

Like a real provider it keeps a book of what it issued (its own table, in
the same database): a charge can be found again by the reference it was
created with, and a cancelled one can no longer be paid."""

import json
import secrets
from collections.abc import Mapping
from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import boleto, dates, pix
from billing.models import SimulatedProviderCharge
from billing.providers.base import (
    ChargeRequest,
    IssuedCharge,
    NotificationRefused,
    Payer,
    PaymentNotice,
    PaymentProvider,
    ProviderError,
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
        # Like Asaas, a second request with the same reference makes a second
        # charge: finding the first is the caller's job (charge_find).
        kept = SimulatedProviderCharge.objects.create(
            reference=request.reference,
            provider_ref=f"sim_{nosso_numero}",
            amount_cents=request.amount_cents,
            due_date=request.due_date,
            barcode=built.barcode,
            linha_digitavel=built.linha_digitavel,
            nosso_numero=nosso_numero,
            pix_payload=payload,
        )
        return _issued(kept)

    def charge_find(self, reference: str) -> IssuedCharge | None:
        kept = SimulatedProviderCharge.objects.filter(
            reference=reference, cancelled_at__isnull=True
        ).first()
        return _issued(kept) if kept else None

    def charge_cancel(self, provider_ref: str) -> None:
        SimulatedProviderCharge.objects.filter(
            provider_ref=provider_ref, cancelled_at__isnull=True
        ).update(cancelled_at=timezone.now())

    def payment_simulate(
        self, provider_ref: str, *, amount_cents: int, method: str, notice_ref: str
    ) -> PaymentNotice:
        """What the simulated bank reports when a boleto or PIX charge is
        paid ("Simular pagamento"). A cancelled charge cannot be paid: the
        bank refuses it (ProviderError), as a real one would."""
        if self._cancelled(provider_ref):
            text = _("Este boleto foi cancelado e não pode ser pago.")
            raise ProviderError(text, customer_message=text)
        return PaymentNotice(
            notice_ref=notice_ref,
            charge_ref=provider_ref,
            paid_on=dates.today(),
            amount_cents=amount_cents,
            method=method,
        )

    def _cancelled(self, provider_ref: str) -> bool:
        return SimulatedProviderCharge.objects.filter(
            provider_ref=provider_ref, cancelled_at__isnull=False
        ).exists()

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
        if self._cancelled(notice.charge_ref):
            # No bank takes money for a cancelled boleto.
            raise NotificationRefused("cobrança cancelada")
        return notice_check(notice)


def _issued(kept: SimulatedProviderCharge) -> IssuedCharge:
    return IssuedCharge(
        provider_ref=kept.provider_ref,
        barcode=kept.barcode,
        linha_digitavel=kept.linha_digitavel,
        nosso_numero=kept.nosso_numero,
        pix_payload=kept.pix_payload,
    )
