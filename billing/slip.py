"""The boleto on paper: every field of the recibo do pagador and of the
ficha de compensação (FEBRABAN layout), worked out once so the page and the
PDF print the same thing."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import services
from billing.boleto import Boleto, bank_code_with_digit
from billing.documents import document_format
from billing.models import BillingProfile, Charge, ChargeStatus, Invoice, Plan
from billing.templatetags.billing_tags import basis_points, brl

# The bank's name beside its code on the header line; the simulated
# provider's 999 is no bank's code.
BANK_NAMES = {
    "001": "Banco do Brasil",
    "033": "Santander",
    "104": "Caixa",
    "237": "Bradesco",
    "341": "Itaú",
    "748": "Sicredi",
    "756": "Sicoob",
    "999": "Banco Simulado",
}
# Invoice lines written out in the demonstrativo; the rest are counted.
DEMONSTRATIVE_LINES = 5


@dataclass(frozen=True)
class BoletoSlip:
    bank_name: str
    bank_code: str  # with its check digit: "001-9"
    linha_digitavel: str  # formatted in its five fields
    barcode: str  # the 44 digits drawn in Interleaved 2 of 5
    payment_place: str
    due_date: date
    beneficiary_name: str
    beneficiary_document: str  # "CNPJ 12.345.678/0001-95"
    beneficiary_address: str
    agency_code: str
    document_date: date
    document_number: str
    document_kind: str  # espécie doc: DS or DM
    acceptance: str  # aceite: N
    processing_date: date
    wallet: str
    currency: str
    nosso_numero: str
    amount_cents: int
    instructions: list[str]
    payer_name: str
    payer_document: str
    payer_address: str
    guarantor: str
    demonstrative: list[str]
    pix_payload: str
    cancelled: bool


def _document(digits: str) -> str:
    if not digits:
        return ""
    return ("CPF " if len(digits) == 11 else "CNPJ ") + document_format(digits)


def _percent(points: int) -> str:
    return f"{basis_points(points)}%"


def boleto_instructions(charge: Charge, plan: Plan) -> list[str]:
    """What the beneficiário tells the bank: the fine and the interest after
    the due date (the plan's rates, quoted in reais for this amount), what a
    2ª via already includes, and that a cancelled boleto must not be paid."""
    lines = []
    if charge.status == ChargeStatus.CANCELLED:
        lines.append(_("BOLETO CANCELADO: não receber. Pague a via mais recente."))
    fine, interest_a_day = services.late_charges_on(charge.amount_cents, 1, plan)
    lines.append(
        _(
            "Após o vencimento, cobrar multa de %(fine_rate)s (%(fine)s) e juros "
            "de %(interest_rate)s ao mês pro rata die (%(interest)s por dia de "
            "atraso)."
        )
        % {
            "fine_rate": _percent(plan.fine_basis_points),
            "fine": brl(fine),
            "interest_rate": _percent(plan.monthly_interest_basis_points),
            "interest": brl(interest_a_day),
        }
    )
    if charge.is_reissue:
        lines.append(
            _(
                "2ª via: o valor já inclui multa de %(fine)s e juros de "
                "%(interest)s da fatura vencida em %(due)s."
            )
            % {
                "fine": brl(charge.fine_cents),
                "interest": brl(charge.interest_cents),
                "due": f"{charge.invoice.due_date:%d/%m/%Y}",
            }
        )
    lines.append(_("Não receber valor diferente do documento antes do vencimento."))
    lines.append(_("Pague também por PIX: leia o QR Code do recibo do pagador."))
    return lines


def boleto_demonstrative(invoice: Invoice) -> list[str]:
    """The recibo do pagador's summary of the invoice: its number and month,
    the first lines, how many more, and the total."""
    lines = [
        _("Fatura %(number)s – uso de %(month)s (cobrança pós-paga)")
        % {"number": invoice.number, "month": f"{invoice.period:%m/%Y}"}
    ]
    invoice_lines = list(invoice.lines.all())
    for line in invoice_lines[:DEMONSTRATIVE_LINES]:
        lines.append(
            _("%(name)s: %(days)s de %(days_in_month)s dias de %(price)s = %(amount)s")
            % {
                "name": line.instance_name,
                "days": line.days,
                "days_in_month": line.days_in_month,
                "price": brl(line.unit_price_cents),
                "amount": brl(line.amount_cents),
            }
        )
    more = len(invoice_lines) - DEMONSTRATIVE_LINES
    if more > 0:
        lines.append(
            ngettext(
                "… e mais %(count)d instância (todas na fatura do painel e no PDF).",
                "… e mais %(count)d instâncias (todas na fatura do painel e no PDF).",
                more,
            )
            % {"count": more}
        )
    if invoice.balance_applied_cents > 0:
        lines.append(
            _("Valor de meses anteriores: %(amount)s")
            % {"amount": brl(invoice.balance_applied_cents)}
        )
    elif invoice.balance_applied_cents < 0:
        lines.append(
            _("Crédito de pagamento anterior: − %(amount)s")
            % {"amount": brl(-invoice.balance_applied_cents)}
        )
    lines.append(_("Total da fatura: %(total)s") % {"total": brl(invoice.total_cents)})
    return lines


def boleto_slip(*, invoice: Invoice, charge: Charge, plan: Plan) -> BoletoSlip:
    """Every field of the boleto of `charge`. The payer is who the invoice
    was issued to (the billing profile as it was then), or the billing
    profile now for an invoice issued before there was one."""
    payer_name = invoice.bill_to_name
    payer_document = invoice.bill_to_document
    payer_address = invoice.bill_to_address
    if not payer_name:
        profile = BillingProfile.objects.filter(account_id=invoice.account_id).first()
        if profile is not None:
            payer_name = profile.name
            payer_document = profile.document
            payer_address = profile.address
    bank = charge.barcode[:3]
    return BoletoSlip(
        bank_name=BANK_NAMES.get(bank, _("Banco %(code)s") % {"code": bank}),
        bank_code=bank_code_with_digit(bank),
        linha_digitavel=Boleto(
            charge.barcode, charge.linha_digitavel
        ).linha_digitavel_formatted,
        barcode=charge.barcode,
        payment_place=_("Pagável em qualquer banco, mesmo após o vencimento"),
        due_date=charge.due_date,
        beneficiary_name=settings.BILLING_BENEFICIARY_NAME,
        beneficiary_document=_document(settings.BILLING_BENEFICIARY_CNPJ),
        beneficiary_address=settings.BILLING_BENEFICIARY_ADDRESS,
        agency_code=settings.BILLING_BENEFICIARY_AGENCY_CODE,
        document_date=timezone.localdate(invoice.issued_at),
        document_number=invoice.number,
        document_kind=settings.BILLING_BOLETO_DOCUMENT_KIND,
        acceptance="N",
        processing_date=timezone.localdate(charge.created_at),
        wallet=settings.BILLING_BOLETO_WALLET,
        currency="R$",
        nosso_numero=charge.nosso_numero,
        amount_cents=charge.amount_cents,
        instructions=boleto_instructions(charge, plan),
        payer_name=payer_name,
        payer_document=_document(payer_document),
        payer_address=payer_address,
        guarantor=settings.BILLING_BOLETO_GUARANTOR,
        demonstrative=boleto_demonstrative(invoice),
        pix_payload=charge.pix_payload,
        cancelled=charge.status == ChargeStatus.CANCELLED,
    )


def boleto_slip_for(invoice: Invoice, charge: Charge | None) -> BoletoSlip | None:
    """The slip of the charge shown for the invoice, with the plan's rates."""
    if charge is None or not charge.barcode:
        return None
    return boleto_slip(invoice=invoice, charge=charge, plan=services.plan_current())
