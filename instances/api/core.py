"""The instance API's frame: the django-ninja app, errors, the token check
and `action`, which registers one handler on both route shapes.

Every action answers on two routes. With the token in the path
(/instances/{id}/token/{token}/send-text) it keeps the public contract Z-API
clients were written for (../shared/zapi-contract.md): its answers and error
bodies are theirs. With `Authorization: Bearer <token>`
(/instances/{id}/send-text) it answers in PlugMessage's own documented shapes.
The handler is written once and returns what happened; each shape has a
presenter that turns that into its answer.
"""

import hmac
import inspect
import logging
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Path, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field, StrictInt, StrictStr

from accounts.services import client_token_allows
from instances import selectors
from instances.api.reference import PanelReference
from instances.models import Instance
from instances.phones import phone_to_e164

# A phone as people and Z-API clients write it: digits with a country code,
# perhaps with +, spaces, dots, dashes or parentheses.
PHONE_PATTERN = r"^\+?[0-9][0-9()\-. ]{0,30}$"
PhonePath = Annotated[
    str,
    Path(
        pattern=PHONE_PATTERN,
        description="DDI + DDD + número, por exemplo 5511987654321",
        examples=["5511987654321"],
    ),
]
PhoneField = Annotated[
    StrictStr | StrictInt,
    Field(
        description="DDI + DDD + número, só dígitos: 5511987654321",
        examples=["5511987654321"],
        json_schema_extra={"pattern": PHONE_PATTERN},
    ),
]

IN_PATH = "/instances/{instance_id}/token/{token}"
BEARER = "/instances/{instance_id}"
TOKEN_TAG = "Token na URL (compatível com Z-API)"  # noqa: S105 - a label


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = (
            status,
            code,
            message,
            retry_after,
        )


class Error(Schema):
    code: str
    message: str


class ZapiError(Schema):
    error: str
    code: str
    message: str


api = NinjaAPI(
    title="PlugMessage API",
    version="2",
    description=(
        "API das instâncias da PlugMessage. Cada ação responde em duas rotas: "
        "com o token no caminho (/instances/{id}/token/{token}/...), compatível "
        "com clientes escritos para a Z-API, e com o cabeçalho Authorization: "
        "Bearer (/instances/{id}/...), no formato próprio da PlugMessage."
    ),
    urls_namespace="api",
    docs=PanelReference(),
    docs_url="/api/docs",
    openapi_url="/api/openapi.json",
)
ERRORS = {s: Error for s in (400, 401, 402, 404, 409, 413, 422, 429, 503)}
ZAPI_ERRORS = {s: ZapiError for s in (400, 401, 402, 404, 409, 413, 422, 429, 503)}


def invalid_phone() -> ApiError:
    return ApiError(422, "invalid_phone", _("Número de telefone inválido."))


def is_token_route(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and "token" in match.kwargs)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    retry_after: int | None = None,
) -> HttpResponse:
    """PlugMessage's {code, message}; on the token routes also Z-API's
    `error`, the field its clients read (the contract's choice 4)."""
    body = {"code": code, "message": message}
    if is_token_route(request):
        body = {"error": message, **body}
    response = api.create_response(request, body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def _invalid_request(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    """django-ninja (pydantic) says what is wrong in English, naming type
    tags ("str", "int") as if they were fields: the answer names the field
    the client sent and says, in Portuguese, what it must be."""
    problems = list(
        dict.fromkeys(
            invalid_field_text(e) for e in error.errors if isinstance(e, dict)
        )
    )
    return error_response(
        request,
        422,
        "invalid_request",
        _("Pedido inválido: %(problems)s.")
        % {"problems": "; ".join(problems) or _("o corpo deve ser um objeto JSON")},
    )


# Where django-ninja says a value came from, before the parameter's name.
_SOURCES = ("body", "query", "path", "header", "cookie", "form", "file")


def invalid_field_text(error: dict) -> str:
    """One validation error of django-ninja as a Portuguese phrase: the field
    as the client wrote it (its top-level name, as the docs list it) and
    what it must be."""
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in _SOURCES:
        # The body is (body, parameter, field, ...); the others (source, field).
        loc = loc[2:] if loc[0] == "body" else loc[1:]
    if not loc:
        return _("o corpo deve ser um objeto JSON")
    field = loc[0]
    if len(loc) > 1 and not loc[1].isdigit():
        # One error per type a field may have ("str", "int"): say it once.
        return _("%(field)s tem um tipo de valor não aceito") % {"field": field}
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "missing":
        return _("informe %(field)s") % {"field": field}
    if kind in ("extra_forbidden",):
        return _("%(field)s não é aceito") % {"field": field}
    bound = next(
        (context[key] for key in ("le", "lt", "ge", "gt") if key in context), None
    )
    if bound is not None:
        bound = int(bound) if float(bound).is_integer() else bound
    phrase = {
        "string_type": _("%(field)s deve ser um texto"),
        "int_type": _("%(field)s deve ser um número inteiro"),
        "int_parsing": _("%(field)s deve ser um número inteiro"),
        "int_from_float": _("%(field)s deve ser um número inteiro"),
        "float_type": _("%(field)s deve ser um número"),
        "float_parsing": _("%(field)s deve ser um número"),
        "bool_type": _("%(field)s deve ser true ou false"),
        "bool_parsing": _("%(field)s deve ser true ou false"),
        "list_type": _("%(field)s deve ser uma lista"),
        "dict_type": _("%(field)s deve ser um objeto"),
        "model_type": _("%(field)s deve ser um objeto"),
        "model_attributes_type": _("%(field)s deve ser um objeto"),
        "uuid_type": _("%(field)s deve ser um UUID"),
        "uuid_parsing": _("%(field)s deve ser um UUID"),
        "less_than_equal": _("%(field)s deve ser no máximo %(bound)s"),
        "less_than": _("%(field)s deve ser menor que %(bound)s"),
        "greater_than_equal": _("%(field)s deve ser no mínimo %(bound)s"),
        "greater_than": _("%(field)s deve ser maior que %(bound)s"),
        "string_too_long": _("%(field)s passa do tamanho máximo"),
        "string_too_short": _("%(field)s está curto demais"),
        "too_long": _("%(field)s tem itens demais"),
        "too_short": _("%(field)s tem itens de menos"),
        "string_pattern_mismatch": _("%(field)s está em um formato inválido"),
        "literal_error": _("%(field)s tem um valor não aceito"),
        "enum": _("%(field)s tem um valor não aceito"),
    }.get(kind, _("confira %(field)s"))
    return phrase % {"field": field, "bound": bound}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """django-ninja's own HTTP errors, whose texts are English ("CSRF check
    Failed", "Unauthorized"), in the API's shape and in Portuguese."""
    if error.status_code == 400:
        return error_response(
            request,
            400,
            "invalid_request",
            _("Pedido inválido: o corpo deve ser JSON."),
        )
    logger.info("API answered %s: %s", error.status_code, error)
    return error_response(
        request,
        error.status_code,
        "error",
        _("O pedido não pôde ser atendido (HTTP %(status)d).")
        % {"status": error.status_code},
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return error_response(
        request,
        413,
        "request_too_large",
        _("O pedido passa do tamanho máximo (mídia de até 16 MB)."),
    )


# While the database is out of reach (PostgreSQL restarting, say) every
# request fails the same way: one log line a minute says so, not a traceback
# per request.
UNAVAILABLE_RETRY_AFTER = 5
_UNAVAILABLE_LOG_EVERY = 60.0
_unavailable_logged_at = -_UNAVAILABLE_LOG_EVERY
logger = logging.getLogger(__name__)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """The database is gone for a moment: 503 with Retry-After, in the API's
    own error shape (never Django's HTML 500). Nothing was accepted: a send
    that failed here was not queued, and the client sends it again. The
    broken connection is closed when the request ends, and the next request
    opens a new one."""
    global _unavailable_logged_at
    now = time.monotonic()
    if now - _unavailable_logged_at >= _UNAVAILABLE_LOG_EVERY:
        _unavailable_logged_at = now
        logger.warning(
            "database unavailable, API answering 503: %s",
            str(error).splitlines()[0][:200] if str(error) else type(error).__name__,
        )
    return error_response(
        request,
        503,
        "service_unavailable",
        _(
            "O serviço está indisponível por um instante. Tente de novo em "
            "alguns segundos."
        ),
        UNAVAILABLE_RETRY_AFTER,
    )


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error_response(
        request, error.status, error.code, error.message, error.retry_after
    )


def nul_refuse(request: HttpRequest) -> None:
    """A NUL character anywhere in the request is refused before any handler
    runs: PostgreSQL cannot store it in text, and no field needs it."""
    if (
        b"\\u0000" in request.body
        or b"\x00" in request.body
        or "\x00" in request.get_full_path()
        or "%00" in request.get_full_path()
    ):
        raise ApiError(
            422,
            "invalid_text",
            _("O pedido contém um caractere nulo (\\u0000), que não é aceito."),
        )


def instance_for_request(
    request: HttpRequest,
    instance_id: UUID,
    token: str | None,
    *,
    recipient: object = None,
) -> Instance:
    """The instance the token opens. A token that opens none → 401; one that
    opens another instance → 404, with no hint that this ID exists; a
    missing or wrong Client-Token, when the account turned it on → 401.

    With the `recipient` of a send, the same query also reads whether that
    number is on the instance's exclusion list (health.is_excluded then
    needs no query); a number that does not parse is left for the send's own
    checks to refuse, in their order."""
    if token is None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    found = (
        selectors.instance_for_token(token, recipient=_e164_or_none(recipient))
        if token
        else None
    )
    if found is None or not hmac.compare_digest(found.token.encode(), token.encode()):
        raise ApiError(401, "unauthorized", _("Token inválido."))
    if found.pk != instance_id:
        raise ApiError(404, "not_found", _("Instância não encontrada."))
    if not client_token_allows(
        user=found.owner, given=request.headers.get("Client-Token")
    ):
        raise ApiError(
            401,
            "client_token_required",
            _(
                "Esta conta exige o cabeçalho Client-Token com o token de segurança "
                "da conta (Minha conta › Segurança)."
            ),
        )
    return found


def _e164_or_none(phone: object) -> str | None:
    if phone is None:
        return None
    try:
        return phone_to_e164(str(phone))
    except Exception:  # noqa: BLE001 - refused later, by the send's checks
        return None


@dataclass(frozen=True)
class Shape:
    """One route shape of an action: its HTTP methods, its answers (status →
    schema, for the docs) and the presenter that turns the handler's result
    into its answer."""

    methods: tuple[str, ...]
    responses: dict
    present: Callable
    openapi: dict | None = None


def action(
    path: str,
    *,
    summary: str,
    tag: str,
    native: Shape,
    zapi: Shape,
    recipient: Callable[[dict], object] | None = None,
) -> Callable:
    """Register `handler(request, instance, **params)` on both shapes.

    The handler's own parameters (path, query and body, typed as django-ninja
    reads them) are given to both registrations; each adds how it is
    authenticated: `token` in the path, or the Bearer header. `recipient`,
    for a send, reads the number it goes to from the parameters, so that
    finding the instance also tells whether the number is excluded."""

    def register(handler: Callable) -> Callable:
        hints = typing.get_type_hints(handler, include_extras=True)
        own = [
            parameter.replace(
                annotation=hints.get(name, parameter.annotation),
                kind=inspect.Parameter.KEYWORD_ONLY,
            )
            for name, parameter in inspect.signature(handler).parameters.items()
            if name not in ("request", "instance")
        ]
        request_param = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        instance_param = inspect.Parameter(
            "instance_id", inspect.Parameter.KEYWORD_ONLY, annotation=UUID
        )
        token_param = inspect.Parameter(
            "token", inspect.Parameter.KEYWORD_ONLY, annotation=str
        )

        def bearer_view(request, instance_id, **params):
            nul_refuse(request)
            instance = instance_for_request(
                request,
                instance_id,
                None,
                recipient=recipient(params) if recipient else None,
            )
            return native.present(handler(request, instance, **params))

        def token_view(request, instance_id, token, **params):
            nul_refuse(request)
            instance = instance_for_request(
                request,
                instance_id,
                token,
                recipient=recipient(params) if recipient else None,
            )
            return zapi.present(handler(request, instance, **params))

        bearer_view.__signature__ = inspect.Signature(
            [request_param, instance_param, *own]
        )
        token_view.__signature__ = inspect.Signature(
            [request_param, instance_param, token_param, *own]
        )
        name = handler.__name__
        for view, suffix in ((bearer_view, ""), (token_view, "_token")):
            view.__name__ = f"{name}{suffix}"
            view.__doc__ = handler.__doc__
        api.api_operation(
            list(native.methods),
            f"{BEARER}{path}",
            response={**native.responses, **ERRORS},
            summary=summary,
            tags=[tag],
            operation_id=name,
            openapi_extra={
                "security": [{"Bearer": []}, {"Bearer": [], "ClientToken": []}],
                **(native.openapi or {}),
            },
        )(bearer_view)
        api.api_operation(
            list(zapi.methods),
            f"{IN_PATH}{path}",
            response={**zapi.responses, **ZAPI_ERRORS},
            summary=f"{summary} (token na URL)",
            tags=[TOKEN_TAG],
            operation_id=f"{name}_token",
            openapi_extra={
                "security": [{}, {"ClientToken": []}],
                **(zapi.openapi or {}),
            },
        )(token_view)
        return handler

    return register


def security_schemes() -> dict:
    return {
        "Bearer": {"type": "http", "scheme": "bearer"},
        "ClientToken": {"type": "apiKey", "in": "header", "name": "Client-Token"},
    }


_get_openapi_schema = api.get_openapi_schema


def _openapi_schema(*args, **kwargs):
    schema = _get_openapi_schema(*args, **kwargs)
    schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(
        security_schemes()
    )
    return schema


api.get_openapi_schema = _openapi_schema
