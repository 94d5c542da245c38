"""No secret and no personal data in the logs: what the project's logging
writes (the console handler configured by settings.LOGGING) is read back
after real work that used to leak (httpx logging Asaas' CPF/CNPJ lookup,
an instance token in a refused path, a webhook URL's token in an error)."""

import io
import logging

import httpx
import pytest
import respx

from billing.providers.asaas import AsaasProvider
from instances import services
from plugmessage.logs import RedactFilter, redact
from tests.billing.conftest import PAYER

API = "https://api-sandbox.asaas.test/v3"
KEY = "$aact_SEGREDO_DA_CONTA_123"
CNPJ = PAYER.document


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            'POST https://cliente.com/hook?token=abc123XYZ "HTTP/1.1 200 OK"',
            "abc123XYZ",
        ),
        ("GET https://api.asaas.com/v3/customers?cpfCnpj=12345678909", "12345678909"),
        ("Unauthorized: /instances/x/token/QclZPB02acH-H0jpPPoer/status", "QclZPB02"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La", "MfKQ9r8GKYqrTwjUPD8ILPZIo2La"),
        ('{"cpfCnpj": "12345678909", "name": "Ana"}', "12345678909"),
        ("Client-Token: ct_9f8e7d6c5b4a", "ct_9f8e7d6c5b4a"),
        ("pagador 123.456.789-09", "123.456.789-09"),
        ("empresa 12.345.678/0001-95", "12.345.678/0001-95"),
        (f"documento {CNPJ} recusado", CNPJ),
    ],
)
def test_redact_masks_each_kind_of_secret(text, secret):
    assert secret not in redact(text)


def test_the_console_handler_redacts():
    handler = next(
        h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler
    )
    assert any(isinstance(f, RedactFilter) for f in handler.filters)


def test_redact_leaves_ordinary_text_alone():
    text = (
        "Mensagem 3EB0ABCDEF para +5521998765432 enviada em 2026-12-01 (5521998765432)"
    )
    assert redact(text) == text


@pytest.fixture
def written():
    """What the configured console handler writes, from now on."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler  # settings.LOGGING's "console"
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_an_asaas_customer_lookup_logs_no_document_and_no_key(written):
    with respx.mock(base_url=API) as mock:
        mock.get("/customers").respond(json={"data": [{"id": "cus_1"}]})
        assert (
            AsaasProvider(base_url=API, api_key=KEY).customer_ensure(PAYER) == "cus_1"
        )
        # What an outage logs, with the URL in its traceback.
        try:
            httpx.get(f"{API}/payments?cpfCnpj={CNPJ}&access_token={KEY}")
        except Exception:  # noqa: BLE001 - respx refuses the unmocked call
            logging.getLogger("billing").exception("Asaas falhou")
    output = written.getvalue()
    assert "Asaas falhou" in output  # the log itself is kept
    assert CNPJ not in output
    assert "SEGREDO" not in output


@pytest.mark.django_db
def test_a_refused_token_in_the_path_is_not_logged(client, owner, written):
    instance = services.instance_create(owner=owner, name="Loja")
    response = client.get(f"/instances/{instance.pk}/token/TOKENERRADO123456/status")
    assert response.status_code in (401, 403, 404)
    response = client.get(f"/instances/{instance.pk}/token/{instance.token}/nada")
    assert response.status_code == 404
    output = written.getvalue()
    assert "/token/" in output  # Django logged both refusals
    assert "TOKENERRADO123456" not in output
    assert instance.token not in output


def test_a_webhook_error_with_its_url_logs_no_token(written):
    try:
        raise httpx.ConnectError(
            "[Errno 111] Connection refused: https://cliente.test/h?token=SEGREDO42"
        )
    except httpx.ConnectError:
        logging.getLogger("webhooks.services").exception(
            "webhook delivery %s failed: %s",
            7,
            "https://cliente.test/h?token=SEGREDO42",
        )
    output = written.getvalue()
    assert "webhook delivery 7 failed" in output
    assert "SEGREDO42" not in output
