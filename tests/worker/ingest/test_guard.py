"""The address guard end to end, on loopback only: refused before connecting, every redirect checked again,
the connection made to the address that was checked, and compressed bodies cut at the cap as they inflate."""

from __future__ import annotations

import socket
import ssl
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.worker.config import Settings
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.fetch import fetch, http_client
from newswatch.worker.ingest.transport import PIECE
from tests.conftest import loopback_server

HINT = "list the host in NEWSWATCH_ALLOW_HOSTS to allow it"
TLS = Path(__file__).resolve().parents[2] / "fixtures" / "tls"


def guarded(allow: str = "") -> httpx.Client:
    """The worker's client with only `allow` listed (the tests' own loopback hosts are listed otherwise)."""
    return http_client(Settings(allow_hosts=allow or None, connect_timeout=2, read_timeout=5))


@pytest.fixture
def origin() -> Iterator[HTTPServer]:
    """A server on 127.0.0.1 (the one the tests redirect from)."""
    with loopback_server() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[HTTPServer]:
    """Another server on 127.0.0.1, on another port (the one redirects point to)."""
    with loopback_server() as server:
        yield server


def resolving(monkeypatch: pytest.MonkeyPatch, name: str, *answers: str) -> list[str]:
    """Make `name` resolve to each of `answers` in turn (loopback addresses only); returns the lookups made."""
    real = socket.getaddrinfo
    remaining = list(answers)
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            asked.append(host)
            return real(remaining.pop(0) if len(remaining) > 1 else remaining[0], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_with_no_host_listed_a_loopback_feed_is_refused_before_connecting(origin: HTTPServer, host: str) -> None:
    origin.expect_request("/feed").respond_with_data("<rss/>")
    url = f"http://{host}:{origin.port}/feed"
    with guarded() as client, pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=5)
    assert str(caught.value).startswith(f"fetch: refused {url}: loopback ")
    assert str(caught.value).endswith(f"; {HINT}")
    assert not caught.value.transient
    assert origin.log == []


def test_the_refusal_names_the_url_and_the_address() -> None:
    url = "http://10.0.0.1/feed"  # refused on the URL alone: nothing is sent anywhere
    with guarded() as client, pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=5)
    assert str(caught.value) == f"fetch: refused {url}: private address 10.0.0.1; {HINT}"


def test_a_name_is_judged_on_the_address_it_resolves_to(monkeypatch: pytest.MonkeyPatch, origin: HTTPServer) -> None:
    resolving(monkeypatch, "feeds.test", "127.0.0.1")
    origin.expect_request("/feed").respond_with_data("<rss/>")
    url = f"http://feeds.test:{origin.port}/feed"
    with guarded() as client, pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=5)
    assert str(caught.value) == f"fetch: refused {url}: loopback address 127.0.0.1; {HINT}"
    assert origin.log == []


@pytest.mark.parametrize("target", ["127.0.0.1", "localhost"])
def test_a_redirect_to_a_host_or_port_not_listed_is_refused(
    origin: HTTPServer, elsewhere: HTTPServer, target: str
) -> None:
    moved = f"http://{target}:{elsewhere.port}/feed"
    origin.expect_request("/feed").respond_with_data("", status=302, headers={"Location": moved})
    elsewhere.expect_request("/feed").respond_with_data("<rss/>")
    url = f"http://127.0.0.1:{origin.port}/feed"
    with guarded(f"127.0.0.1:{origin.port}") as client, pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=5)
    assert str(caught.value).startswith(f"fetch: refused {url}: redirected to {moved}: loopback ")
    assert not caught.value.transient
    assert len(origin.log) == 1 and elsewhere.log == []


def test_a_redirect_to_another_scheme_is_refused(origin: HTTPServer) -> None:
    origin.expect_request("/feed").respond_with_data("", status=301, headers={"Location": "file:///etc/passwd"})
    with guarded(f"127.0.0.1:{origin.port}") as client, pytest.raises(FetchError) as caught:
        fetch(client, f"http://127.0.0.1:{origin.port}/feed", max_bytes=1000, deadline=5)
    assert "redirected to file://" in str(caught.value)
    assert str(caught.value).endswith("/etc/passwd: scheme file is not http or https")
    assert not caught.value.transient


def test_listed_servers_are_fetched_across_a_redirect(origin: HTTPServer, elsewhere: HTTPServer) -> None:
    moved = f"http://127.0.0.1:{elsewhere.port}/feed"
    origin.expect_request("/feed").respond_with_data("", status=302, headers={"Location": moved})
    elsewhere.expect_request("/feed").respond_with_data("<rss/>")
    with guarded(f"127.0.0.1:{origin.port},127.0.0.1:{elsewhere.port}") as client:
        result = fetch(client, f"http://127.0.0.1:{origin.port}/feed", max_bytes=1000, deadline=5)
    assert (result.final_url, result.body) == (moved, b"<rss/>")


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch, origin: HTTPServer
) -> None:
    # A second answer for the name would be 127.0.0.2, where nothing listens: only the first one is used.
    asked = resolving(monkeypatch, "feeds.test", "127.0.0.1", "127.0.0.2")
    origin.expect_request("/feed").respond_with_handler(lambda request: Response(request.headers["Host"]))
    with guarded(f"127.0.0.1:{origin.port}") as client:
        result = fetch(client, f"http://feeds.test:{origin.port}/feed", max_bytes=1000, deadline=5)
    assert result.body == f"feeds.test:{origin.port}".encode()  # the URL's host is the Host header
    assert asked == ["feeds.test"]


def test_https_goes_to_the_checked_address_and_verifies_the_url_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))  # the test CA (tests/fixtures/tls), trusted here only
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "feeds.test.pem", TLS / "feeds.test.key")  # a certificate for feeds.test
    names: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: names.append(name)
    asked = resolving(monkeypatch, "feeds.test", "127.0.0.1", "127.0.0.2")
    with loopback_server(ssl_context=context) as server, guarded(f"127.0.0.1:{server.port}") as client:
        server.expect_request("/feed").respond_with_handler(lambda request: Response(request.headers["Host"]))
        result = fetch(client, f"https://feeds.test:{server.port}/feed", max_bytes=1000, deadline=5)
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):  # the certificate is not the address's
            fetch(client, f"https://127.0.0.1:{server.port}/feed", max_bytes=1000, deadline=5)
    assert result.body == f"feeds.test:{server.port}".encode()
    assert names == ["feeds.test", None] and asked == ["feeds.test"]  # SNI names the host; an address, nothing


def _compressed(encoding: str, size: int) -> bytes:
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[encoding]
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"\0" * 1_000_000
    return b"".join(compressor.compress(block) for _ in range(size // len(block))) + compressor.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_stops_at_the_cap_while_it_inflates(httpserver: HTTPServer, encoding: str) -> None:
    bomb = _compressed(encoding, 200_000_000)  # about 200 KB that inflate to 200 MB
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": encoding})
    with guarded("localhost") as client, pytest.raises(FetchError, match="over 1000000 bytes"):
        fetch(client, httpserver.url_for("/bomb"), max_bytes=1_000_000, deadline=30)
    settings = Settings(allow_hosts=["localhost"], max_feed_bytes=1_000_000, max_page_bytes=1_000_000)
    inflated: list[int] = []
    with (
        http_client(settings) as client,
        client.stream("GET", httpserver.url_for("/bomb")) as response,
        pytest.raises(httpx.DecodingError, match="over 1000000 bytes"),
    ):
        for piece in response.iter_raw():  # the body as the client hands it on, decoded
            inflated.append(len(piece))
    assert max(inflated) <= PIECE  # inflated a piece at a time, never a whole network chunk
    assert sum(inflated) <= 1_000_000  # and stopped at the cap, far from the 200 MB it would become


@pytest.mark.parametrize(("encoding", "sent"), [("gzip", "gzip"), ("deflate", "deflate"), ("deflate", "raw-deflate")])
def test_compressed_bodies_are_read_whole(httpserver: HTTPServer, encoding: str, sent: str) -> None:
    text = b"<rss>" + b"<item>near-identical</item>" * 20_000 + b"</rss>"
    compressor = zlib.compressobj(6, zlib.DEFLATED, {"gzip": 31, "deflate": 15, "raw-deflate": -15}[sent])
    body = compressor.compress(text) + compressor.flush()

    def handler(request: Request) -> Response:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        return Response(body, headers={"Content-Encoding": encoding})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    with guarded("localhost") as client:
        result = fetch(client, httpserver.url_for("/feed"), max_bytes=len(text), deadline=10)
    assert result.body == text
