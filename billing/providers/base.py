"""The payment provider interface: what billing asks of a provider (a
customer, a boleto-and-PIX charge, its cancellation) and what it hears back
(payment notifications). Adapters import nothing from the rest of the project."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from billing import dates


class ProviderError(Exception):
    """The provider refused a request; the message says why in the
    provider's own words (for staff and the logs), `status` is the HTTP
    status when there was one. `customer_message` is what a customer reads:
    a Portuguese sentence, never the provider's text."""

    def __init__(
        self, message: str, *, status: int | None = None, customer_message: str = ""
    ):
        super().__init__(message)
        self.status = status
        self._customer_message = customer_message

    @property
    def customer_message(self) -> str:
        return self._customer_message or _(
            "O serviço de pagamentos recusou o pedido. Tente de novo mais tarde ou "
            "fale com o suporte."
        )


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or failed; try again later."""

    @property
    def customer_message(self) -> str:
        return self._customer_message or _(
            "O serviço de pagamentos está fora do ar agora. Tente de novo em "
            "alguns minutos."
        )


class NotificationRefused(Exception):
    """A payment notification that must not be trusted (wrong token, bad body)."""


@dataclass(frozen=True)
class Payer:
    reference: str  # our id for the account
    name: str
    document: str  # CPF or CNPJ, digits only
    email: str
    postal_code: str
    street: str
    number: str
    complement: str
    district: str
    city: str
    uf: str  # the state, as its two letters


@dataclass(frozen=True)
class ChargeRequest:
    customer_ref: str
    reference: str  # our id for the charge: appears on the boleto and the PIX txid
    amount_cents: int
    due_date: date
    description: str
    fine_basis_points: int
    monthly_interest_basis_points: int


@dataclass(frozen=True)
class IssuedCharge:
    provider_ref: str
    barcode: str
    linha_digitavel: str
    nosso_numero: str
    pix_payload: str


@dataclass(frozen=True)
class PaymentNotice:
    """Money received for a charge, as the provider reports it. `notice_ref`
    is the same however often the provider repeats the notification."""

    notice_ref: str
    charge_ref: str
    paid_on: date
    amount_cents: int
    method: str  # "boleto" or "pix"
    # Of amount_cents, the fine and interest the provider itself added for a
    # late payment (Asaas collects them on top of the charged value).
    fees_cents: int = 0


def notification_token_check(given: str, expected: str) -> None:
    """The token a notification carries against the configured one, in
    constant time; with none configured every notification is refused."""
    if not expected or not secrets.compare_digest(
        given.encode("utf-8", "replace"), expected.encode()
    ):
        raise NotificationRefused("token inválido")


def notice_check(notice: PaymentNotice) -> PaymentNotice:
    """Refuse what no real payment looks like: nothing or less paid, a
    payment dated more than a day ahead, references too long to be ours."""
    if notice.amount_cents <= 0:
        raise NotificationRefused("valor inválido")
    if notice.paid_on > dates.today() + timedelta(days=1):
        raise NotificationRefused("data de pagamento no futuro")
    if not 0 < len(notice.notice_ref) <= 80 or not 0 < len(notice.charge_ref) <= 80:
        raise NotificationRefused("referência inválida")
    return notice


class PaymentProvider:
    name = ""

    def customer_ensure(self, payer: Payer, *, known_ref: str = "") -> str:
        """The provider's id for this payer, created when `known_ref` is empty."""
        raise NotImplementedError

    def charge_create(self, request: ChargeRequest) -> IssuedCharge:
        """A new boleto and PIX charge carrying `request.reference`, which the
        provider keeps and can be asked for (charge_find)."""
        raise NotImplementedError

    def charge_find(self, reference: str) -> IssuedCharge | None:
        """The live (not cancelled) charge created with `reference`, or None:
        after a crash, what tells whether the provider already made it."""
        raise NotImplementedError

    def charge_cancel(self, provider_ref: str) -> None:
        """Cancel a charge so that it can no longer be paid; cancelling one
        already cancelled or unknown is not an error."""
        raise NotImplementedError

    def notification_parse(
        self, headers: Mapping[str, str], body: bytes
    ) -> PaymentNotice | None:
        """A payment notification posted by the provider: the payment it
        reports, or None for events that are not a payment. Raises
        NotificationRefused when it must not be trusted."""
        raise NotImplementedError
