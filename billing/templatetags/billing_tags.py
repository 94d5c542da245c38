from django import template

from billing.documents import document_format

register = template.Library()


@register.filter
def brl(cents: int | None) -> str:
    """Centavos as Brazilian money: 123456 → "R$ 1.234,56"."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    reais, centavos = divmod(abs(int(cents)), 100)
    return f"{sign}R$ {reais:,}".replace(",", ".") + f",{centavos:02d}"


@register.filter
def brl_abs(cents: int | None) -> str:
    """The amount without its sign (a credit shown after a minus sign)."""
    return brl(abs(int(cents))) if cents is not None else ""


@register.filter
def basis_points(value: int) -> str:
    """200 → "2", 150 → "1,5" (percent)."""
    whole, rest = divmod(int(value), 100)
    return f"{whole}" if not rest else f"{whole},{rest:02d}".rstrip("0")


@register.filter
def document(digits: str) -> str:
    return document_format(digits or "")
