import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_to_e164(raw: str, *, region: str = "BR") -> str:
    """Parse a phone number as a person or an engine writes it ("(11) 98765-4321",
    "5511987654321", "5511987654321@s.whatsapp.net", "+55 11 ...") and return it
    in E.164. Numbers without a country code are taken as Brazilian.
    Raises ValidationError for anything that is not a valid number."""
    text = (raw or "").split("@")[0].split(":")[0].strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise ValidationError(_("Informe um número de telefone."), code="empty")
    candidates = [text] if text.startswith("+") else []
    if len(digits) > 11:  # long enough to carry its own country code
        candidates.append("+" + digits)
    candidates.append(digits)
    if len(digits) >= 10:  # a foreign number written without "+"
        candidates.append("+" + digits)
    nine = _with_ninth_digit(digits)
    if nine:
        candidates.append("+" + nine)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    raise ValidationError(
        _("Número de telefone inválido. Use DDI e DDD, por exemplo +55 11 98765-4321."),
        code="invalid",
    )


def phone_display(e164: str) -> str:
    """+5511987654321 → +55 11 98765-4321."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def _with_ninth_digit(digits: str) -> str:
    """WhatsApp still reports many Brazilian mobiles in the old 8-digit form
    (55 31 8888-7777); the same line is 55 31 98888-7777 today. Returns the
    9-digit form of such a number, or "" for anything else."""
    if len(digits) == 12 and digits.startswith("55") and digits[4] in "6789":
        return digits[:4] + "9" + digits[4:]
    return ""


def phone_from_engine(raw: str) -> str:
    """A number as an engine reports it (5511987654321@s.whatsapp.net). The
    engine has seen it on WhatsApp, so when `phonenumbers` does not know the
    range yet, the digits are kept as they are rather than the event lost."""
    try:
        return phone_to_e164(raw)
    except ValidationError:
        digits = "".join(
            ch for ch in (raw or "").split("@")[0].split(":")[0] if ch.isdigit()
        )
        if 8 <= len(digits) <= 15:
            return "+" + digits
        raise
