"""Outbound HTTP to addresses a tenant or a provider chose: the one guard against SSRF.

Guarded: a lead's media (``channels.http.fetch_media``: Z-API/Twilio media URLs, the Cloud API
media lookup), the adapters' calls to a channel's ``api_base_url`` (``channels.registry.http_client``),
knowledge pages (``knowledge.loaders.fetch_url``) and the agent's LLM client when its endpoint is
not the provider's public default (``agent.llm``). URLs that come from settings (Drive, OAuth, TTS,
embeddings) are the operator's and are not guarded.

How it holds against the tricks:

* **One lookup, and the connection goes to the address that was checked.** A httpcore network
  backend (``GuardedBackend`` / ``AsyncGuardedBackend``) resolves the host once, refuses unless
  every address may be reached, and connects to that IP; TLS (SNI, certificate) still uses the
  hostname. A DNS answer that changes between a check and the connection (DNS rebinding) cannot
  pick another address, because there is no second lookup.
* **What is refused** (``classify``): loopback, private (RFC 1918, ULA), link-local, CGNAT
  (100.64/10), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), unspecified, multicast, reserved and other
  non-global ranges; IPv4-mapped (::ffff:0:0/96) and 6to4 addresses by the IPv4 they embed; cloud
  metadata addresses and host names (169.254.169.254, fd00:ec2::254, metadata.google.internal, ...).
* **Allowed only on purpose:** ``EGRESS_ALLOW_PRIVATE_NETWORKS`` lists CIDRs (``10.0.0.0/8``) and/or
  ``host:port`` pairs (``127.0.0.1:8080``, ``evolution:8080``) that may be reached although they are
  not public: tests (fakes on loopback) and self-hosters (Evolution or Ollama on their LAN). Metadata,
  unspecified and multicast addresses are never allowed.
* **Redirects, size and time:** ``fetch`` / ``fetch_sync`` follow redirects themselves (at most
  ``MAX_REDIRECTS``; every hop connects through the same check; credentials are dropped when a hop
  leaves the origin), cap the decoded bytes while streaming and bound the whole download with one
  deadline.

Guarded clients never use ``HTTP(S)_PROXY`` or ``.netrc`` from the environment (``trust_env=False``):
a proxy would do the lookup and the connecting, out of the guard's sight.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx

from runtime.egress_allowance import Allowance, IPAddress, normal_host

log = logging.getLogger(__name__)

# (host, port) -> the host's addresses, as text. The default asks the system (getaddrinfo).
Resolver = Callable[[str, int], Sequence[str]]

MAX_REDIRECTS = 5
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials: never sent on to another origin by a redirect.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Blocked(StrEnum):
    """Why an address may not be reached."""

    metadata = "metadata"
    unspecified = "unspecified"
    loopback = "loopback"
    link_local = "link_local"
    multicast = "multicast"
    cgnat = "cgnat"
    nat64 = "nat64"
    private = "private"
    reserved = "reserved"


# Never reachable, whatever EGRESS_ALLOW_PRIVATE_NETWORKS says.
NEVER_ALLOWED = frozenset({Blocked.metadata, Blocked.unspecified, Blocked.multicast})


def classify(address: str | IPAddress) -> Blocked | None:
    """None for a public address; else why it is not one. IPv4-mapped and 6to4 addresses are judged
    by the IPv4 address inside them (::ffff:127.0.0.1 is loopback)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return classify(ip.ipv4_mapped)
        if any(ip in net for net in NAT64):
            return Blocked.nat64
        if ip.sixtofour is not None:
            return classify(ip.sixtofour)
    if ip in METADATA_ADDRESSES:
        return Blocked.metadata
    if ip.is_unspecified:
        return Blocked.unspecified
    if ip.is_loopback:
        return Blocked.loopback
    if ip.is_link_local:
        return Blocked.link_local
    if ip.is_multicast:
        return Blocked.multicast
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return Blocked.cgnat
    if ip.is_reserved:
        return Blocked.reserved
    if ip.is_private:
        return Blocked.private
    if not ip.is_global:
        return Blocked.reserved
    return None


# ---------------------------------------------------------------------------------------------
# What may be reached although it is not public
# ---------------------------------------------------------------------------------------------
EVERYTHING = ("0.0.0.0/0", "::/0")  # what the deprecated KNOWLEDGE_ALLOW_PRIVATE_URLS=true means


@lru_cache(maxsize=8)
def _allowance(networks: str, legacy_allow_all: bool) -> Allowance:
    allowance = Allowance.parse(networks)
    if legacy_allow_all:
        log.warning(
            "KNOWLEDGE_ALLOW_PRIVATE_URLS is deprecated: it now allows every private network for every "
            "outbound fetch; set EGRESS_ALLOW_PRIVATE_NETWORKS to what you need instead"
        )
        allowance = Allowance(allowance.networks + Allowance.parse(EVERYTHING).networks, allowance.endpoints)
    return allowance


def configured_allowance() -> Allowance:
    """EGRESS_ALLOW_PRIVATE_NETWORKS (plus the deprecated KNOWLEDGE_ALLOW_PRIVATE_URLS), read now:
    long-lived clients follow a change of settings."""
    from runtime.config import get_settings

    settings = get_settings()
    return _allowance(settings.egress_allow_private_networks, settings.knowledge_allow_private_urls)


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------
class EgressRefused(httpx.TransportError):
    """A connection the guard refused: the destination is not public and not allowed. The message
    (pt-BR) may be shown to the owner; it never names the internal address. Raised from inside a
    guarded client's transport (an httpx TransportError: no request left the machine)."""

    def __init__(self, host: str, reason: Blocked, address: str | None = None) -> None:
        super().__init__(
            f"Endereço não permitido: {host} aponta para uma rede interna ou local. "
            "Use um endereço público (na internet)."
        )
        self.host, self.reason, self.address = host, reason, address


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def admit(host: str, port: int, *, allowance: Allowance | None = None, resolver: Resolver | None = None) -> list[str]:
    """Resolve `host` once; return its addresses when every one may be reached (connect to these,
    never to the name again). Raises EgressRefused, or httpcore.ConnectError when it does not resolve."""
    name = normal_host(host)
    if name in METADATA_HOSTS or name.endswith(".metadata.google.internal"):
        raise EgressRefused(host, Blocked.metadata)
    addresses = _literal(name) or _lookup(host, port, resolver or system_resolver)
    allowed = allowance if allowance is not None else configured_allowance()
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError as exc:
            raise EgressRefused(host, Blocked.reserved, text) from exc
        reason = classify(ip)
        if reason is None:
            continue
        if reason in NEVER_ALLOWED or not allowed.allows(ip, host=host, port=port):
            log.info("egress refused host=%s port=%s address=%s reason=%s", host, port, text, reason)
            raise EgressRefused(host, reason, text)
    return addresses


def _literal(host: str) -> list[str]:
    """An IP literal needs no lookup."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return []


def _lookup(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        addresses = list(resolver(host, port))
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise httpcore.ConnectError(f"could not resolve {host}")
    return addresses


def check_url(url: str, *, allowance: Allowance | None = None, resolver: Resolver | None = None) -> None:
    """Validate a URL someone is about to save (a channel's API address, an agent's LLM server): a
    valid http(s) URL whose host is not internal. A host that does not resolve now is accepted (the
    guard checks again at every connection). Raises EgressRefused or ValueError (pt-BR messages)."""
    parts = _parts(url)
    with contextlib.suppress(httpcore.ConnectError):
        admit(parts.hostname or "", _default_port(parts), allowance=allowance, resolver=resolver)


def _parts(url: str):
    try:
        parts = urlsplit((url or "").strip())
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        raise ValueError("Endereço inválido.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("Use um endereço que comece com http:// ou https://.")
    if not parts.hostname:
        raise ValueError("Endereço inválido: falta o nome do servidor.")
    return parts


def _default_port(parts) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with default ports filled in: where a credential is sent."""
    parts = urlsplit((url or "").strip())
    try:
        port = _default_port(parts)
    except ValueError:
        port = -1
    return parts.scheme.lower(), normal_host(parts.hostname or ""), port


# ---------------------------------------------------------------------------------------------
# httpcore network backends and httpx transports
# ---------------------------------------------------------------------------------------------
class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting only to addresses `admit` returned."""

    def __init__(self, *, allowance: Allowance | None = None, resolver: Resolver | None = None) -> None:
        self._inner = httpcore.SyncBackend()
        self._allowance, self._resolver = allowance, resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in admit(host, port, allowance=self._allowance, resolver=self._resolver):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"could not connect to {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise EgressRefused(path, Blocked.reserved)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, connecting only to addresses `admit` returned (the lookup runs in
    a thread, bounded by the connect timeout)."""

    def __init__(self, *, allowance: Allowance | None = None, resolver: Resolver | None = None) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allowance, self._resolver = allowance, resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        def check() -> list[str]:
            return admit(host, port, allowance=self._allowance, resolver=self._resolver)

        try:
            with anyio.fail_after(timeout):
                addresses = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"looking up {host} took longer than {timeout}s") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"could not connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise EgressRefused(path, Blocked.reserved)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _pool_options(limits: httpx.Limits) -> dict[str, Any]:
    return {
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on a GuardedBackend. httpx exposes no `network_backend`, so the connection
    pool it builds is replaced by one on the guarded backend (HTTPTransport uses only `_pool`)."""

    def __init__(
        self,
        *,
        allowance: Allowance | None = None,
        resolver: Resolver | None = None,
        verify: Any = True,
        limits: httpx.Limits = LIMITS,
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=True)
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            network_backend=GuardedBackend(allowance=allowance, resolver=resolver),
            **_pool_options(limits),
        )


class AsyncGuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's async transport on an AsyncGuardedBackend (see GuardedTransport)."""

    def __init__(
        self,
        *,
        allowance: Allowance | None = None,
        resolver: Resolver | None = None,
        verify: Any = True,
        limits: httpx.Limits = LIMITS,
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=True)
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=AsyncGuardedBackend(allowance=allowance, resolver=resolver),
            **_pool_options(limits),
        )


class DualGuardedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """One transport object for SDKs that hand the same client arguments to a sync and an async
    httpx client (google-genai through langchain-google-genai's `client_args`)."""

    def __init__(self, *, allowance: Allowance | None = None, resolver: Resolver | None = None) -> None:
        self._sync = GuardedTransport(allowance=allowance, resolver=resolver)
        self._async = AsyncGuardedTransport(allowance=allowance, resolver=resolver)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


def client(*, allowance: Allowance | None = None, resolver: Resolver | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx.Client whose every connection (redirects included) goes through the guard.
    `allowance`: None = EGRESS_ALLOW_PRIVATE_NETWORKS; `resolver`: None = the system's."""
    return httpx.Client(transport=GuardedTransport(allowance=allowance, resolver=resolver), trust_env=False, **kwargs)


def async_client(
    *, allowance: Allowance | None = None, resolver: Resolver | None = None, **kwargs: Any
) -> httpx.AsyncClient:
    """The async twin of `client`."""
    return httpx.AsyncClient(
        transport=AsyncGuardedTransport(allowance=allowance, resolver=resolver), trust_env=False, **kwargs
    )


@lru_cache(maxsize=1)
def shared_client() -> httpx.Client:
    """One guarded sync client per process for SDKs that keep a client (the LLM clients); it reads
    the allowance at every connection, so it follows a change of settings."""
    return client()


@lru_cache(maxsize=1)
def shared_async_client() -> httpx.AsyncClient:
    return async_client()


# ---------------------------------------------------------------------------------------------
# Fetching a URL: redirects hop by hop, bytes capped while streaming, one deadline
# ---------------------------------------------------------------------------------------------
class Failure(StrEnum):
    invalid_url = "invalid_url"
    blocked = "blocked"
    not_found = "not_found"  # the host does not resolve
    connection = "connection"
    timeout = "timeout"
    too_large = "too_large"
    too_many_redirects = "too_many_redirects"
    http_status = "http_status"


class FetchError(Exception):
    """A fetch that did not bring the body back. `failure` says why; `host`, `status_code` and
    `limit` (bytes) the details a caller words its own message with. The message is pt-BR."""

    def __init__(
        self, failure: Failure, message: str, *, host: str = "", status_code: int | None = None, limit: int = 0
    ) -> None:
        super().__init__(message)
        self.failure, self.host, self.status_code, self.limit = failure, host, status_code, limit


@dataclass(frozen=True)
class Fetched:
    content: bytes
    headers: httpx.Headers
    url: str  # after the redirects
    status_code: int

    def json(self) -> Any:
        return json.loads(self.content)


def format_size(n: int) -> str:
    """Bytes as people read them, pt-BR decimals: '16 MB', '2,5 MB', '5 KB', '900 bytes'."""
    for unit, size in (("MB", 1_000_000), ("KB", 1000)):
        if n >= size:
            return f"{round(n / size, 1):g}".replace(".", ",") + f" {unit}"
    return f"{n} bytes"


def _checked_url(url: str) -> str:
    try:
        parts = _parts(url)
    except ValueError as exc:
        raise FetchError(Failure.invalid_url, str(exc)) from exc
    return parts.geturl()


def _too_large(limit: int, host: str) -> FetchError:
    return FetchError(Failure.too_large, f"Arquivo maior que o limite de {format_size(limit)}.", host=host, limit=limit)


def _timeout(host: str, seconds: float) -> FetchError:
    return FetchError(Failure.timeout, f"Tempo esgotado ({seconds:g} s) ao baixar de {host}.", host=host)


def _transport_failure(exc: Exception, host: str) -> FetchError:
    if isinstance(exc, EgressRefused):
        return FetchError(Failure.blocked, str(exc), host=host)
    if isinstance(exc, httpx.ConnectError) and "could not resolve" in str(exc):
        return FetchError(Failure.not_found, f"Servidor não encontrado: {host}.", host=host)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(Failure.timeout, f"Tempo esgotado ao baixar de {host}.", host=host)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return FetchError(Failure.invalid_url, "Endereço inválido.", host=host)
    return FetchError(Failure.connection, f"Não foi possível conectar a {host}.", host=host)


def _next_hop(response: httpx.Response, current: str, headers: dict[str, str], auth: Any, hops: int, limit: int):
    """Where a redirect points, and what may be sent there: credentials stay with their origin."""
    location = response.headers.get("location")
    if not location:
        raise FetchError(
            Failure.http_status,
            f"O servidor respondeu HTTP {response.status_code} sem destino.",
            host=urlsplit(current).hostname or "",
            status_code=response.status_code,
        )
    if hops >= limit:
        raise FetchError(
            Failure.too_many_redirects, "O endereço redirecionou vezes demais.", host=urlsplit(current).hostname or ""
        )
    target = _checked_url(urljoin(current, location))
    if origin(target) != origin(current):
        headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        auth = None
    return target, headers, auth


def _status_failure(response: httpx.Response, host: str) -> FetchError:
    return FetchError(
        Failure.http_status,
        f"O servidor respondeu HTTP {response.status_code}.",
        host=host,
        status_code=response.status_code,
    )


def _declared_too_large(response: httpx.Response, max_bytes: int) -> bool:
    declared = response.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes


async def fetch(
    url: str,
    *,
    max_bytes: int,
    deadline_seconds: float,
    headers: Mapping[str, str] | None = None,
    auth: Any = None,
    max_redirects: int = MAX_REDIRECTS,
    allowance: Allowance | None = None,
    resolver: Resolver | None = None,
) -> Fetched:
    """GET `url` through the guard, following at most `max_redirects` redirects, with at most
    `max_bytes` of (decoded) body and everything done within `deadline_seconds`. Raises FetchError."""
    current = _checked_url(url)
    sent_headers, sent_auth = dict(headers or {}), auth
    started = time.monotonic()
    host = urlsplit(current).hostname or ""
    try:
        with anyio.fail_after(deadline_seconds):
            async with async_client(allowance=allowance, resolver=resolver) as http:
                for hops in range(max_redirects + 1):
                    host = urlsplit(current).hostname or ""
                    timeout = max(0.01, deadline_seconds - (time.monotonic() - started))
                    try:
                        async with http.stream(
                            "GET", current, headers=sent_headers, auth=sent_auth, timeout=timeout
                        ) as response:
                            if response.status_code in REDIRECT_STATUSES:
                                current, sent_headers, sent_auth = _next_hop(
                                    response, current, sent_headers, sent_auth, hops, max_redirects
                                )
                                continue
                            if not response.is_success:
                                raise _status_failure(response, host)
                            if _declared_too_large(response, max_bytes):
                                raise _too_large(max_bytes, host)
                            chunks, size = [], 0
                            async for chunk in response.aiter_bytes():  # decoded: a gzip bomb hits the cap too
                                size += len(chunk)
                                if size > max_bytes:
                                    raise _too_large(max_bytes, host)
                                chunks.append(chunk)
                            return Fetched(b"".join(chunks), response.headers, current, response.status_code)
                    except httpx.HTTPError as exc:
                        raise _transport_failure(exc, host) from exc
    except TimeoutError as exc:
        raise _timeout(host, deadline_seconds) from exc
    raise AssertionError("unreachable")  # the loop returns or raises


def fetch_sync(
    url: str,
    *,
    max_bytes: int,
    deadline_seconds: float,
    headers: Mapping[str, str] | None = None,
    auth: Any = None,
    max_redirects: int = MAX_REDIRECTS,
    allowance: Allowance | None = None,
    resolver: Resolver | None = None,
) -> Fetched:
    """`fetch` for synchronous code. Each network operation gets what is left of the deadline, and
    the deadline is checked after every chunk, so a slow drip ends within about one read timeout."""
    current = _checked_url(url)
    sent_headers, sent_auth = dict(headers or {}), auth
    deadline = time.monotonic() + deadline_seconds
    with client(allowance=allowance, resolver=resolver) as http:
        for hops in range(max_redirects + 1):
            host = urlsplit(current).hostname or ""
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout(host, deadline_seconds)
            try:
                with http.stream("GET", current, headers=sent_headers, auth=sent_auth, timeout=remaining) as response:
                    if response.status_code in REDIRECT_STATUSES:
                        current, sent_headers, sent_auth = _next_hop(
                            response, current, sent_headers, sent_auth, hops, max_redirects
                        )
                        continue
                    if not response.is_success:
                        raise _status_failure(response, host)
                    if _declared_too_large(response, max_bytes):
                        raise _too_large(max_bytes, host)
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise _too_large(max_bytes, host)
                        if time.monotonic() > deadline:
                            raise _timeout(host, deadline_seconds)
                        chunks.append(chunk)
                    return Fetched(b"".join(chunks), response.headers, current, response.status_code)
            except httpx.TimeoutException as exc:
                raise _timeout(host, deadline_seconds) from exc
            except httpx.HTTPError as exc:
                raise _transport_failure(exc, host) from exc
    raise AssertionError("unreachable")
