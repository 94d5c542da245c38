"""The API reference on "Documentação": every operation of the schema, in
the panel's own Portuguese template, each action with both of its routes."""

import re

import pytest
from django.test import Client

from instances.api.core import api
from instances.api.reference import build_reference

pytestmark = pytest.mark.django_db

SWAGGER_LABELS = ("Schemas", "Expand all", "Try it out", "Execute", "Responses")
STATUS_PHRASES = ("Accepted", "Unauthorized", "Bad Request", "Not Found")


@pytest.fixture
def schema():
    return api.get_openapi_schema(path_params={})


def test_every_route_of_the_schema_is_in_the_reference_once(schema):
    listed = [
        (route.method, route.path)
        for section in build_reference(schema)
        for action in section.actions
        for route in action.bearer + action.token
    ]
    expected = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    ]
    assert sorted(listed) == sorted(expected)


def test_each_action_pairs_its_bearer_route_with_the_z_api_one(schema):
    actions = {
        action.slug: action
        for section in build_reference(schema)
        for action in section.actions
    }
    send_text = actions["post-send-text"]
    assert [(r.method, r.path, r.status) for r in send_text.bearer] == [
        ("POST", "/instances/{instance_id}/send-text", "202")
    ]
    assert [(r.method, r.path, r.status) for r in send_text.token] == [
        ("POST", "/instances/{instance_id}/token/{token}/send-text", "200")
    ]
    # The two answers differ on purpose: the Z-API client reads zaapId.
    assert "zaapId" in [f.name for f in send_text.token[0].answer]
    assert "status" in [f.name for f in send_text.bearer[0].answer]
    assert {f.name: f.required for f in send_text.body}["phone"] is True
    # Z-API also takes disconnect as GET: it belongs to the same action.
    disconnect = actions["post-disconnect"]
    assert sorted(r.method for r in disconnect.token) == ["GET", "POST"]


def test_fields_parameters_and_types_are_described_in_portuguese(schema):
    actions = {
        action.slug: action
        for section in build_reference(schema)
        for action in section.actions
    }
    queue = {f.name: f for f in actions["get-queue"].parameters}
    assert queue["pageSize"].type == "número inteiro de 1 a 1000"
    assert queue["pageSize"].location == "na consulta (?nome=valor)"
    assert "token" not in queue
    assert "ID da instância" in queue["instance_id"].description
    text = {f.name: f for f in actions["post-send-text"].body}
    assert text["phone"].type == "texto ou número inteiro"
    assert text["delayMessage"].type == "número de 0 a 15 ou null"
    document = actions["post-send-document-extension"].description
    assert "<code>extension</code>" in document


def test_the_docs_page_lists_every_action_without_swagger_ui(schema):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    body = response.content.decode()
    for section in build_reference(schema):
        assert f'id="{section.slug}"' in body
        for action in section.actions:
            assert f'id="{action.slug}"' in body
            assert f'href="#{action.slug}"' in body
    assert "Enviar texto" in body
    assert "/instances/{instance_id}/token/{token}/send-text" in body
    assert "Corpo do pedido (JSON)" in body
    assert "202 Aceito" in body
    assert 'href="/api/openapi.json"' in body
    for english in SWAGGER_LABELS + STATUS_PHRASES:
        assert not re.search(rf">\s*{english}\s*<", body), english
    assert "swagger-ui" not in body
    assert "<script>" not in body


def test_descriptions_are_escaped_but_keep_their_code_marks():
    schema = {
        "paths": {
            "/instances/{instance_id}/x": {
                "post": {
                    "summary": "X",
                    "description": "Use `a<b>` <script>",
                    "tags": ["Mensagens"],
                    "responses": {204: {"description": "No Content"}},
                }
            }
        },
        "components": {"schemas": {}},
    }
    (section,) = build_reference(schema)
    (action,) = section.actions
    assert action.description == "Use <code>a&lt;b&gt;</code> &lt;script&gt;"
    assert action.bearer[0].no_body and action.bearer[0].status == "204"
