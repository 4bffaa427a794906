"""Benchmark: how long a `newswatch` command takes from start to exit, the time an analyst waits for each one.

    python bench/startup.py [--runs 15]

Runs the installed command (the venv's `newswatch`, else `python -m newswatch.worker`) as a user would, each
time a new process, the commands taking turns run by run (so that a change in the machine's load hits them
alike), and prints the median and the fastest wall time and the median CPU time (user + system) of:
- `newswatch --help`, which loads no database or pipeline module;
- `newswatch feeds add URL` on a temporary SQLite database (created and migrated by the first, untimed run),
  for a tiny RSS feed served on loopback by this script (the command checks that the URL is a feed), and for the
  same feed answering after half a second, as a distant site does (the storage layer is imported while the
  command waits for it: compare with the first plus 0.5 s);
- `newswatch feeds list` and `newswatch status` on the same database (three feeds);
- the floors under them, measured the same way in the same run: a new interpreter importing nothing, or only
  SQLAlchemy, the settings or the HTTP client, which the commands cannot do without;
- `load_rules(seeds/rules.yaml)` in a new process (the rule compilation a worker does at start), with an
  empty cache folder (cold, once: the dictionary and term caches are built), with those caches built (warm: a
  new or edited rules file is compiled), and with the compiled set an earlier start kept (the same file).

Target: `--help`, `feeds add` and `feeds list` under 0.3 s; rule compilation (warm) under 0.2 s. On a shared
machine wall times grow with the load while CPU times much less: compare a command with its floors. What a
command imports, module by module: `python -X importtime -m newswatch.worker feeds list 2> imports.txt`.
"""

from __future__ import annotations

import argparse
import os
import resource
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


SLOW_SECONDS = 0.5
"""How long the feed takes to answer at the path `/slow.xml`, as a distant site does."""


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
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


TARGETED = ("newswatch --help", "newswatch feeds add URL", "newswatch feeds list")
"""The commands with a start-to-exit target (TARGET)."""
FLOORS = {
    "python (imports nothing)": "pass",
    "import sqlalchemy": "import sqlalchemy",
    "import the settings": "from newswatch.worker.config import get_settings; get_settings()",
    # Without what newswatch keeps out of httpx's import (worker/cli/__init__.py: its command line, anyio, trio).
    "import httpx + httpcore": (
        "from newswatch.worker.cli import _skip_unused_imports; _skip_unused_imports(); import httpx, httpcore"
    ),
}
"""What the commands stand on, each timed alone in a new interpreter."""
FLOOR_SUMS = {
    "feeds list's floor (sum)": ("import sqlalchemy", "import the settings"),
    "feeds add's floor (sum)": ("import sqlalchemy", "import the settings", "import httpx + httpcore"),
}
"""The floors a command needs together: their medians added, the interpreter's start counted once."""


def run_once(args: list[str], *, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds of wall time and of CPU time (user + system) that one run of `args` took; a failing run stops
    the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def timed_in_turns(
    cases: dict[str, list[str]], *, runs: int, env: dict[str, str], cwd: Path
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each case, `runs` times, the cases taking turns within each run."""
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
    for _ in range(runs):
        for name, args in cases.items():
            wall, cpu = run_once(args, env=env, cwd=cwd)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    return times


def print_row(name: str, walls: list[float], cpus: list[float], target: float | None) -> None:
    wall = statistics.median(walls)
    verdict = "" if target is None else f"{target:>6g} s  {'met' if wall < target else 'missed'}"
    print(f"{name:<32} {wall:>7.3f}s {min(walls):>7.3f}s {statistics.median(cpus):>7.3f}s   {verdict}")


def print_floor_sum(
    name: str, parts: list[tuple[list[float], list[float]]], bare: tuple[list[float], list[float]]
) -> None:
    extra = len(parts) - 1
    wall = sum(statistics.median(walls) for walls, _ in parts) - extra * statistics.median(bare[0])
    cpu = sum(statistics.median(cpus) for _, cpus in parts) - extra * statistics.median(bare[1])
    print(f"  {name:<30} {wall:>7.3f}s {'':>8} {cpu:>7.3f}s")


def compile_times(*, runs: int, env: dict[str, str], cwd: Path, kept: bool = True) -> list[float]:
    """Seconds `load_rules` takes on the example rules (after its imports), each run a new
    process; the first run is the cold one when the cache folder in `env` is empty. Without `kept`, the
    compiled rule set an earlier run kept is removed first (as after an edit of the rules file)."""
    times = []
    for _ in range(runs):
        if not kept:
            shutil.rmtree(Path(env["NEWSWATCH_CACHE_DIR"]) / "rules", ignore_errors=True)
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
        # As installed: Python keeps the modules' bytecode (the first, untimed runs write it).
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_") and k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"NEWSWATCH_DATABASE_URL": f"sqlite:///{cwd / 'bench.db'}", "NEWSWATCH_ALLOW_HOSTS": "127.0.0.1"}
        run_once([*newswatch, "feeds", "list"], env=env, cwd=cwd)  # creates and migrates the database
        for other in ("one", "two"):
            run_once([*newswatch, "feeds", "add", f"{url}?{other}"], env=env, cwd=cwd)
        slow = url.replace("feed.xml", "slow.xml")
        cases = {
            "newswatch --help": [*newswatch, "--help"],
            "newswatch feeds add URL": [*newswatch, "feeds", "add", url],
            f"feeds add, answer in {SLOW_SECONDS:g} s": [*newswatch, "feeds", "add", slow],
            "newswatch feeds list": [*newswatch, "feeds", "list"],
            "newswatch status": [*newswatch, "status"],
        }
        floors = {name: [sys.executable, "-c", code] for name, code in FLOORS.items()}
        times = timed_in_turns(cases | floors, runs=options.runs, env=env, cwd=cwd)
        print(f"{'command':<32} {'median':>8} {'fastest':>8} {'cpu':>8}   target   ({options.runs} runs, in turns)")
        for name in cases:
            print_row(name, *times[name], target=TARGET if name in TARGETED else None)
        print("floors: a new interpreter doing only this")
        for name in floors:
            print_row(f"  {name}", *times[name], target=None)
        for name, parts in FLOOR_SUMS.items():
            print_floor_sum(name, [times[part] for part in parts], bare=times["python (imports nothing)"])
        env["NEWSWATCH_CACHE_DIR"] = str(cwd / "cache")
        (cold,) = compile_times(runs=1, env=env, cwd=cwd)
        print(f"{'rules compile, cold cache':<32} {cold:>7.3f}s {cold:>7.3f}s {'':>8}   (builds the caches)")
        compiled = compile_times(runs=options.runs, env=env, cwd=cwd, kept=False)
        print(
            f"{'rules compile, warm cache':<32} {statistics.median(compiled):>7.3f}s {min(compiled):>7.3f}s {'':>8}"
            f"   {COMPILE_TARGET:>6g} s  (after its imports; a new or edited rules file)"
        )
        kept = compile_times(runs=options.runs, env=env, cwd=cwd)
        print(
            f"{'rules load, compiled set kept':<32} {statistics.median(kept):>7.3f}s {min(kept):>7.3f}s {'':>8}"
            f"   {COMPILE_TARGET:>6g} s  (the same rules file as at the last start)"
        )


if __name__ == "__main__":
    main()
