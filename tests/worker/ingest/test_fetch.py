"""Fetching feeds and pages: conditional GET, size cap, deadline, and errors that name the URL."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.worker.config import Settings
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.fetch import fetch, http_client


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with http_client(Settings(connect_timeout=2, read_timeout=5)) as c:
        yield c


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A loopback port whose listen queue is full: the kernel drops new connection requests, so a connect waits
    out its timeout (a closed port would refuse at once)."""
    with socket.socket() as listener, ExitStack() as queued:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(3):
            waiting = queued.enter_context(socket.socket())
            waiting.setblocking(False)
            waiting.connect_ex(("127.0.0.1", port))
        yield port


def test_it_returns_the_body_and_the_validators(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"abc"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"},
    )
    result = fetch(client, httpserver.url_for("/feed"), max_bytes=1000, deadline=5)
    assert (result.status, result.body, result.etag) == (200, b"<rss/>", '"abc"')
    assert result.last_modified == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert result.content_type == "application/rss+xml"
    assert not result.not_modified


def test_it_sends_the_validators_and_understands_304(httpserver: HTTPServer, client: httpx.Client) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"abc"' and request.headers.get("If-Modified-Since"):
            return Response(status=304)
        return Response("<rss/>")

    httpserver.expect_request("/feed").respond_with_handler(handler)
    result = fetch(
        client,
        httpserver.url_for("/feed"),
        max_bytes=1000,
        deadline=5,
        etag='"abc"',
        last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
    )
    assert result.not_modified and result.body == b""


@pytest.mark.parametrize("declared", [True, False])
def test_it_refuses_a_body_over_the_cap_naming_the_url(
    httpserver: HTTPServer, client: httpx.Client, declared: bool
) -> None:
    def stream() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000

    response = Response(b"x" * 100_000) if declared else Response(stream())
    httpserver.expect_request("/big").respond_with_response(response)
    url = httpserver.url_for("/big")
    with pytest.raises(FetchError, match="over 50000 bytes") as caught:
        fetch(client, url, max_bytes=50_000, deadline=5)
    assert url in str(caught.value)
    assert not caught.value.transient


def test_it_gives_up_at_the_deadline_as_a_transient_error(httpserver: HTTPServer, client: httpx.Client) -> None:
    def slow(_: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    url = httpserver.url_for("/slow")
    with pytest.raises(FetchError, match=r"not done within 0.5s \(total timeout, NEWSWATCH_FETCH_DEADLINE\)") as caught:
        fetch(client, url, max_bytes=1000, deadline=0.5)
    assert url in str(caught.value) and caught.value.transient


def test_a_read_timeout_is_named_with_its_own_seconds_not_the_deadline(httpserver: HTTPServer) -> None:
    def slow(_: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with http_client(Settings(connect_timeout=2, read_timeout=0.5)) as client, pytest.raises(FetchError) as caught:
        fetch(client, httpserver.url_for("/slow"), max_bytes=1000, deadline=30)
    assert str(caught.value) == (
        f"fetch: timed out: no data for 0.5s (read timeout, NEWSWATCH_READ_TIMEOUT): {httpserver.url_for('/slow')}"
    )


def test_a_connect_timeout_is_named_with_its_own_seconds(full_backlog_port: int) -> None:
    url = f"http://127.0.0.1:{full_backlog_port}/feed"
    with http_client(Settings(connect_timeout=0.3, read_timeout=5)) as client, pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=30)
    message = f"fetch: timed out: no connection within 0.3s (connect timeout, NEWSWATCH_CONNECT_TIMEOUT): {url}"
    assert str(caught.value) == message


def test_a_body_that_trickles_in_is_cut_at_the_deadline(httpserver: HTTPServer, client: httpx.Client) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(20):
            time.sleep(0.1)
            yield b"<p>word</p>"

    httpserver.expect_request("/trickle").respond_with_response(Response(trickle()))
    with pytest.raises(FetchError, match="timed out"):
        fetch(client, httpserver.url_for("/trickle"), max_bytes=100_000, deadline=0.5)


@pytest.mark.parametrize(("status", "transient"), [(404, False), (410, False), (429, True), (503, True)])
def test_error_statuses_say_whether_to_retry(
    httpserver: HTTPServer, client: httpx.Client, status: int, transient: bool
) -> None:
    httpserver.expect_request("/page").respond_with_data("no", status=status)
    with pytest.raises(FetchError, match=f"status {status}") as caught:
        fetch(client, httpserver.url_for("/page"), max_bytes=1000, deadline=5)
    assert caught.value.transient is transient


def test_a_refused_connection_is_transient_and_named(client: httpx.Client, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/feed"
    with pytest.raises(FetchError) as caught:
        fetch(client, url, max_bytes=1000, deadline=5)
    assert caught.value.transient and url in str(caught.value)


def test_redirects_are_followed_and_the_final_url_kept(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("here")
    result = fetch(client, httpserver.url_for("/old"), max_bytes=1000, deadline=5)
    assert result.final_url == httpserver.url_for("/new") and result.body == b"here"


def test_only_http_urls_are_fetched(client: httpx.Client) -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme: file:///etc/passwd"):
        fetch(client, "file:///etc/passwd", max_bytes=1000, deadline=5)
