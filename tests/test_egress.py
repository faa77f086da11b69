"""The egress guard (runtime/egress.py) against real local servers: which addresses are refused, that
the connection goes to the address that was checked (DNS rebinding: a resolver is injected through
the guard's documented `resolver` parameter), redirects re-checked hop by hop without carrying
credentials to another origin, and the byte cap and deadline enforced while streaming."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime import egress
from runtime.egress import Allowance, Blocked, FetchError, classify
from tests.fakes.servers import free_port, serve_in_thread


# ---------------------------------------------------------------------------------------------
# Address classes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("93.184.215.14", None),
        ("2606:4700::6810:84e5", None),
        ("127.0.0.1", Blocked.loopback),
        ("127.8.9.10", Blocked.loopback),
        ("::1", Blocked.loopback),
        ("10.1.2.3", Blocked.private),
        ("172.16.0.1", Blocked.private),
        ("192.168.0.10", Blocked.private),
        ("fd12:3456::1", Blocked.private),
        ("169.254.10.1", Blocked.link_local),
        ("fe80::1", Blocked.link_local),
        ("169.254.169.254", Blocked.metadata),
        ("fd00:ec2::254", Blocked.metadata),
        ("100.64.0.1", Blocked.cgnat),  # CGNAT, 100.64/10: Python calls it neither private nor global
        ("100.127.255.254", Blocked.cgnat),
        ("100.128.0.1", None),  # just outside 100.64/10
        ("64:ff9b::a00:1", Blocked.nat64),  # NAT64 of 10.0.0.1: Python calls 64:ff9b::/96 global
        ("64:ff9b::5db8:d70e", Blocked.nat64),  # NAT64 is refused whatever it embeds
        ("64:ff9b:1::1", Blocked.nat64),
        ("::ffff:127.0.0.1", Blocked.loopback),  # IPv4-mapped: judged by the IPv4 inside
        ("::ffff:10.0.0.1", Blocked.private),
        ("::ffff:169.254.169.254", Blocked.metadata),
        ("::ffff:93.184.215.14", None),
        ("2002:7f00:1::", Blocked.loopback),  # 6to4 of 127.0.0.1
        ("2002:5db8:d70e::1", None),  # 6to4 of a public address
        ("::7f00:1", Blocked.reserved),  # IPv4-compatible (deprecated)
        ("0.0.0.0", Blocked.unspecified),  # noqa: S104
        ("::", Blocked.unspecified),
        ("224.0.0.1", Blocked.multicast),
        ("ff02::1", Blocked.multicast),
        ("240.0.0.1", Blocked.reserved),
        ("255.255.255.255", Blocked.reserved),
        ("198.18.0.1", Blocked.private),  # benchmarking range
        ("2001:db8::1", Blocked.private),  # documentation
    ],
)
def test_classify(address, expected):
    assert classify(address) == expected


def test_allowance_entries():
    allowance = Allowance.parse("10.0.0.0/8, 127.0.0.1:8080 [::1]:9000 evolution:8080,192.168.1.20")
    allows = allowance.allows
    import ipaddress as ip

    assert allows(ip.ip_address("10.9.9.9"), host="x", port=1)
    assert allows(ip.ip_address("127.0.0.1"), host="127.0.0.1", port=8080)
    assert not allows(ip.ip_address("127.0.0.1"), host="127.0.0.1", port=8081)
    assert allows(ip.ip_address("::1"), host="::1", port=9000)
    assert allows(ip.ip_address("172.18.0.5"), host="Evolution.", port=8080)  # by the name in the URL
    assert allows(ip.ip_address("192.168.1.20"), host="nas", port=5000)
    assert allows(ip.ip_address("::ffff:10.1.2.3"), host="::ffff:10.1.2.3", port=80)  # mapped: its IPv4 counts
    assert not allows(ip.ip_address("192.168.1.21"), host="nas", port=5000)
    assert Allowance.parse("") == Allowance()
    for bad in ("10.0.0.0/33", "localhost", "host:porta", "127.0.0.1:99999"):
        with pytest.raises(ValueError, match="EGRESS_ALLOW_PRIVATE_NETWORKS"):
            Allowance.parse(bad)


def test_a_typo_in_the_setting_fails_at_start_up(monkeypatch):
    from pydantic import ValidationError

    from runtime.config import Settings

    monkeypatch.setenv("EGRESS_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/8,servidor-sem-porta")
    with pytest.raises(ValidationError, match="servidor-sem-porta"):
        Settings()


def test_metadata_and_unspecified_are_never_allowed():
    everything = Allowance.parse("0.0.0.0/0,::/0")
    assert egress.admit("10.0.0.1", 80, allowance=everything) == ["10.0.0.1"]
    for host in (
        "169.254.169.254",
        "fd00:ec2::254",
        "0.0.0.0",  # noqa: S104
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
    ):
        with pytest.raises(egress.EgressRefused):
            egress.admit(host, 80, allowance=everything, resolver=_never_called)


def _never_called(host: str, port: int) -> list[str]:
    raise AssertionError(f"no lookup expected for {host}")


def test_a_name_with_one_internal_address_among_public_ones_is_refused():
    with pytest.raises(egress.EgressRefused) as info:
        egress.admit("loja.example", 443, allowance=Allowance(), resolver=lambda h, p: ["93.184.215.14", "10.0.0.5"])
    assert info.value.reason == Blocked.private
    assert "rede interna" in str(info.value) and "10.0.0.5" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Local servers
# ---------------------------------------------------------------------------------------------
class Seen:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []


def _recording_app(body: str, seen: Seen) -> Starlette:
    async def answer(request: Request) -> Response:
        seen.requests.append({"path": request.url.path, **{k: v for k, v in request.headers.items()}})
        return PlainTextResponse(body)

    return Starlette(routes=[Route("/{path:path}", answer)])


@pytest.fixture(scope="module")
def twins() -> Iterator[tuple[int, Seen, Seen]]:
    """Two servers on ONE port: 127.0.0.1 serves the public page, 127.0.0.2 the internal secret."""
    port = free_port()
    public, internal = Seen(), Seen()
    with (
        serve_in_thread(_recording_app("página pública", public), port=port, host="127.0.0.1"),
        serve_in_thread(_recording_app("SEGREDO-INTERNO", internal), port=port, host="127.0.0.2"),
    ):
        yield port, public, internal


class RebindingResolver:
    """A DNS server under an attacker's control: the first answer is the allowed address, every later
    one the internal address."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then, self.calls = first, then, 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [self.first if self.calls == 1 else self.then]


ONLY_FIRST = Allowance.parse("127.0.0.1/32")  # 127.0.0.2 stands for the internal network


def test_the_connection_goes_to_the_address_that_was_checked(twins):
    port, public, internal = twins
    resolver = RebindingResolver("127.0.0.1", "127.0.0.2")
    page = egress.fetch_sync(
        f"http://loja.example:{port}/promo",
        max_bytes=10_000,
        deadline_seconds=5,
        allowance=ONLY_FIRST,
        resolver=resolver,
    )
    assert page.content.decode() == "página pública"
    assert resolver.calls == 1  # one lookup, no second chance for the attacker's DNS
    assert internal.requests == []
    assert public.requests[-1]["host"] == f"loja.example:{port}"  # HTTP (and TLS) still use the name


def test_rebinding_through_a_guarded_client_and_the_async_fetch(twins):
    port, _public, internal = twins
    resolver = RebindingResolver("127.0.0.1", "127.0.0.2")
    with egress.client(allowance=ONLY_FIRST, resolver=resolver) as http:
        assert http.get(f"http://loja.example:{port}/a").text == "página pública"
        assert http.get(f"http://loja.example:{port}/b").text == "página pública"  # same pooled connection

    resolver = RebindingResolver("127.0.0.1", "127.0.0.2")
    page = asyncio.run(
        egress.fetch(
            f"http://loja.example:{port}/c",
            max_bytes=10_000,
            deadline_seconds=5,
            allowance=ONLY_FIRST,
            resolver=resolver,
        )
    )
    assert page.content.decode() == "página pública" and resolver.calls == 1
    assert internal.requests == []


def test_a_name_that_resolves_to_the_internal_address_is_refused_without_connecting(twins):
    port, _public, internal = twins
    with pytest.raises(FetchError) as info:
        egress.fetch_sync(
            f"http://loja.example:{port}/",
            max_bytes=10_000,
            deadline_seconds=5,
            allowance=ONLY_FIRST,
            resolver=RebindingResolver("127.0.0.2", "127.0.0.1"),
        )
    assert info.value.failure == egress.Failure.blocked
    internal_only = egress.client(allowance=ONLY_FIRST, resolver=lambda h, p: ["127.0.0.2"])
    with internal_only as http, pytest.raises(egress.EgressRefused):
        http.get(f"http://loja.example:{port}/")
    assert internal.requests == []


# ---------------------------------------------------------------------------------------------
# Redirects, size and time
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sites() -> Iterator[dict]:
    """Site A (redirects, streams) and site B (another origin: another port), both recording."""
    seen_a, seen_b = Seen(), Seen()
    sent = {"forever": 0}
    b_port = free_port()
    b = f"http://127.0.0.1:{b_port}"

    async def record(request: Request) -> None:
        seen_a.requests.append({"path": request.url.path, **dict(request.headers)})

    async def to_b(request: Request) -> Response:
        await record(request)
        return RedirectResponse(f"{b}/arquivo", status_code=302)

    async def same_origin(request: Request) -> Response:
        await record(request)
        return RedirectResponse("/final", status_code=307)

    async def final(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("ok")

    async def forever(request: Request) -> Response:
        async def body():
            while True:
                sent["forever"] += 64_000
                yield b"x" * 64_000
                await asyncio.sleep(0)

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def drip(request: Request) -> Response:
        async def body():
            while True:
                yield b"."
                await asyncio.sleep(0.2)

        return StreamingResponse(body(), media_type="text/plain")

    async def silent(request: Request) -> Response:
        await asyncio.sleep(3)
        return PlainTextResponse("tarde")

    async def gzip_bomb(request: Request) -> Response:
        import gzip

        return Response(gzip.compress(b"0" * 5_000_000), headers={"content-encoding": "gzip"})

    app_a = Starlette(
        routes=[
            Route("/para-b", to_b),
            Route("/mesma-origem", same_origin),
            Route("/final", final),
            Route("/para-metadados", lambda r: RedirectResponse("http://169.254.169.254/latest/", status_code=301)),
            Route("/para-rede", lambda r: RedirectResponse("http://10.0.0.1/", status_code=302)),
            Route("/para-ftp", lambda r: RedirectResponse("ftp://127.0.0.1/x", status_code=302)),
            Route("/loop", lambda r: RedirectResponse("/loop", status_code=302)),
            Route("/sempre", forever),
            Route("/gotas", drip),
            Route("/mudo", silent),
            Route("/bomba", gzip_bomb),
        ]
    )
    with serve_in_thread(app_a) as a, serve_in_thread(_recording_app("arquivo de B", seen_b), port=b_port):
        yield {"a": a, "b": b, "seen_a": seen_a, "seen_b": seen_b, "sent": sent}


def _fetch(url: str, **kwargs):
    kwargs.setdefault("max_bytes", 1_000_000)
    kwargs.setdefault("deadline_seconds", 5)
    return asyncio.run(egress.fetch(url, **kwargs))


def test_credentials_stay_with_their_origin_on_redirects(sites):
    page = _fetch(f"{sites['a']}/para-b", headers={"Authorization": "Bearer segredo", "X-Outro": "1"}, auth=None)
    assert page.content == b"arquivo de B" and page.url == f"{sites['b']}/arquivo"
    got = sites["seen_b"].requests[-1]
    assert "authorization" not in got and got["x-outro"] == "1"

    _fetch(f"{sites['a']}/para-b", auth=("AC123", "token-da-conta"))
    assert "authorization" not in sites["seen_b"].requests[-1]

    page = egress.fetch_sync(
        f"{sites['a']}/mesma-origem", max_bytes=100, deadline_seconds=5, headers={"Authorization": "Bearer segredo"}
    )
    assert page.content == b"ok" and sites["seen_a"].requests[-1]["authorization"] == "Bearer segredo"


def test_every_redirect_hop_is_checked(sites):
    only_a = Allowance.parse(f"127.0.0.1:{sites['a'].rsplit(':', 1)[1]}")
    for path in ("/para-b", "/para-metadados", "/para-rede"):
        with pytest.raises(FetchError) as info:
            _fetch(sites["a"] + path, allowance=only_a)
        assert info.value.failure == egress.Failure.blocked, path
        with pytest.raises(FetchError) as info:
            egress.fetch_sync(sites["a"] + path, max_bytes=100, deadline_seconds=5, allowance=only_a)
        assert info.value.failure == egress.Failure.blocked, path
    with pytest.raises(FetchError) as info:
        _fetch(f"{sites['a']}/para-ftp")
    assert info.value.failure == egress.Failure.invalid_url
    with pytest.raises(FetchError) as info:
        _fetch(f"{sites['a']}/loop")
    assert info.value.failure == egress.Failure.too_many_redirects


def test_the_byte_cap_stops_a_body_that_never_ends(sites):
    before = sites["sent"]["forever"]
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        _fetch(f"{sites['a']}/sempre", max_bytes=2_000_000)
    assert info.value.failure == egress.Failure.too_large and "2 MB" in str(info.value)
    with pytest.raises(FetchError) as info:
        egress.fetch_sync(f"{sites['a']}/sempre", max_bytes=2_000_000, deadline_seconds=5)
    assert info.value.failure == egress.Failure.too_large
    assert time.monotonic() - started < 5
    assert sites["sent"]["forever"] - before < 40_000_000  # we stopped reading; it did not stream for 5 s


def test_the_byte_cap_counts_decoded_bytes(sites):
    with pytest.raises(FetchError) as info:
        _fetch(f"{sites['a']}/bomba", max_bytes=1_000_000)
    assert info.value.failure == egress.Failure.too_large


@pytest.mark.parametrize("path", ["/gotas", "/mudo"])
def test_one_deadline_for_the_whole_download(sites, path):
    for run in (
        lambda: _fetch(sites["a"] + path, deadline_seconds=1.0),
        lambda: egress.fetch_sync(sites["a"] + path, max_bytes=1_000_000, deadline_seconds=1.0),
    ):
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            run()
        assert info.value.failure == egress.Failure.timeout
        assert time.monotonic() - started < 2.5


def test_a_guarded_client_following_redirects_itself_is_still_checked(sites):
    only_a = Allowance.parse(f"127.0.0.1:{sites['a'].rsplit(':', 1)[1]}")
    with egress.client(allowance=only_a, follow_redirects=True) as http, pytest.raises(egress.EgressRefused):
        http.get(f"{sites['a']}/para-b")


def test_guarded_clients_ignore_proxies_from_the_environment(sites, monkeypatch):
    """A proxy would connect for us, out of the guard's sight: the environment's is not used."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{free_port()}")
    with egress.client() as http:
        assert http.get(f"{sites['a']}/final").text == "ok"
    with httpx.Client() as plain, pytest.raises(httpx.ConnectError):  # what trust_env would have done
        plain.get(f"{sites['a']}/final")


def test_check_url_for_addresses_being_saved():
    nothing = Allowance()
    for url in ("http://10.0.0.1:8080", "https://169.254.169.254/", "http://[::1]:11434/v1"):
        with pytest.raises(egress.EgressRefused):
            egress.check_url(url, allowance=nothing)
    egress.check_url("https://api.z-api.io", allowance=nothing, resolver=lambda h, p: ["54.94.1.2"])
    egress.check_url("https://nao-resolve.invalid", allowance=nothing)  # checked again when it connects
    with pytest.raises(ValueError, match="http"):
        egress.check_url("ftp://x", allowance=nothing)


def test_origin():
    assert egress.origin("https://API.z-api.io/") == egress.origin("https://api.z-api.io:443/instances")
    assert egress.origin("http://api.z-api.io") != egress.origin("https://api.z-api.io")
    assert egress.origin("https://a.example:8443") != egress.origin("https://a.example")


def test_the_deprecated_knowledge_setting_still_allows_private_networks(monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("EGRESS_ALLOW_PRIVATE_NETWORKS", "")
    monkeypatch.setenv("KNOWLEDGE_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    assert egress.admit("10.0.0.1", 80) == ["10.0.0.1"] and egress.admit("::1", 80) == ["::1"]
    with pytest.raises(egress.EgressRefused):
        egress.admit("169.254.169.254", 80)
    monkeypatch.setenv("KNOWLEDGE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    with pytest.raises(egress.EgressRefused):
        egress.admit("10.0.0.1", 80)
