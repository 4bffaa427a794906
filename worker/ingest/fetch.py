"""Outbound HTTP, in one place: timeouts, an overall deadline, a size cap, address checks and conditional GET.

feedparser has no timeout of its own (feedparser#76) and httpx's read timeout is per chunk (httpx#1450), so
every feed and page is fetched here, streamed against a wall-clock deadline and a byte cap, and only then
handed to a parser as bytes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from newswatch.worker.config import Settings
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.addresses import AllowList
from newswatch.worker.ingest.hostlimits import HostLimits, LimitedTransport
from newswatch.worker.ingest.transport import GuardedTransport, Refused

LOGGER = logging.getLogger(__name__)

MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchResult:
    """A response worth parsing (200) or a confirmation that nothing changed (304)."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def http_client(settings: Settings, limits: HostLimits | None = None) -> httpx.Client:
    """The one HTTP client factory, for feeds, pages and alert channels alike: timeouts, user agent, bounded
    redirects, and the guarded transport (public addresses or NEWSWATCH_ALLOW_HOSTS only, bodies capped),
    under the per-host `limits` when given."""
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    allow = AllowList.parse(settings.allow_hosts or ())
    transport: httpx.BaseTransport = GuardedTransport(
        allow=allow, max_bytes=max(settings.max_feed_bytes, settings.max_page_bytes)
    )
    if limits is not None:
        transport = LimitedTransport(transport, limits, wait=settings.host_wait)
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": user_agent(settings), "Accept-Encoding": "gzip, deflate"},
    )


def user_agent(settings: Settings) -> str:
    """NEWSWATCH_USER_AGENT, naming NEWSWATCH_CONTACT_URL (so a site owner knows whom to ask) when it is set."""
    agent, contact = settings.user_agent, settings.contact_url
    if not contact or contact in agent:
        return agent
    if agent == Settings.user_agent:  # the default, a class attribute
        return f"newswatch/0.1 (news monitoring; +{contact})"
    return f"{agent} (+{contact})"


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET `url`, conditionally when validators are given; raise `FetchError` naming the URL on any failure."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"fetch: unsupported URL scheme: {url}", url=url)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        # No single wait may outlast the whole deadline.
        timeout = httpx.Timeout(
            min(deadline, client.timeout.read or deadline), connect=min(deadline, client.timeout.connect or deadline)
        )
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return _result(url, response, b"")
            _check_status(url, response)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"fetch: body over {max_bytes} bytes ({declared} declared): {url}", url=url)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"fetch: body over {max_bytes} bytes: {url}", url=url)
                if time.monotonic() - started > deadline:
                    raise _timeout(url, "total", deadline)
            if time.monotonic() - started > deadline:
                raise _timeout(url, "total", deadline)
            return _result(url, response, bytes(body))
    except httpx.TimeoutException as exc:
        raise _timeout_fired(url, exc, timeout, deadline) from exc
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"fetch: more than {MAX_REDIRECTS} redirects: {url}", url=url) from exc
    except Refused as exc:
        raise _refused(url, exc) from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"fetch: not a valid URL ({exc}): {url}", url=url) from None
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
        raise FetchError(f"fetch: {reason} ({exc}): {url}", url=url, transient=True) from exc


def _refused(url: str, exc: Refused) -> FetchError:
    """The guard's refusal, naming the URL (and the redirect refused); permanent: only configuration helps."""
    where = url if exc.url in (None, url) else f"{url}: redirected to {exc.url}"
    hint = f"; {exc.hint}" if exc.hint else ""
    return FetchError(f"fetch: refused {where}: {exc.reason}{hint}", url=url)


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    transient = status >= 500 or status in (408, 425, 429)
    wait = retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
    said = f" (retry after {wait:.0f}s)" if wait is not None else ""
    raise FetchError(f"fetch: status {status}{said}: {url}", url=url, transient=transient, retry_after=wait)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait, given as seconds or as an HTTP date (RFC 9110 10.2.3)."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" in the date: UTC all the same
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_TIMEOUTS = {
    "connect": ("no connection within {:g}s", "NEWSWATCH_CONNECT_TIMEOUT"),
    "read": ("no data for {:g}s", "NEWSWATCH_READ_TIMEOUT"),
    "write": ("request not sent within {:g}s", "NEWSWATCH_READ_TIMEOUT"),
    "pool": ("no free connection within {:g}s", "NEWSWATCH_READ_TIMEOUT"),
    "total": ("not done within {:g}s", "NEWSWATCH_FETCH_DEADLINE"),
}


def _timeout_fired(url: str, exc: httpx.TimeoutException, timeout: httpx.Timeout, deadline: float) -> FetchError:
    """Name the timeout httpx hit; one cut short by the deadline is the deadline's."""
    kind = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "pool",
    }.get(type(exc), "read")
    seconds = getattr(timeout, kind)
    if seconds is None or seconds >= deadline:
        return _timeout(url, "total", deadline)
    return _timeout(url, kind, seconds)


def _timeout(url: str, kind: str, seconds: float) -> FetchError:
    what, variable = _TIMEOUTS[kind]
    message = f"fetch: timed out: {what.format(seconds)} ({kind} timeout, {variable}): {url}"
    return FetchError(message, url=url, transient=True)


def _result(url: str, response: httpx.Response, body: bytes) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
