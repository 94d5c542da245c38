"""The boleto (FEBRABAN barcode and linha digitável, Interleaved 2 of 5) and
the PIX BR Code, checked against pairs and payloads published by open-source
libraries and against an independent checker written here."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import boleto, pix

# (barcode, linha digitável, due date, amount in centavos), each copied from
# an open-source boleto library's test suite:
PUBLISHED = [
    # kivanio/brcobranca spec/brcobranca/boleto/safra_spec.rb (commit 325e0ea),
    # due after the 2025-02-22 reset of the fator de vencimento (factor 1001)
    (
        "42296100100000180847004000002782472617300112",
        "42297.00408 00002.782472 26173.001129 6 10010000018084",
        date(2025, 2, 23),
        18084,
    ),
    # kivanio/brcobranca spec/brcobranca/boleto/itau_spec.rb (commit 325e0ea)
    (
        "34194254800006757871090001015271248021246000",
        "34191.09008 01015.271248 80212.460002 4 25480000675787",
        date(2029, 5, 20),
        675787,
    ),
    # kivanio/brcobranca spec/brcobranca/boleto/banco_brasil_spec.rb
    (
        "00191684600002246740000001474166000000032817",
        "00190.00009 01474.166004 00000.328179 1 68460000224674",
        date(2016, 7, 5),
        224674,
    ),
    # eduardocereto/pyboleto tests/test_banco_santander.py (commit 3fab222)
    (
        "03395540200002952959070707700000123456790102",
        "03399.07073 07700.000123 34567.901029 5 54020000295295",
        date(2012, 7, 22),
        295295,
    ),
    # eduardocereto/pyboleto tests/test_banco_bradesco.py (commit 3fab222)
    (
        "23794486900008280000278060000212552500392320",
        "23790.27804 60000.212559 25003.923205 4 48690000828000",
        date(2011, 2, 5),
        828000,
    ),
]


@pytest.mark.parametrize(("barcode", "linha", "due", "amount"), PUBLISHED)
def test_it_builds_the_published_barcode_and_linha_digitavel(
    barcode, linha, due, amount
):
    built = boleto.boleto_build(
        bank=barcode[:3], due=due, amount_cents=amount, free_field=barcode[19:]
    )
    assert built.barcode == barcode
    assert built.linha_digitavel_formatted == linha
    assert boleto.barcode_from_linha(linha) == barcode


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        # kivanio/brcobranca spec/brcobranca/calculo_data_spec.rb and
        # caelum/caelum-stella BoletoTest.fatorVencimentoComDataMaior2025
        (date(2000, 7, 3), 1000),
        (date(2008, 2, 1), 3769),
        (date(2010, 11, 17), 4789),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        (date(2025, 2, 24), 1002),
        (date(2025, 12, 1), 1282),
    ],
)
def test_the_due_factor_restarts_at_1000_on_2025_02_22(day, factor):
    assert boleto.due_factor(day) == factor


def test_a_factor_is_read_back_as_the_date_nearest_to_today():
    today = date(2026, 11, 26)
    assert boleto.due_from_factor(1001, near=today) == date(2025, 2, 23)
    assert boleto.due_from_factor(1001, near=date(2000, 7, 1)) == date(2000, 7, 4)


# An independent FEBRABAN check, written from the layout rather than from
# billing.boleto: positions, weights and the special cases spelled out again.


def _febraban_check(barcode: str, linha: str) -> None:
    assert len(barcode) == 44 and barcode.isdigit()
    assert len(linha) == 47 and linha.isdigit()
    assert barcode[3] == "9"  # real

    without_dv = barcode[:4] + barcode[5:]
    weights = [2, 3, 4, 5, 6, 7, 8, 9] * 6
    total = sum(
        int(digit) * weight
        for digit, weight in zip(without_dv[::-1], weights, strict=False)
    )
    expected = 11 - (total % 11)
    if expected > 9:  # 10 and 11 (11 − r is never 0)
        expected = 1
    assert int(barcode[4]) == expected

    def dv10(number: str) -> int:
        digits = []
        for position, char in enumerate(number[::-1]):
            product = int(char) * (1 if position % 2 else 2)
            digits.extend(int(c) for c in str(product))
        return (10 - sum(digits) % 10) % 10

    fields = [linha[0:9], linha[10:20], linha[21:31]]
    checks = [linha[9], linha[20], linha[31]]
    for field, check in zip(fields, checks, strict=True):
        assert dv10(field) == int(check)
    assert linha[32] == barcode[4]
    assert linha[33:37] == barcode[5:9]
    assert linha[37:47] == barcode[9:19]
    assert linha[0:4] == barcode[0:4]
    assert linha[4:9] + linha[10:20] + linha[21:31] == barcode[19:44]


@settings(max_examples=300, deadline=None)
@given(
    bank=st.from_regex(r"\A[0-9]{3}\Z"),
    due=st.dates(min_value=date(2000, 7, 3), max_value=date(2049, 12, 31)),
    amount=st.integers(min_value=0, max_value=99_999_999_99),
    free_field=st.from_regex(r"\A[0-9]{25}\Z"),
)
def test_every_generated_boleto_passes_an_independent_febraban_check(
    bank, due, amount, free_field
):
    built = boleto.boleto_build(
        bank=bank, due=due, amount_cents=amount, free_field=free_field
    )
    _febraban_check(built.barcode, built.linha_digitavel)
    assert int(built.barcode[9:19]) == amount
    factor = int(built.barcode[5:9])
    assert 1000 <= factor <= 9999
    assert boleto.due_from_factor(factor, near=due + timedelta(days=30)) == due


def test_it_refuses_what_a_boleto_cannot_carry():
    with pytest.raises(boleto.BoletoError):
        boleto.boleto_build(
            bank="1", due=date(2026, 12, 10), amount_cents=100, free_field="0" * 25
        )
    with pytest.raises(boleto.BoletoError):
        boleto.boleto_build(
            bank="001", due=date(2026, 12, 10), amount_cents=10**12, free_field="0" * 25
        )
    with pytest.raises(boleto.BoletoError):
        boleto.barcode_from_linha("123")


def test_interleaved_2_of_5_draws_start_pairs_and_stop():
    modules = boleto.i25_modules("12")
    assert modules[:4] == [(True, 1), (False, 1), (True, 1), (False, 1)]
    # "1" in bars is wide-narrow-narrow-narrow-wide, "2" in spaces n-w-n-n-w.
    assert modules[4:14] == [
        (True, 3), (False, 1), (True, 1), (False, 3), (True, 1),
        (False, 1), (True, 1), (False, 1), (True, 3), (False, 3),
    ]  # fmt: skip
    assert modules[-3:] == [(True, 3), (False, 1), (True, 1)]
    # 44 digits: start (4) + 22 pairs of 10 elements + stop (3); each pair is
    # 2 wide bars and 2 wide spaces: 4 × 3 + 6 × 1 = 18 modules.
    barcode = PUBLISHED[0][0]
    modules = boleto.i25_modules(barcode)
    assert len(modules) == 4 + 22 * 10 + 3
    assert sum(width for _, width in modules) == 4 + 22 * 18 + 5
    svg = boleto.i25_svg(barcode)
    assert svg.count("<rect") == 1 + 2 + 22 * 5 + 2  # background, bars


# PIX.

# Published BR Codes with their CRC: brazilian-utils/brazilian-utils
# is-valid-pix-payload.test.ts (the Banco Central manual's examples) and
# thalesog/pix-utils tests/emvCodes.ts (commit 955a2a8).
BACEN_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BACEN_MANUAL = (
    "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-"
    "42665544000027300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR"
    "5917NOME DO RECEBEDOR6008BRASILIA61087007490062190515RP12345678-201980390012"
    "BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38"
)
PIX_UTILS_STATIC = (
    "00020126510014br.gov.bcb.pix0115thalesog@me.com0210Pedido 123520400005303986"
    "540510.005802BR5914THALES OGLIARI6015SAO MIGUEL DO O62070503***63040DC6"
)


@pytest.mark.parametrize("payload", [BACEN_STATIC, BACEN_MANUAL, PIX_UTILS_STATIC])
def test_the_crc_matches_published_br_codes(payload):
    assert pix.crc16(payload[:-4]) == payload[-4:]


def test_the_crc_of_the_standard_check_string():
    assert pix.crc16("123456789") == "29B1"  # CRC-16/CCITT-FALSE check value


def test_it_builds_the_published_br_codes_field_by_field():
    assert (
        pix.pix_payload(
            key="123e4567-e12b-12d1-a456-426655440000",
            name="Fulano de Tal",
            city="BRASILIA",
        )
        == BACEN_STATIC
    )
    assert (
        pix.pix_payload(
            key="thalesog@me.com",
            description="Pedido 123",
            amount_cents=1000,
            name="THALES OGLIARI",
            city="SAO MIGUEL DO O",
        )
        == PIX_UTILS_STATIC
    )


def test_names_and_cities_are_plain_ascii_within_their_limits():
    payload = pix.pix_payload(
        key="financeiro@plugmessage.com.br",
        name="PlugMessage Soluções em Comunicação Ltda",
        city="São José dos Campos",
        amount_cents=12345,
        txid="FAT202610ABCDEF12",
    )
    fields = pix.pix_fields(payload)
    assert fields["59"] == "PlugMessage Solucoes em Co"[:25]
    assert fields["60"] == "Sao Jose dos Ca"
    assert fields["54"] == "123.45"
    assert fields["62"] == "0517FAT202610ABCDEF12"
    assert fields["63"] == pix.crc16(payload[:-4])


def test_the_pdf_draws_the_same_bars_as_the_page():
    from reportlab.graphics.barcode.common import I2of5

    barcode = PUBLISHED[1][0]
    drawn = I2of5(barcode, checksum=0, bearers=0, quiet=0, ratio=3)
    drawn.validate()
    drawn.encode()
    ours = "".join(
        ("B" if width > 1 else "b") if is_bar else ("S" if width > 1 else "s")
        for is_bar, width in boleto.i25_modules(barcode)
    )
    assert drawn.decompose() == ours
