"""The `newswatch` command: one module per command group, output formatting in `output.py`.

    scan.py     scan FILES/URLS now                 run.py     run, worker, beat
    feeds.py    feeds add/list/remove/import/export  rules.py   rules check/test/backtest/schema
    alerts.py   alerts list/retry/send/test          hits.py    hits, hits show, stats
    entries.py  entries list/retry                   admin.py   db upgrade/revision, config
    api.py      api (the HTTP API and web page)      status.py  status (feeds, queues, workers, alerts)

Every error newswatch raises on purpose is printed as one line naming the file, line, URL or setting (a
rules file's mistakes one a line), never as a traceback; the exit status is non-zero when anything failed.
A command's module is imported when that command runs (`--help` imports them all, for their help lines), and
command modules import what they use when they run, so `newswatch --help` loads none of the pipeline and
`newswatch feeds list` only SQLAlchemy Core and the settings (tests/worker/cli/test_startup.py and
tests/test_structure.py keep it so; `bench/startup.py` measures it).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from newswatch.storage.errors import NewswatchError

COMMAND_MODULES = {
    "scan": "scan",
    "run": "run",
    "worker": "run",
    "beat": "run",
    "feeds": "feeds",
    "entries": "entries",
    "status": "status",
    "rules": "rules",
    "alerts": "alerts",
    "hits": "hits",
    "stats": "hits",
    "api": "api",
    "db": "admin",
    "config": "admin",
}
"""Each command, by the module of worker/cli/ that defines it (in that module's `COMMANDS`)."""


class _CLI(click.Group):
    """Loads a command's module when the command is asked for; turns newswatch's own errors into one clear
    line and exit status 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMAND_MODULES:
            return None
        module = importlib.import_module(f"{__name__}.{COMMAND_MODULES[cmd_name]}")
        return next(command for command in module.COMMANDS if command.name == cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewswatchError as exc:
            print_error(exc)
            sys.exit(1)


def print_error(error: NewswatchError) -> None:
    """One of newswatch's own errors as the user reads it: each line of it after "error: ", on standard error."""
    for line in str(error).splitlines():
        click.echo(f"error: {line}", err=True)


@click.group(cls=_CLI)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """newswatch: watch news feeds and pages for what matters to you."""
    from newswatch.worker.logs import configure_logging

    _skip_unused_imports()
    level = [logging.ERROR, logging.INFO, logging.DEBUG][min(verbose, 2)]
    configure_logging(level)  # text at a terminal, JSON lines otherwise (NEWSWATCH_LOG_FORMAT)
    # trafilatura logs every page it finds no text in at ERROR; newswatch reports those itself, naming the page.
    logging.getLogger("trafilatura").setLevel(level if verbose >= 2 else logging.CRITICAL)


def _skip_unused_imports() -> None:
    """Keep out of a command's start what `import httpx` brings and no newswatch command runs:
    - httpx's own command line (`httpx._main`: click, rich and pygments, a third of its import time), imported
      whenever those are installed, as they are with newswatch; marked absent, httpx defines a stand-in that says
      its dependencies are missing;
    - the async libraries httpcore imports for its async client (anyio, and trio where installed: 0.01-0.1 s),
      which newswatch's one HTTP client, a sync one, never uses. They are hidden from httpcore's import alone
      (see `_SyncHttpcore`): the API's FastAPI still imports anyio when it runs."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if "httpcore" not in sys.modules and not any(isinstance(f, _SyncHttpcore) for f in sys.meta_path):
        sys.meta_path.insert(0, _SyncHttpcore())


class _SyncHttpcore:
    """Refuses anyio and trio while httpcore is imported (it then leaves out its async locks and backends, which
    only its async client uses); otherwise it finds nothing, so the usual finders import them for whoever asks
    later (a module once imported is not looked for again). A finder of `sys.meta_path` by its `find_spec` (not
    derived from `importlib.abc`, whose import costs more than this saves)."""

    HIDDEN = frozenset({"anyio", "trio"})

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname in self.HIDDEN:
            importing = sys.modules.get("httpcore")
            if importing is not None and getattr(importing.__spec__, "_initializing", False):
                raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None
