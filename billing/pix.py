"""PIX BR Code "copia e cola" (static, EMV Merchant Presented QR): the text a
banking app reads from the QR or the clipboard, ending in its CRC16."""

import unicodedata

GUI = "br.gov.bcb.pix"


def crc16(text: str) -> str:
    """CRC16-CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) as 4 hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"campo {tag} passa de 99 caracteres")
    return f"{tag}{len(value):02d}{value}"


def _plain(text: str, limit: int) -> str:
    """Bank apps expect plain ASCII in name and city."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    return ascii_text.strip()[:limit]


def pix_payload(
    *,
    key: str,
    name: str,
    city: str,
    amount_cents: int | None = None,
    txid: str = "***",
    description: str = "",
) -> str:
    """The BR Code of a static PIX charge to `key`. `txid` (up to 25 letters
    and digits) lets the receiver match the payment to the invoice."""
    account = _field("00", GUI) + _field("01", key)
    if description:
        account += _field("02", description)
    payload = (
        _field("00", "01")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + (_field("54", f"{amount_cents / 100:.2f}") if amount_cents else "")
        + _field("58", "BR")
        + _field("59", _plain(name, 25))
        + _field("60", _plain(city, 15))
        + _field("62", _field("05", txid[:25]))
        + "6304"
    )
    return payload + crc16(payload)


def pix_fields(payload: str) -> dict[str, str]:
    """The top-level fields of a BR Code (tag → value); raises ValueError for
    a malformed one."""
    fields, i = {}, 0
    while i < len(payload):
        tag, size = payload[i : i + 2], payload[i + 2 : i + 4]
        if not (tag.isdigit() and size.isdigit()) or i + 4 + int(size) > len(payload):
            raise ValueError("BR Code malformado")
        fields[tag] = payload[i + 4 : i + 4 + int(size)]
        i += 4 + int(size)
    return fields
