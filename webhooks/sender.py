"""Posting one webhook, safely.

A customer's URL must never reach inside our network (rule 9): every address
its host resolves to is checked, and the request goes to the checked address
itself (with the original Host header and TLS server name), so a DNS answer
that changes between the check and the connection cannot slip through.
Redirects are not followed, and at most the first 1 KB of a response is read.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# The whole request, connection included, may not take longer than this.
TOTAL_SECONDS = 15.0
BODY_LIMIT = 1024
USER_AGENT = "PlugMessage-Webhooks/1.0"
_CLIENTS_MAX = 64

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message is for the customer."""


@dataclass(frozen=True)
class PostResult:
    """What one post came to. `error` is a Portuguese sentence for the
    customer's delivery log; `detail` is the technical text behind it
    (httpx's, in English), for staff only."""

    status_code: int | None
    duration_ms: int
    body: str = ""
    error: str = ""
    retry_after: int | None = None
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    return ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)


def address_is_forbidden(ip: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True for loopback, private, link-local (cloud metadata included),
    carrier-grade NAT, multicast, reserved and unspecified addresses, in IPv4
    and IPv6, including IPv4 addresses carried inside IPv6 ones."""
    inner = _embedded_ipv4(ip)
    if inner is not None and address_is_forbidden(inner, allow_loopback=allow_loopback):
        return True
    if ip.version == 6 and ip.ipv4_mapped:
        return False  # judged above by its IPv4 form
    if ip.version == 6 and ip.is_site_local:  # fec0::/10, deprecated but private
        return True
    if allow_loopback and ip.is_loopback:
        return False
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to. getaddrinfo also reads the old
    decimal, hex and octal spellings of IPv4 (2130706433, 0x7f.1, 0177.0.0.1),
    so those are checked as the address they really are."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(
        dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    )


def _is_loopback_name(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def url_check(
    url: str, *, require_https: bool = True
) -> tuple[object, list[IPAddress]]:
    """Parse and check a webhook URL (or, with require_https off, the URL of
    media to fetch); return its parts and its checked addresses. Raises
    UnsafeURL with a Portuguese message."""
    allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURL(_("URL inválida.")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(_("Informe uma URL completa, começando com https://."))
    http_allowed = (
        not require_https
        or settings.DEBUG
        or (allow_loopback and _is_loopback_name(parts.hostname))
    )
    if parts.scheme == "http" and not http_allowed:
        raise UnsafeURL(
            _("Use https:// — webhooks só são enviados por conexão segura.")
        )
    if parts.username or parts.password:
        raise UnsafeURL(_("Não coloque usuário e senha na URL."))
    try:
        addresses = _resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise UnsafeURL(
            _("Não encontramos o endereço %(host)s. Confira a URL.")
            % {"host": parts.hostname}
        ) from error
    if not addresses or any(
        address_is_forbidden(ip, allow_loopback=allow_loopback) for ip in addresses
    ):
        raise UnsafeURL(
            _(
                "O endereço %(host)s aponta para uma rede interna ou reservada e não "
                "pode receber webhooks."
            )
            % {"host": parts.hostname}
        )
    return parts, addresses


_clients: OrderedDict[tuple, httpx.Client] = OrderedDict()
_clients_lock = threading.Lock()


def _client(key: tuple) -> httpx.Client:
    # One keep-alive client per (scheme, host, address, port): a pooled TLS
    # connection is only ever reused for the host name it was opened for.
    # Deliveries are posted from several threads, hence the lock.
    with _clients_lock:
        client = _clients.pop(key, None) or httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            trust_env=False,  # no proxies or .netrc from the environment
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        _clients[key] = client
        while len(_clients) > _CLIENTS_MAX:
            _clients.popitem(last=False)[1].close()
    return client


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After")
    if not value or response.status_code not in (429, 503):
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        return max(
            0, int((parsedate_to_datetime(value) - timezone.now()).total_seconds())
        )
    except (TypeError, ValueError):
        return None


def connect_failure_text(error: Exception) -> str:
    """Why a connection could not be made, in the customer's words (httpx
    says it in English, with errno numbers and OpenSSL's codes)."""
    text = str(error).lower()
    if "refused" in text:
        return _("O servidor recusou a conexão.")
    if "certificate" in text or "ssl" in text or "tls" in text:
        return _(
            "Não foi possível estabelecer a conexão segura: confira o certificado "
            "TLS do servidor."
        )
    if "unreachable" in text or "no route" in text:
        return _("O servidor está fora de alcance.")
    return _("Não foi possível conectar ao servidor.")


def technical_detail(error: Exception) -> str:
    """The exception as staff read it: its class and its own text."""
    return f"{error.__class__.__name__}: {error}"[:1000]


def post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST `body` to `url` after checking where it leads, taking at most
    TOTAL_SECONDS in all. Never raises for what the receiver does: every
    outcome is a PostResult.

    httpx bounds each read and write, not the whole exchange, so a receiver
    dripping its answer could hold a post far longer; the post runs in its own
    thread and is given up on at the deadline (that thread then ends on its
    own timeouts; if the receiver did get the request, the retry makes it
    at least once, as always)."""
    outcome: list[PostResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(_post(url, body, headers)), daemon=True
    )
    started = time.monotonic()
    runner.start()
    runner.join(TOTAL_SECONDS + 1)
    if outcome:
        return outcome[0]
    return PostResult(
        None, int((time.monotonic() - started) * 1000), error=_("Tempo esgotado")
    )


def post_unbounded(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """`post` without the thread that enforces the total deadline, for callers
    that enforce it themselves (the drains, which post from a thread pool)."""
    return _post(url, body, headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        parts, addresses = url_check(url)
    except UnsafeURL as error:
        return PostResult(None, elapsed(), error=str(error))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ascii_host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return PostResult(None, elapsed(), error=_("Nome de servidor inválido."))
    bracketed = f"[{ascii_host}]" if ":" in ascii_host else ascii_host  # IPv6
    host_header = bracketed if parts.port is None else f"{bracketed}:{parts.port}"
    extensions = {"sni_hostname": ascii_host} if parts.scheme == "https" else {}
    # Every address was checked; try them in turn while a connection is
    # refused, as a browser would.
    for address in addresses:
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = urlunsplit(
            (parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, "")
        )
        client = _client((parts.scheme, parts.hostname, str(address), port))
        try:
            request = client.build_request(
                "POST",
                target,
                content=body,
                headers={
                    **headers,
                    "Host": host_header,
                    "Content-Type": "application/json",
                },
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                prefix = b""
                for chunk in response.iter_raw():
                    prefix += chunk
                    if (
                        len(prefix) >= BODY_LIMIT
                        or time.monotonic() - started > TOTAL_SECONDS
                    ):
                        break
            finally:
                response.close()
            break
        except httpx.TimeoutException:
            return PostResult(None, elapsed(), error=_("Tempo esgotado"))
        except httpx.ConnectError as error:
            if address == addresses[-1]:
                return PostResult(
                    None,
                    elapsed(),
                    error=connect_failure_text(error),
                    detail=technical_detail(error),
                )
        except httpx.HTTPError as error:
            return PostResult(
                None,
                elapsed(),
                error=_("A conexão com o servidor caiu antes da resposta."),
                detail=technical_detail(error),
            )
    # Text for the log: PostgreSQL refuses NUL characters in text columns.
    text = (
        prefix[:BODY_LIMIT].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    )
    if time.monotonic() - started > TOTAL_SECONDS:
        return PostResult(None, elapsed(), body=text, error=_("Tempo esgotado"))
    error = ""
    if 300 <= response.status_code < 400:
        error = _("Redirecionamento não seguido (%(location)s)") % {
            "location": response.headers.get("Location", "")[:200]
        }
    return PostResult(
        response.status_code,
        elapsed(),
        body=text,
        error=error,
        retry_after=_retry_after(response),
    )


FETCH_SECONDS = 30.0
FETCH_USER_AGENT = "PlugMessage-Media/1.0"


class FetchFailed(Exception):
    """A URL could not be fetched; the message is a Portuguese sentence for
    the customer, `detail` the technical text behind it (for the logs)."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str
    file_name: str


def fetch(url: str, *, max_bytes: int, deadline: float = FETCH_SECONDS) -> Fetched:
    """GET `url` through the same guard as webhooks: every address it resolves
    to checked, the connection made to the checked address (pinned), no
    redirects, at most `max_bytes` read, the whole exchange within
    `deadline` seconds. Plain http is allowed (media links often are).
    Raises FetchFailed with a Portuguese reason."""
    started = time.monotonic()
    try:
        parts, addresses = url_check(url, require_https=False)
    except UnsafeURL as error:
        raise FetchFailed(str(error)) from error
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ascii_host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise FetchFailed(_("Nome de servidor inválido.")) from error
    bracketed = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    host_header = bracketed if parts.port is None else f"{bracketed}:{parts.port}"
    extensions = {"sni_hostname": ascii_host} if parts.scheme == "https" else {}
    last_error = FetchFailed(_("Não foi possível conectar ao servidor."))
    for address in addresses:
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = urlunsplit(
            (parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, "")
        )
        client = _client(("fetch", parts.scheme, parts.hostname, str(address), port))
        try:
            request = client.build_request(
                "GET",
                target,
                headers={"Host": host_header, "User-Agent": FETCH_USER_AGENT},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
        except httpx.TimeoutException as error:
            raise FetchFailed(_("Tempo esgotado ao baixar a mídia.")) from error
        except httpx.ConnectError as error:
            last_error = FetchFailed(
                connect_failure_text(error), detail=technical_detail(error)
            )
            continue
        except httpx.HTTPError as error:
            raise FetchFailed(
                _("A conexão caiu ao baixar a mídia."), detail=technical_detail(error)
            ) from error
        try:
            return _fetched(response, parts, max_bytes, started, deadline)
        finally:
            response.close()
    raise last_error


def _fetched(response, parts, max_bytes: int, started: float, deadline: float):
    if 300 <= response.status_code < 400:
        raise FetchFailed(
            _("O endereço da mídia redireciona (%(location)s): use o endereço final.")
            % {"location": response.headers.get("Location", "")[:200]}
        )
    if response.status_code != 200:
        raise FetchFailed(
            _("O endereço da mídia respondeu %(status)d.")
            % {"status": response.status_code}
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(_("A mídia passa do tamanho permitido."))
    data = b""
    try:
        for chunk in response.iter_raw():
            data += chunk
            if len(data) > max_bytes:
                raise FetchFailed(_("A mídia passa do tamanho permitido."))
            if time.monotonic() - started > deadline:
                raise FetchFailed(_("Tempo esgotado ao baixar a mídia."))
    except httpx.HTTPError as error:
        raise FetchFailed(
            _("A conexão caiu ao baixar a mídia."), detail=technical_detail(error)
        ) from error
    name = (parts.path or "").rstrip("/").rsplit("/", 1)[-1][:200]
    return Fetched(
        data=data,
        content_type=response.headers.get("Content-Type", ""),
        file_name=name,
    )
