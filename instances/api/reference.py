"""The API reference in the panel's own words: the OpenAPI schema django-ninja
builds, read into actions a customer can follow in Portuguese.

Swagger UI labels its own screens in English ("Schemas", "Expand all", "Try
it out") and has no translation; this reference is rendered by the panel's
templates instead, works without JavaScript and needs no inline script. The
schema itself stays at /api/openapi.json for tools (Postman, Insomnia,
generators). Each action answers on two routes, the Bearer one and the Z-API
compatible one with the token in the path: they are shown together, paired by
path, each with its own success answer (they differ on purpose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from ninja.openapi.docs import DocsBase

TOKEN_SEGMENT = "/token/{token}"  # noqa: S105 - a path segment

# Path and query parameters are declared as plain function arguments, which
# carry no description in the schema.
PARAMETER_TEXT = {
    "instance_id": _("ID da instância (em “Credenciais da API”)."),
    "token": _("Token da instância, na rota compatível com a Z-API."),
    "phone": _("DDI + DDD + número, só dígitos: 5511987654321."),
    "message_id": _("O id da resposta do envio ou o id da mensagem no WhatsApp."),
    "extension": _("Extensão do arquivo: pdf, docx, xlsx, csv, zip..."),
    "zaap_id": _("O zaapId da mensagem na fila."),
}

LOCATION = {
    "path": _("no caminho"),
    "query": _("na consulta (?nome=valor)"),
    "header": _("no cabeçalho"),
}

STATUS_TEXT = {
    "200": _("OK"),
    "201": _("Criado"),
    "202": _("Aceito: na fila para envio"),
    "204": _("Feito, sem corpo na resposta"),
}

TYPE_TEXT = {
    "string": _("texto"),
    "integer": _("número inteiro"),
    "number": _("número"),
    "boolean": _("verdadeiro ou falso"),
    "object": _("objeto"),
    "null": "null",
}

FORMAT_TEXT = {
    "uuid": _("UUID"),
    "date-time": _("data e hora (ISO 8601)"),
    "date": _("data (AAAA-MM-DD)"),
    "uri": _("URL"),
}

SECTION_ORDER = (
    "Instância",
    "Perfil",
    "Mensagens",
    "Fila",
    "Webhooks",
    "Lista de exclusão",
)


def _inline_code(text: str) -> SafeString:
    """The schema's descriptions mark names as `code`, as Markdown does."""
    return mark_safe(  # noqa: S308 - escaped first, only <code> is added
        re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))
    )


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    location: str = ""
    children: list[Field] = field(default_factory=list)


@dataclass
class Route:
    method: str
    path: str
    status: str
    status_text: str
    answer: list[Field]
    no_body: bool


@dataclass
class Action:
    slug: str
    summary: str
    description: str
    parameters: list[Field]
    body: list[Field]
    errors: list[str]
    bearer: list[Route] = field(default_factory=list)
    token: list[Route] = field(default_factory=list)


@dataclass
class Section:
    title: str
    slug: str
    actions: list[Action]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _type_text(schema: dict, node: dict) -> str:
    node = _resolve(schema, node)
    if "anyOf" in node:
        parts = [_type_text(schema, option) for option in node["anyOf"]]
        return str(_(" ou ")).join(dict.fromkeys(p for p in parts if p))
    if "enum" in node:
        return str(_("um de: ")) + ", ".join(str(v) for v in node["enum"])
    kind = node.get("type", "object")
    if kind == "array":
        return str(_("lista de ")) + _type_text(schema, node.get("items", {}))
    if node.get("format") in FORMAT_TEXT:
        return str(FORMAT_TEXT[node["format"]])
    text = str(TYPE_TEXT.get(kind, kind))
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        text += str(_(" de {low} a {high}")).format(low=low, high=high)
    return text


def _object_of(schema: dict, node: dict) -> dict | None:
    """The object schema behind a field (through $ref, lists and nullable)."""
    node = _resolve(schema, node)
    if node.get("type") == "array":
        return _object_of(schema, node.get("items", {}))
    for option in node.get("anyOf", ()):
        found = _object_of(schema, option)
        if found:
            return found
    return node if node.get("properties") else None


def _fields(schema: dict, node: dict, depth: int = 0) -> list[Field]:
    node = _object_of(schema, node) or {}
    required = set(node.get("required", ()))
    fields = []
    for name, prop in node.get("properties", {}).items():
        nested = _object_of(schema, prop)
        fields.append(
            Field(
                name=name,
                type=_type_text(schema, prop),
                required=name in required,
                description=_inline_code(prop.get("description", "")),
                children=_fields(schema, nested) if nested and depth < 2 else [],
            )
        )
    return fields


def _parameters(operation: dict) -> list[Field]:
    return [
        Field(
            name=parameter["name"],
            type=_type_text({}, parameter.get("schema", {})),
            required=parameter.get("required", False),
            description=_inline_code(
                parameter.get("description")
                or parameter.get("schema", {}).get("description")
                or str(PARAMETER_TEXT.get(parameter["name"], ""))
            ),
            location=str(LOCATION.get(parameter["in"], parameter["in"])),
        )
        for parameter in operation.get("parameters", ())
        if parameter["name"] != "token"
    ]


def _route(schema: dict, method: str, path: str, operation: dict) -> Route:
    status = min(str(code) for code in operation["responses"] if str(code)[0] == "2")
    answer = operation["responses"].get(int(status)) or operation["responses"][status]
    content = answer.get("content", {}).get("application/json", {})
    return Route(
        method=method.upper(),
        path=path,
        status=status,
        status_text=str(STATUS_TEXT.get(status, "")),
        answer=_fields(schema, content.get("schema", {})),
        no_body=not content,
    )


def _slug(path: str) -> str:
    rest = path.split("{instance_id}", 1)[-1].strip("/")
    return rest.replace("/", "-").replace("{", "").replace("}", "") or "instancia"


def build_reference(schema: dict) -> list[Section]:
    """The schema's actions, grouped by section (the Bearer route's tag) in
    the order a customer meets them, each with its Z-API compatible route."""
    actions: dict[tuple[str, str], Action] = {}
    tags: dict[str, list[Action]] = {}
    routes = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]
    for path, method, operation in routes:
        if TOKEN_SEGMENT in path:
            continue
        body = operation.get("requestBody", {}).get("content", {})
        action = Action(
            slug=f"{method}-{_slug(path)}",
            summary=operation.get("summary", ""),
            description=_inline_code(operation.get("description", "")),
            parameters=_parameters(operation),
            body=_fields(schema, body.get("application/json", {}).get("schema", {})),
            errors=sorted(
                str(code) for code in operation["responses"] if str(code)[0] != "2"
            ),
            bearer=[_route(schema, method, path, operation)],
        )
        actions[path, method] = action
        tags.setdefault((operation.get("tags") or [""])[0], []).append(action)
    for path, method, operation in routes:
        if TOKEN_SEGMENT not in path:
            continue
        bearer_path = path.replace(TOKEN_SEGMENT, "")
        # Z-API also answers some POST actions on GET: the same action.
        action = actions.get((bearer_path, method)) or next(
            (a for (p, _m), a in actions.items() if p == bearer_path), None
        )
        if action is not None:
            action.token.append(_route(schema, method, path, operation))
    order = SECTION_ORDER + tuple(t for t in tags if t not in SECTION_ORDER)
    return [
        Section(
            title=title,
            slug=slugify(title),
            actions=tags[title],
        )
        for title in order
        if tags.get(title)
    ]


@cache
def api_reference() -> list[Section]:
    """The reference of the live API, built once a process (the schema only
    changes with a deploy)."""
    from instances.api.core import api

    return build_reference(api.get_openapi_schema(path_params={}))


class PanelReference(DocsBase):
    """django-ninja's docs page, rendered by the panel's own template."""

    template = "instances/api_reference.html"

    def render_page(self, request: HttpRequest, api, **kwargs: Any) -> HttpResponse:
        return render(
            request,
            self.template,
            {
                "sections": api_reference(),
                "openapi_url": self.get_openapi_url(api, kwargs),
            },
        )
