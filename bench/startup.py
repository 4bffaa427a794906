"""Benchmark: how long a `newswatch` command takes from start to exit, the time an analyst waits for each one.

    python bench/startup.py [--runs 15]

Runs the installed command (the venv's `newswatch`, else `python -m newswatch.worker`) as a user would, each
time a new process, and prints the median and the fastest wall time of:
- `newswatch --help`, which loads no pipeline module;
- `newswatch feeds add URL` on a temporary SQLite database (created and migrated by the first, untimed run),
  for a tiny RSS feed served on loopback (the command checks that the URL is a feed);
- `newswatch feeds list` on the same database;
- `load_rules(seeds/rules.yaml)` in a new process (the rule compilation a worker does at start), with an
  empty dictionary cache (cold, once) and with the cache built (warm).

Target: `--help` and `feeds add` under 0.3 s; rule compilation (warm) under 0.2 s. What a command imports, run by run:
`python -X importtime -m newswatch.worker --help 2> imports.txt`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TARGET = 0.3
COMPILE_TARGET = 0.2
RULES = Path(__file__).resolve().parents[1] / "seeds" / "rules.yaml"
COMPILE = f"""
import time
from pathlib import Path
from newswatch.worker.rules import load_rules
start = time.perf_counter()
load_rules(Path({str(RULES)!r}))
print(time.perf_counter() - start)
"""
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title><link>http://127.0.0.1/</link>
<item><title>One</title><link>http://127.0.0.1/one</link></item></channel></rss>"""


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        return None


@contextmanager
def feed_server() -> Iterator[str]:
    """A loopback HTTP server answering every request with the tiny feed; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def command() -> list[str]:
    """The `newswatch` entry point beside this interpreter (the venv's), else the module."""
    installed = Path(sys.executable).with_name("newswatch")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("newswatch")
    return [found] if found else [sys.executable, "-m", "newswatch.worker"]


def wall_times(args: list[str], *, runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    """Seconds from start to exit of `args`, `runs` times; a failing run stops the benchmark."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return times


def compile_times(*, runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    """Seconds `load_rules` takes on the example rules (after its imports), each run a new
    process; the first run is the cold one when the cache folder in `env` is empty."""
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", COMPILE], env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"load_rules failed ({done.returncode}):\n{done.stderr}")
        times.append(float(done.stdout))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="Runs of each command (the median is reported).")
    options = parser.parse_args()
    newswatch = command()
    with tempfile.TemporaryDirectory() as folder, feed_server() as url:
        cwd = Path(folder)
        env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSWATCH_")}
        env |= {"NEWSWATCH_DATABASE_URL": f"sqlite:///{cwd / 'bench.db'}", "NEWSWATCH_ALLOW_HOSTS": "127.0.0.1"}
        wall_times([*newswatch, "feeds", "list"], runs=1, env=env, cwd=cwd)  # creates and migrates the database
        cases = {
            "newswatch --help": [*newswatch, "--help"],
            "newswatch feeds add URL": [*newswatch, "feeds", "add", url],
            "newswatch feeds list": [*newswatch, "feeds", "list"],
        }
        print(f"{'command':<26} {'median':>8} {'fastest':>8}   ({options.runs} runs, target {TARGET:g} s)")
        for name, args in cases.items():
            times = wall_times(args, runs=options.runs, env=env, cwd=cwd)
            print(f"{name:<26} {statistics.median(times):>7.3f}s {min(times):>7.3f}s")
        env["NEWSWATCH_CACHE_DIR"] = str(cwd / "cache")
        (cold,) = compile_times(runs=1, env=env, cwd=cwd)
        print(f"{'rules compile, cold cache':<26} {cold:>7.3f}s {cold:>7.3f}s   (builds the dictionary cache)")
        times = compile_times(runs=options.runs, env=env, cwd=cwd)
        print(
            f"{'rules compile, warm cache':<26} {statistics.median(times):>7.3f}s {min(times):>7.3f}s"
            f"   (target {COMPILE_TARGET:g} s)"
        )


if __name__ == "__main__":
    main()
