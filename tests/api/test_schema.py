"""schemathesis against the API's own OpenAPI schema, bounded: generated
requests (valid and not) to every operation get no 5xx and answers that match
the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from instances import services
from instances.api import api
from instances.engines import engine_get
from instances.models import SimulatedSession
from tests.factories import UserFactory

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def keep_test_connection():
    # As Django's test client does: a request must not close the connection
    # that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def live(db, monkeypatch, keep_test_connection):
    monkeypatch.setattr(
        "instances.messaging.current_app.send_task", lambda name, args: None
    )
    instance = services.instance_connect(
        instance=services.instance_create(owner=UserFactory(), name="Esquema"),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, "5511987654321")])
    instance.refresh_from_db()
    return instance


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_schema(case, live):
    # Half the calls reach the real instance with its token; the rest carry
    # whatever was generated and must be refused cleanly (401/404/422).
    if (
        "instance_id" in (case.path_parameters or {})
        and case.path_parameters.get("instance_id", "")[:1] in "0123456789abcdef"
    ):
        case.path_parameters["instance_id"] = str(live.pk)
        if "token" in case.path_parameters:
            case.path_parameters["token"] = live.token
    response = case.call(headers={"Authorization": f"Bearer {live.token}"})
    assert response.status_code < 500
    # A request can match the schema and still be refused for what it means
    # (an invalid phone number, an empty text): 422 with a reason is right.
    # The Client-Token is optional until an account turns it on, so a call
    # with a generated one and the right instance token is rightly answered.
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, ignored_auth]
    )


def test_the_schema_declares_both_auth_schemes_the_png_and_phone_patterns(client):
    spec = client.get("/api/openapi.json").json()

    assert spec["components"]["securitySchemes"] == {
        "Bearer": {"type": "http", "scheme": "bearer"},
        "ClientToken": {"type": "apiKey", "in": "header", "name": "Client-Token"},
    }
    bearer = spec["paths"]["/instances/{instance_id}/qr-code/image"]["get"]
    assert list(bearer["responses"]["200"]["content"]) == ["image/png"]
    assert {"Bearer": []} in bearer["security"]
    token_route = spec["paths"]["/instances/{instance_id}/token/{token}/status"]["get"]
    assert {"ClientToken": []} in token_route["security"]
    phone = next(
        p
        for p in spec["paths"]["/instances/{instance_id}/phone-exists/{phone}"]["get"][
            "parameters"
        ]
        if p["name"] == "phone"
    )
    assert phone["schema"]["pattern"]
    send = spec["components"]["schemas"]["SendTextIn"]["properties"]["phone"]
    assert send["pattern"] == phone["schema"]["pattern"]
