"""FEBRABAN boleto (bloqueto de cobrança): the 44-digit barcode, the 47-digit
linha digitável and the Interleaved 2 of 5 drawing of the barcode.

Written here rather than taken from a library: the Python boleto packages on
PyPI are unmaintained and predate the 2025 reset of the fator de vencimento;
the layout is short and fully specified, and the tests check it against
published pairs and an independent checker."""

from dataclasses import dataclass
from datetime import date, timedelta

FACTOR_BASE = date(1997, 10, 7)
# The factor reached 9999 on 2025-02-21 and started again at 1000 on the 22nd.
FACTOR_RESET = date(2025, 2, 22)
CURRENCY_REAL = "9"


class BoletoError(ValueError):
    pass


def mod10(digits: str) -> str:
    """Check digit of the linha digitável's fields 1–3: weights 2, 1, 2, …
    from the right, the digits of each product summed."""
    total = 0
    for i, digit in enumerate(reversed(digits)):
        product = int(digit) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def mod11(digits: str) -> str:
    """The barcode's general check digit: weights 2 to 9 from the right;
    11 minus the remainder, and 1 when that gives 0, 10 or 11."""
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(digits)))
    digit = 11 - total % 11
    return "1" if digit in (0, 10, 11) else str(digit)


# Banks whose published code shows the remainder-1 case as "X" rather than 0.
_BANK_DIGIT_X = {"748"}  # Sicredi prints 748-X


def bank_check_digit(bank: str) -> str:
    """The digit after the bank code on a boleto's header ("001-9",
    "237-2"): weights 2 to 9 from the right, 11 minus the remainder, and 0
    when that gives 10 or 11 (Caixa's 104-0, Sicoob's 756-0); Sicredi keeps
    "X" for 10."""
    if not (len(bank) == 3 and bank.isdigit()):
        raise BoletoError("o código do banco tem 3 dígitos")
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(bank)))
    digit = 11 - total % 11
    if digit == 10 and bank in _BANK_DIGIT_X:
        return "X"
    return "0" if digit in (10, 11) else str(digit)


def bank_code_with_digit(bank: str) -> str:
    return f"{bank}-{bank_check_digit(bank)}"


def due_factor(due: date) -> int:
    """Fator de vencimento: days since 1997-10-07, restarting at 1000 on
    2025-02-22 (and every 9000 days after that)."""
    if due < FACTOR_BASE:
        raise BoletoError("vencimento anterior a 07/10/1997")
    if due < FACTOR_RESET:
        return (due - FACTOR_BASE).days
    return 1000 + (due - FACTOR_RESET).days % 9000


def due_from_factor(factor: int, *, near: date) -> date:
    """The due date a factor stands for: of the dates that share it (one per
    9000-day cycle), the one nearest to `near`."""
    candidates = [FACTOR_BASE + timedelta(days=factor)] if factor >= 1000 else []
    candidates += [
        FACTOR_RESET + timedelta(days=factor - 1000 + 9000 * cycle)
        for cycle in range(0, 4)
    ]
    return min(candidates, key=lambda d: abs((d - near).days))


@dataclass(frozen=True)
class Boleto:
    barcode: str  # 44 digits
    linha_digitavel: str  # 47 digits

    @property
    def linha_digitavel_formatted(self) -> str:
        d = self.linha_digitavel
        return (
            f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} "
            f"{d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"
        )


def boleto_build(*, bank: str, due: date, amount_cents: int, free_field: str) -> Boleto:
    """The barcode and linha digitável of a boleto in reais. `free_field` is
    the 25-digit campo livre, laid out by each bank (agency, account, nosso
    número)."""
    if not (len(bank) == 3 and bank.isdigit()):
        raise BoletoError("o código do banco tem 3 dígitos")
    if not (len(free_field) == 25 and free_field.isdigit()):
        raise BoletoError("o campo livre tem 25 dígitos")
    if not 0 <= amount_cents <= 99_999_999_99:
        raise BoletoError("valor fora do que o boleto comporta")
    tail = f"{due_factor(due):04d}{amount_cents:010d}{free_field}"
    barcode = f"{bank}{CURRENCY_REAL}{mod11(bank + CURRENCY_REAL + tail)}{tail}"
    return Boleto(barcode=barcode, linha_digitavel=linha_from_barcode(barcode))


def linha_from_barcode(barcode: str) -> str:
    field1 = barcode[0:4] + barcode[19:24]
    field2 = barcode[24:34]
    field3 = barcode[34:44]
    return (
        field1
        + mod10(field1)
        + field2
        + mod10(field2)
        + field3
        + mod10(field3)
        + barcode[4]
        + barcode[5:19]
    )


def barcode_from_linha(linha: str) -> str:
    digits = "".join(c for c in linha if c.isdigit())
    if len(digits) != 47:
        raise BoletoError("a linha digitável tem 47 dígitos")
    return (
        digits[0:4]
        + digits[32]
        + digits[33:47]
        + digits[4:9]
        + digits[10:20]
        + digits[21:31]
    )


# Interleaved 2 of 5: each digit is five elements, two of them wide; digits go
# in pairs, the first drawn in the bars and the second in the spaces between.
_I25 = {
    "0": "nnwwn",
    "1": "wnnnw",
    "2": "nwnnw",
    "3": "wwnnn",
    "4": "nnwnw",
    "5": "wnwnn",
    "6": "nwwnn",
    "7": "nnnww",
    "8": "wnnwn",
    "9": "nwnwn",
}
WIDE = 3  # FEBRABAN: a wide element is three narrow ones


def i25_modules(digits: str) -> list[tuple[bool, int]]:
    """(is_bar, width in narrow modules) from the start pattern to the stop."""
    if len(digits) % 2 or not digits.isdigit():
        raise BoletoError("Interleaved 2 of 5 codifica um número par de dígitos")
    width = {"n": 1, "w": WIDE}
    elements = [(True, 1), (False, 1), (True, 1), (False, 1)]  # start: nnnn
    for i in range(0, len(digits), 2):
        bars, spaces = _I25[digits[i]], _I25[digits[i + 1]]
        for bar, space in zip(bars, spaces, strict=True):
            elements += [(True, width[bar]), (False, width[space])]
    elements += [(True, WIDE), (False, 1), (True, 1)]  # stop: wnn
    return elements


# FEBRABAN's nominal size of a boleto's barcode, in millimetres.
BARCODE_WIDTH_MM = 103
BARCODE_HEIGHT_MM = 13


def i25_svg(digits: str, *, module: float = 1.0, height: float | None = None) -> str:
    """The barcode as an SVG drawing (black bars on white), `module` user
    units per narrow element; by default as high, for its width, as
    FEBRABAN's 103 × 13 mm, so a box of that size shows it unstretched."""
    if height is None:
        total = sum(width for _, width in i25_modules(digits)) * module
        height = round(total * BARCODE_HEIGHT_MM / BARCODE_WIDTH_MM, 3)
    x = 0.0
    rects = []
    for is_bar, width in i25_modules(digits):
        if is_bar:
            rects.append(
                f'<rect x="{x:g}" y="0" width="{width * module:g}" height="{height:g}"/>'
            )
        x += width * module
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {x:g} {height:g}" '
        f'width="{x:g}" height="{height:g}" role="img" shape-rendering="crispEdges">'
        f'<rect width="{x:g}" height="{height:g}" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g></svg>'
    )
