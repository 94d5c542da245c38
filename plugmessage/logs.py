"""No secret and no personal data in the logs (DESIGN.md, rule 11).

httpx logs every request's full URL at INFO: a customer's webhook URL with
its query token, Asaas' customer lookup with the payer's CPF or CNPJ. Its
loggers are kept at WARNING (settings.LOGGING), and every record that
reaches a handler passes through `RedactFilter`, which masks what is
secret or personal wherever it appears: query strings of URLs, the
instance token in a path, bearer tokens, signing secrets, named secrets and
documents in JSON or forms, and CPF or CNPJ numbers, in the message and in
an exception's traceback.
"""

import logging
import re

MASK = "[…]"
_REPLACEMENTS = [
    # A URL's query string (tokens travel there), up to a quote or a space.
    (re.compile(r"(https?://[^\s?#'\"<>]+)\?[^\s'\"<>#]*"), rf"\1?{MASK}"),
    # The instance token in the path-token routes.
    (re.compile(r"(/token/)[^/\s'\"]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), rf"\1{MASK}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{MASK}"),
    # Named secrets and documents: "cpfCnpj": "...", access_token=..., etc.
    (
        re.compile(
            r"(?i)(['\"]?\b(?:cpf_?cnpj|cpf|cnpj|document|client[-_]token|"
            r"access_token|api[-_]?key|secret|password|token)['\"]?\s*[:=]\s*['\"]?)"
            r"[^'\",\s}&]+"
        ),
        rf"\1{MASK}",
    ),
    # CPF and CNPJ numbers, with or without punctuation (a phone number in
    # E.164 has 12 or 13 digits and is left alone).
    (re.compile(r"(?<![\d+])\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}(?!\d)"), MASK),
    (re.compile(r"(?<![\d+])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)"), MASK),
]


def redact(text: str) -> str:
    """The text with every secret and document it holds masked."""
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Masks secrets and personal data in each record (see `redact`); the
    record always passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info)
            )
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
