"""Benchmark: articles per second through the whole pipeline, against bare trafilatura, and alert latency.

    python bench/pipeline.py --corpus ../shared/corpus/html/scrapinghub-aeb [--rules 1000] [--no-workers]

Serves the corpus's gzipped pages as they are (`Content-Encoding: gzip`) behind an RSS feed on loopback,
with a local SMTP server (aiosmtpd) as the email channel, both in a process of their own (as on other machines:
their work is not the measured process's), the example rules plus `--rules` generated ones
(bench/match.py's generator) and one rule most news pages match (`said`), so that most articles raise an
alert. Each feed mode gets new feeds listing the pages under new URLs, on a fresh SQLite database:
- embedded: `run --once`'s round (`embedded.run_round`) in this process;
- workers: a `newswatch worker` subprocess (Redis database 14, `--redis-url`), the round sent by
  `run --once`'s code (`distributed.run_round_on_workers`), the worker stopped by its pid afterwards.
Before the timed round a two-page round warms the runner (rules compiled, modules loaded), as a
long-running worker is; a page is in one round only (seen again, it is the same story and raises no alert),
so the timed round has 159 pages. A third line, scan, is `newswatch scan`'s reading and storing
(`scanning.scan`) over the corpus folder itself, its 181 gzipped pages read as files, with the same rules,
on a fresh database, after a scan of the seed article has warmed it; its alerts are queued in the outbox
(the command sends them afterwards: not timed here). Bare `trafilatura.bare_extraction` with extract.py's
settings runs over the same pages in the same run, in this one process, just before and just after each
mode's timed part: each mode's ratio is to the mean of those two (the machine's speed drifts over a run).
Printed per mode: the processes it used (embedded and scan: this one, plus NEWSWATCH_EXTRACT_PROCESSES
extraction processes when above 1; workers: the worker's prefork processes, as the worker reports them),
articles per second, the bare rate around it and the ratio to it (target at least 0.9x), and for the feed
modes the p95 seconds from the poll that first saw an item (the feed served) to its alert accepted by the
SMTP server (target at most 2 s). In the timed round all items arrive in one poll, so an item's latency
includes waiting behind the others of its round; then 20 rounds of one new item each give the latency of an
item that arrives alone.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gzip
import multiprocessing
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trafilatura
from aiosmtpd.controller import Controller
from match import generated_rules  # bench/ is the script's folder, first on sys.path
from trafilatura.settings import use_config

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.9
TARGET_P95 = 2.0
WARM_ITEMS = 2
MEMORY_ROUND = 1000
"""Items a round in `--memory-rounds`."""
TARGET_MEMORY = 1.10
SINGLE_ITEMS = 20
"""Rounds of one new item each, for the latency of an item that arrives alone."""
PROBE_RULE = "\n  - name: bench-said\n    query: said\n"


class _Handler(BaseHTTPRequestHandler):
    """The site: a feed `/feed/NAME/FIRST/COUNT.xml` lists COUNT pages from the FIRST under new URLs
    `/p/NAME/INDEX.html`, each the corpus's page INDEX (modulo its size), gzipped as stored."""

    pages: list[bytes]
    page_delay: float
    events: Any  # multiprocessing queue: ("served", feed path, time.time()) the first time a feed is served

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = self.path
        feed = re.fullmatch(r"/feed/(\w+)/(\d+)/(\d+)\.xml", path)
        if feed is not None:
            self.events.put(("served", path, time.time()))
            host = f"http://{self.headers['Host']}"
            name, first, count = feed.group(1), int(feed.group(2)), int(feed.group(3))
            links = [f"/p/{name}/{index}.html" for index in range(first, first + count)]
            items = "".join(
                f"<item><title>Page {link}</title><link>{host}{link}</link><guid>{host}{link}</guid></item>"
                for link in links
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>bench</title>{items}</channel></rss>"
            self._send(body.encode(), "application/rss+xml")
            return
        found = re.fullmatch(r"/p/\w+/(\d+)\.html", path)
        if found is None:
            self.send_error(404)
            return
        time.sleep(self.page_delay)  # a page from across the internet, not from this machine
        self._send(self.pages[int(found.group(1)) % len(self.pages)], "text/html", encoding="gzip")

    def _send(self, body: bytes, content_type: str, encoding: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        return None


class _Inbox:
    """The mail server's handler: ("accepted", page path, time.time()) for each page an alert names."""

    def __init__(self, events: Any) -> None:
        self.events = events

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        now = time.time()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = " ".join(str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text")
        for path in set(re.findall(r"/p/\w+/\d+\.html", text)):
            self.events.put(("accepted", path, now))
        return "250 Message accepted for delivery"


class _LoopbackSMTP(Controller):
    """aiosmtpd on the port the OS gave it (port 0), read back from its socket."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _serve_remote(pages: list[bytes], page_delay: float, events: Any, control: Any) -> None:
    """The other process: the site and the mail server until told to stop."""
    handler = type("Handler", (_Handler,), {"pages": pages, "page_delay": page_delay, "events": events})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    smtp = _LoopbackSMTP(_Inbox(events), hostname="127.0.0.1", port=0)
    smtp.start()
    control.send((f"http://127.0.0.1:{server.server_address[1]}", smtp.port))
    control.recv()  # stop
    smtp.stop()
    server.shutdown()
    server.server_close()


@dataclass
class Remote:
    """The site and the mail server, in a process of their own as they are on other machines: serving pages
    and receiving alerts take no time of the process measured. When each feed was first served (the poll that
    saw its items) and when each page's first alert was accepted come back as events."""

    pages: int
    base: str
    smtp_port: int
    events: Any
    first_served: dict[str, float] = field(default_factory=dict)  # feed path -> time.time()
    accepted: dict[str, float] = field(default_factory=dict)  # page path -> time.time()

    def collect(self) -> None:
        """Take in the events so far."""
        while True:
            try:
                kind, path, when = self.events.get_nowait()
            except queue.Empty:
                return
            (self.first_served if kind == "served" else self.accepted).setdefault(path, when)


@contextmanager
def remote(pages: list[bytes], page_delay: float) -> Iterator[Remote]:
    """Start the site and the mail server in another process; stop it afterwards."""
    context = multiprocessing.get_context("spawn")
    events, (control, child_end) = context.Queue(), context.Pipe()
    process = context.Process(target=_serve_remote, args=(pages, page_delay, events, child_end), daemon=True)
    process.start()
    base, port = control.recv()
    try:
        yield Remote(len(pages), base, port, events)
    finally:
        control.send("stop")
        process.join(timeout=30)


def bare_rate(pages: list[bytes]) -> float:
    """Pages per second through trafilatura alone, with extract.py's settings (decompressed beforehand)."""
    from newswatch.worker.ingest.extract import MAX_TREE_SIZE

    config = use_config()
    config["DEFAULT"]["max_tree_size"] = str(MAX_TREE_SIZE)
    htmls = [gzip.decompress(page).decode("utf-8", "replace") for page in pages]
    for html in htmls[:3]:  # warm-up: imports, caches
        trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_precision=True)
    started = time.perf_counter()
    for index, html in enumerate(htmls):
        trafilatura.bare_extraction(
            html,
            url=f"http://127.0.0.1/p/bare/{index}.html",
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            config=config,
        )
    return len(htmls) / (time.perf_counter() - started)


def add_round(site: Remote, name: str, count: int, first: int = 0) -> str:
    """A new feed listing `count` pages (from the `first`) under new URLs; returns its URL."""
    return f"{site.base}/feed/{name}/{first}/{count}.xml"


def timed_round(runtime: Any, site: Remote, name: str, count: int, *, workers: bool, first: int = 0) -> float:
    """Add a feed of `count` new pages and run one round on it; seconds the round took."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.feeds import add_feed
    from newswatch.worker.distributed import run_round_on_workers
    from newswatch.worker.embedded import run_round

    with session_scope(runtime.settings.database_url) as session:
        add_feed(session, add_round(site, name, count, first), interval_seconds=86_400)
    started = time.perf_counter()
    report = run_round_on_workers(runtime, timeout=600) if workers else run_round(runtime, every_feed=True)
    elapsed = time.perf_counter() - started
    stored = len(report.articles)
    if stored != count or report.errors:
        print(f"  {name}: {stored} of {count} articles stored; errors: {report.errors[:3]}", file=sys.stderr)
    return elapsed


def p95_latency(site: Remote, names: list[str]) -> tuple[float, int]:
    """95th percentile of alert-accepted minus feed-first-served over the rounds' alerted pages, and how many."""
    time.sleep(0.5)  # the last alerts' events on their way
    site.collect()
    latencies = []
    for name in names:
        (served,) = [when for path, when in site.first_served.items() if path.startswith(f"/feed/{name}/")]
        latencies += [when - served for path, when in site.accepted.items() if path.startswith(f"/p/{name}/")]
    if len(latencies) < 2:
        return float("nan"), len(latencies)
    return statistics.quantiles(latencies, n=20)[-1], len(latencies)


def tree_pss(pid: int) -> int:
    """Proportional set size of a process and all its descendants (the worker and its prefork children):
    pages the children share with their parent since the fork are counted once, not once per process."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # a child replaced meanwhile
            continue
        total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE).group(1)) * 1024  # type: ignore[union-attr]
        pending += [int(child) for child in children]
    return total


def memory_rounds(env: dict[str, str], site: Remote, pid: int, rounds: int, size: int) -> list[int]:
    """`rounds` rounds of `size` items each (the corpus's pages again under new URLs) on the workers; the
    worker tree's resident bytes after each."""
    from newswatch.worker.runtime import migrated_runtime, reset_runtime

    os.environ.update(env)
    reset_runtime()
    runtime = migrated_runtime()
    samples = []
    for number in range(rounds):
        timed_round(runtime, site, f"memory{number}", size, workers=True)
        samples.append(tree_pss(pid))
        print(f"  memory: {(number + 1) * size:,} articles, worker tree {samples[-1] / 2**20:.0f} MiB", file=sys.stderr)
    return samples


def worker_pool_size(broker_url: str) -> int:
    """The prefork processes the running worker says it has (its pool's `max-concurrency`)."""
    from newswatch.worker.celery_app import create_app
    from newswatch.worker.config import Settings

    stats = create_app(Settings(broker_url=broker_url)).control.inspect(timeout=5).stats() or {}
    return sum(int(worker["pool"]["max-concurrency"]) for worker in stats.values())


def embedded_processes(runtime: Any) -> str:
    """What the embedded round ran in: this process, and its extraction processes if any."""
    pool = runtime.extraction_pool
    return "1" if pool is None else f"1 + {pool.processes}"


def scan_mode(env: dict[str, str], corpus: Path, pages: list[bytes]) -> tuple[str, float, float, int]:
    """`newswatch scan`'s pipeline over the corpus folder (warmed by a scan of the seed article): the processes
    it used, articles stored per second, the bare rate around it (see `around`), and how many."""
    os.environ.update(env)
    os.environ.pop("NEWSWATCH_BROKER_URL", None)
    from newswatch.worker.ingest.language import preload_detector
    from newswatch.worker.runtime import migrated_runtime, reset_runtime
    from newswatch.worker.scanning import scan

    reset_runtime()
    runtime = migrated_runtime()
    runtime.rules()
    preload_detector()
    for warm in scan(runtime, [str(ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt")]):
        if warm.error:
            print(f"  scan warm-up: {warm.error}", file=sys.stderr)

    scanned: list[Any] = []

    def timed() -> float:
        started = time.perf_counter()
        scanned[:] = scan(runtime, [str(corpus)])
        return time.perf_counter() - started

    elapsed, bare = around(pages, timed)
    stored = [s for s in scanned if s.result is not None]
    errors = [s.error for s in scanned if s.error]
    if errors:
        print(f"  scan: {len(stored)} of {len(scanned)} stored; errors: {errors[:3]}", file=sys.stderr)
    processes = embedded_processes(runtime)
    runtime.close_extraction_pool()
    return processes, len(stored) / elapsed, bare, len(stored)


@contextmanager
def worker_process(env: dict[str, str], folder: Path, concurrency: int | None = None) -> Iterator[int]:
    """`newswatch worker` as a subprocess, stopped by its pid (its log in `folder`); yields the pid."""
    from newswatch.worker.celery_app import create_app
    from newswatch.worker.config import Settings

    log = (folder / "worker.log").open("wb")
    command = [str(Path(sys.executable).with_name("newswatch")), "worker"]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        app = create_app(Settings(broker_url=env["NEWSWATCH_BROKER_URL"]))
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start:\n{(folder / 'worker.log').read_text()[-3000:]}")
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def run_mode(
    name: str, env: dict[str, str], site: Remote, pages: list[bytes], *, workers: bool
) -> tuple[str, float, float, float, float, int]:
    """One mode: a warm-up round, the timed one (bare extraction measured just before and after it, see
    `around`), then rounds of one item each; the processes it used, articles per second, the bare rate around
    it, p95 latency in the timed round and for items alone, and how many alerts the latter is over."""
    os.environ.update(env)
    if not workers:
        os.environ.pop("NEWSWATCH_BROKER_URL", None)
    from newswatch.worker.ingest.language import preload_detector
    from newswatch.worker.runtime import migrated_runtime, reset_runtime

    reset_runtime()
    runtime = migrated_runtime()
    runtime.rules()
    preload_detector()  # loaded once per process, as `newswatch worker` does before forking
    # Pages seen once are not news again (the same story): each page is in one round only.
    timed_round(runtime, site, f"{name}warm", WARM_ITEMS, workers=workers)
    count = site.pages - WARM_ITEMS - SINGLE_ITEMS
    seconds, bare = around(
        pages, lambda: timed_round(runtime, site, name, count, workers=workers, first=WARM_ITEMS + SINGLE_ITEMS)
    )
    burst, _ = p95_latency(site, [name])
    singles = [f"{name}one{index}" for index in range(SINGLE_ITEMS)]
    for index, one in enumerate(singles):
        timed_round(runtime, site, one, 1, workers=workers, first=WARM_ITEMS + index)
    single, alerts = p95_latency(site, singles)
    processes = str(worker_pool_size(env["NEWSWATCH_BROKER_URL"])) if workers else embedded_processes(runtime)
    return processes, count / seconds, bare, burst, single, alerts


def around(pages: list[bytes], timed: Callable[[], float]) -> tuple[float, float]:
    """`timed()`'s result and the mean bare rate measured just before and just after it: the machine's speed
    drifts over a run (other work on it), and a ratio to a bare rate measured minutes away measures that
    drift as much as the pipeline."""
    before = bare_rate(pages)
    result = timed()
    return result, (before + bare_rate(pages)) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="Folder with html/*.html.gz.")
    parser.add_argument("--rules", type=int, default=1000, help="Generated rules added to the example ones.")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="Emptied first: the bench's own.")
    parser.add_argument("--no-workers", action="store_true", help="Only the embedded mode.")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="The worker's prefork processes (default: one a core)."
    )
    parser.add_argument(
        "--page-delay", type=float, default=0.0, help="Seconds each page takes to arrive, as from a distant site."
    )
    parser.add_argument(
        "--workers-database",
        default=None,
        help="An empty database for the workers' mode, e.g. PostgreSQL as deployed (default: a new SQLite file).",
    )
    parser.add_argument(
        "--memory-rounds",
        type=int,
        default=0,
        help="Then this many rounds of 1,000 items on the workers, printing the worker's memory (10: the target).",
    )
    options = parser.parse_args()
    pages = [path.read_bytes() for path in sorted((options.corpus / "html").glob("*.html.gz"))]
    if not pages:
        raise SystemExit(f"bench: no html/*.html.gz in {options.corpus}")
    results: list[tuple[str, str, float, float, float, float, int]] = []
    memory: list[int] = []
    with tempfile.TemporaryDirectory() as name, remote(pages, options.page_delay) as site:
        folder = Path(name)
        document, _ = generated_rules(options.rules)
        (folder / "rules.yaml").write_text(document + PROBE_RULE)
        common = {
            "NEWSWATCH_RULES": str(folder / "rules.yaml"),
            "NEWSWATCH_ALLOW_HOSTS": "127.0.0.1",
            "NEWSWATCH_SMTP_URL": f"smtp://127.0.0.1:{site.smtp_port}",
            "NEWSWATCH_EMAIL_FROM": "bench@example.org",
            "NEWSWATCH_EMAIL_TO": "desk@example.org",
            "NEWSWATCH_DEFAULT_CHANNELS": "email",
            "NEWSWATCH_CACHE_DIR": str(folder / "cache"),
        }
        embedded = {**common, "NEWSWATCH_DATABASE_URL": f"sqlite:///{folder / 'embedded.db'}"}
        results.append(("embedded (run --once)", *run_mode("embedded", embedded, site, pages, workers=False)))
        scanned = scan_mode(
            {**common, "NEWSWATCH_DATABASE_URL": f"sqlite:///{folder / 'scan.db'}"}, options.corpus, pages
        )
        if not options.no_workers:
            import redis

            redis.Redis.from_url(options.redis_url).flushdb()
            distributed = {
                **os.environ,
                **common,
                "NEWSWATCH_DATABASE_URL": options.workers_database or f"sqlite:///{folder / 'workers.db'}",
                "NEWSWATCH_BROKER_URL": options.redis_url,
            }
            with worker_process(distributed, folder, options.concurrency) as pid:
                results.append(("celery worker", *run_mode("workers", distributed, site, pages, workers=True)))
                if options.memory_rounds:
                    memory = memory_rounds(distributed, site, pid, options.memory_rounds, MEMORY_ROUND)
    print(
        f"{len(pages) - WARM_ITEMS - SINGLE_ITEMS} pages in the timed round, {options.rules:,} generated rules"
        f" + the example ones; bare trafilatura over all {len(pages)} pages just before and after each mode's"
        " timed part (the mean of the two in `bare p/s`)"
        + (f"; each page served after {options.page_delay:g} s" if options.page_delay else "")
    )
    print(
        f"{'mode':<22} {'processes':>9} {'articles/s':>10} {'bare p/s':>9} {'vs bare':>8} {'target':>7}"
        f" {'p95 s, all at once':>19} {'p95 s, one item':>16} {'target':>7}"
    )
    for mode, processes, rate, bare, burst, single, alerts in results:
        print(
            f"{mode:<22} {processes:>9} {rate:>10.1f} {bare:>9.1f} {rate / bare:>7.2f}x {TARGET_RATIO:>6.1f}x"
            f" {burst:>19.2f} {single:>16.2f} {TARGET_P95:>6.1f}s  ({alerts} alerts of {SINGLE_ITEMS} single items)"
        )
        if mode.startswith("embedded"):
            processes, rate, bare, stored = scanned
            print(
                f"{'scan (corpus folder)':<22} {processes:>9} {rate:>10.1f} {bare:>9.1f} {rate / bare:>7.2f}x"
                f" {TARGET_RATIO:>6.1f}x {'-':>19} {'-':>16} {'':>7}  ({stored} files stored of {len(pages)})"
            )
    if memory:
        print(
            f"worker memory (parent and children, proportional set size): after {MEMORY_ROUND:,} articles"
            f" {memory[0] / 2**20:.0f} MiB, after {len(memory) * MEMORY_ROUND:,} {memory[-1] / 2**20:.0f} MiB:"
            f" {memory[-1] / memory[0]:.2f}x (target at most {TARGET_MEMORY:.2f}x)"
        )


if __name__ == "__main__":
    main()
