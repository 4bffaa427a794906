"""The guarded transport under the one HTTP client: address checks at connect time and bodies cut at the cap.

Every request (the first, each redirect, an alert channel's POST) is checked where its connection is
made: the host is resolved once, each address judged (`worker.ingest.addresses`), and the socket is
opened to an address that was accepted, never to a second DNS answer; TLS still verifies, and sends SNI
for, the host name of the URL. Only http and https are spoken; proxies from the environment are not
used (a proxy would connect for us, unchecked).

Compressed bodies are decoded here, in pieces of at most `PIECE` bytes, so that whoever reads the body
stops at its size cap while decompressing: httpx's own decoders inflate a whole network chunk at once
(64 KiB of gzip can become 64 MB). No body passes `max_bytes` whatever reads it.

httpx's `HTTPTransport` takes no network backend, so the pool it builds is replaced by one with the
checking backend (`_pool`, stable within the httpx versions pyproject.toml allows).
"""

from __future__ import annotations

import ipaddress
import socket
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from newswatch.worker.ingest.addresses import ALLOW_HINT, DEFAULT_PORTS, SCHEMES, AllowList, refusal, url_refusal

PIECE = 64 * 1024


class Refused(PermissionError):
    """A request the guard refused before connecting: a non-public address not allowed, or another scheme.

    A `PermissionError`, so that alert channels, which may not import the worker, tell it from a network
    failure without knowing this class: retrying will not help, only configuration will.
    """

    def __init__(self, target: str, reason: str, *, hint: str | None = ALLOW_HINT) -> None:
        self.target = target
        self.reason = reason
        self.hint = hint
        self.url: str | None = None
        """The request's URL (a redirect's, when it was the redirect that was refused)."""
        super().__init__(f"refused {target}: {reason}" + (f"; {hint}" if hint else ""))


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting only where `allow` or a public address permits, bodies capped."""

    def __init__(self, *, allow: AllowList, max_bytes: int, limits: httpx.Limits | None = None) -> None:
        ssl_context = httpx.create_ssl_context()  # certificates checked, as httpx's default
        super().__init__(verify=ssl_context, trust_env=False)
        limits = limits or httpx.Limits()
        self.allow = allow
        self.max_bytes = max_bytes
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(allow),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        try:
            if url.scheme not in SCHEMES:
                raise Refused(f"{url.scheme}://{url.host}", f"scheme {url.scheme} is not http or https", hint=None)
            reason = url_refusal(str(url), self.allow)
            if reason is not None:
                raise Refused(f"{url.host}:{url.port or DEFAULT_PORTS[url.scheme]}", reason)
            response = super().handle_request(request)
        except Refused as exc:
            exc.url = str(url)
            raise
        return capped(response, self.max_bytes)


class CheckedBackend(httpcore.NetworkBackend):
    """Resolves each host once and opens the socket to an address the guard accepted."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        accepted, reasons = [], []
        for address in _resolve(host, port):
            reason = refusal(host, port, ipaddress.ip_address(address), self.allow)
            if reason is None:
                accepted.append(address)
            else:
                reasons.append(reason)
        if not accepted:
            raise Refused(f"{host}:{port}", reasons[0] if reasons else "no address")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in accepted:
            try:
                return self._tcp.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise Refused(path, "unix sockets are not outbound HTTP", hint=None)

    def sleep(self, seconds: float) -> None:
        self._tcp.sleep(seconds)


def _resolve(host: str, port: int) -> list[str]:
    """Every address of the host, in the resolver's order, without scope ids; one lookup per connection."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos)
    return list(addresses)


def capped(response: httpx.Response, max_bytes: int) -> httpx.Response:
    """The response with its body decoded here (gzip, deflate) and cut at `max_bytes`, in bounded pieces."""
    encodings = [e.strip().lower() for e in response.headers.get("Content-Encoding", "").split(",") if e.strip()]
    headers = response.headers
    if encodings:
        headers = httpx.Headers([(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"])
        if "content-length" in headers:
            del headers["content-length"]
    assert isinstance(response.stream, httpx.SyncByteStream)
    return httpx.Response(
        response.status_code,
        headers=headers,
        stream=CappedStream(response.stream, encodings, max_bytes),
        extensions=response.extensions,
    )


class CappedStream(httpx.SyncByteStream):
    """A body decoded layer by layer, each piece at most `PIECE` bytes, and cut past `max_bytes`."""

    def __init__(self, raw: httpx.SyncByteStream, encodings: list[str], max_bytes: int) -> None:
        self.raw = raw
        self.encodings = encodings
        self.max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter(self.raw)
        for encoding in reversed(self.encodings):  # the last one listed was applied last
            if encoding in ("gzip", "x-gzip", "deflate"):
                pieces = _inflate(pieces, encoding)
        total = 0
        for piece in pieces:
            total += len(piece)
            if total > self.max_bytes:
                raise httpx.DecodingError(f"response body over {self.max_bytes} bytes")
            yield piece

    def close(self) -> None:
        self.raw.close()


def _inflate(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """Inflate gzip or deflate in pieces of at most PIECE bytes."""
    decompressor = None
    try:
        for chunk in chunks:
            if not chunk:
                continue
            decompressor = decompressor or _decompressor(encoding, chunk)
            yield from _pieces(decompressor, chunk)
        rest = decompressor.flush() if decompressor else b""
    except zlib.error as exc:
        raise httpx.DecodingError(f"cannot decode {encoding} body: {exc}") from exc
    if rest:
        yield rest


def _decompressor(encoding: str, first: bytes) -> Any:
    if encoding != "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    # "deflate" is zlib-wrapped by the standard, raw deflate from some servers: read the zlib header if any.
    wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
    return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)


def _pieces(decompressor: Any, data: bytes) -> Iterator[bytes]:
    while True:
        piece = decompressor.decompress(data, PIECE)
        if piece:
            yield piece
        data = decompressor.unconsumed_tail
        if not data and len(piece) < PIECE:
            return
