"""How a channel speaks HTTP: one POST through the client it was built with, and what each failure means.

Channels make no HTTP client of their own. The worker owns the one client factory
(`newswatch.worker.ingest.fetch.http_client`: timeouts, the size cap, and the address guard that refuses
loopback, private and cloud metadata addresses unless NEWSWATCH_ALLOW_HOSTS lists them) and hands that
client to the channels when it builds them (`alerts.channels.build_channels(http=...)`). Injecting it,
rather than moving the guard down into a layer alerts may import, keeps the layers one-way (alerts never
import the worker), keeps the guard beside the fetching it mostly serves, and leaves no way around it: a
Slack or webhook channel cannot be built without the client.

What a failure means for `alerts.delivery`'s retry policy:
- refused by the guard (a `PermissionError`, raised before connecting): permanent until the configuration
  changes;
- sent, but no answer in time or the connection dropped: `unknown_outcome`, the receiver may have it;
- not sent (no connection, no name resolution): transient.

Messages never carry the URL: a webhook URL is a secret.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from newswatch.alerts.errors import AlertError


def post(
    http: httpx.Client, url: str, *, channel: str, content: bytes, headers: Mapping[str, str], timeout: float
) -> httpx.Response:
    """POST `content` to `url` (redirects not followed); a failure to get a response is an `AlertError`."""
    try:
        return http.post(url, content=content, headers=dict(headers), timeout=timeout, follow_redirects=False)
    except PermissionError as exc:
        raise AlertError(f"{channel}: {exc}", permanent=True) from None
    except (httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
        raise AlertError(f"{channel}: no answer from the webhook: {type(exc).__name__}", unknown_outcome=True) from None
    except httpx.HTTPError as exc:
        raise AlertError(f"{channel}: unable to reach the webhook: {type(exc).__name__}") from None


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a receiver asked to wait (`Retry-After` in seconds), if it said."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
