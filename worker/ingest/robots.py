"""robots.txt, respected for article pages (feeds are published to be polled, so they are not checked).

Each site's robots.txt is fetched through the one guarded client (same timeouts, size cap and address
checks as any page) and kept per site for NEWSWATCH_ROBOTS_TTL seconds. A 4xx means none is published and
every page is allowed (RFC 9309 2.3.1.3). A 5xx or a network error is taken as none published either, but
kept only `UNREACHABLE_TTL`: RFC 9309 2.3.1.4 would disallow the whole site, which would turn every article
of a site whose robots.txt is briefly down into its feed entry's stub. Rules are matched by the stdlib
parser: the first group naming `newswatch` (else `*`), and within it the first matching line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.fetch import fetch

LOGGER = logging.getLogger(__name__)

AGENT = "newswatch"
"""The product token robots.txt groups are matched against."""
MAX_ROBOTS_BYTES = 500_000
"""RFC 9309 2.5: crawlers must read at least 500 KiB; more is not read."""
UNREACHABLE_TTL = 600.0
"""Seconds before a robots.txt that could not be fetched (5xx, network) is asked for again."""


class RobotsCache:
    """Parsed robots.txt per site (`scheme://host:port`), each kept `ttl` seconds; safe across threads."""

    def __init__(
        self, client: httpx.Client, *, ttl: float, deadline: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client, self.ttl, self.deadline, self.clock = client, ttl, deadline, clock
        self._rules: dict[str, tuple[float, RobotFileParser]] = {}
        """Per site: until when (monotonic) its rules hold, and the rules."""
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}
        """Per site: held while its robots.txt is fetched, so pages fetched at once ask for it once."""

    def check(self, url: str) -> None:
        """Return if `url` may be fetched; raise `FetchError` naming the robots.txt when it may not."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        rules = self._cached(site) or self._fetch_once(site)
        if not rules.can_fetch(AGENT, url):
            raise FetchError(f"fetch: disallowed by {site}/robots.txt: {url}", url=url)

    def _cached(self, site: str) -> RobotFileParser | None:
        with self._lock:
            kept = self._rules.get(site)
        return kept[1] if kept and self.clock() < kept[0] else None

    def _fetch_once(self, site: str) -> RobotFileParser:
        with self._lock:
            fetching = self._fetching.setdefault(site, threading.Lock())
        with fetching:
            return self._cached(site) or self._fetch(site)

    def _fetch(self, site: str) -> RobotFileParser:
        robots = f"{site}/robots.txt"
        rules = RobotFileParser(robots)
        ttl = self.ttl
        try:
            result = fetch(self.client, robots, max_bytes=MAX_ROBOTS_BYTES, deadline=self.deadline)
        except FetchError as exc:
            if exc.transient:
                LOGGER.warning("%s unreachable (%s): pages allowed for now", robots, exc)
                ttl = min(ttl, UNREACHABLE_TTL)
            rules.allow_all = True  # type: ignore[attr-defined]  # the stdlib's own flag, set by read()
        else:
            rules.parse(result.body.decode("utf-8", errors="replace").splitlines())
        rules.modified()  # marks it read: the parser refuses everything until then
        with self._lock:
            self._rules[site] = (self.clock() + ttl, rules)
        return rules
