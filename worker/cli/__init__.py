"""The `newswatch` command: one module per command group, output formatting in `output.py`.

    scan.py     scan FILES/URLS now                 run.py     run, worker, beat
    feeds.py    feeds add/list/remove/import/export  rules.py   rules check/test/backtest/schema
    alerts.py   alerts list/retry/send/test          hits.py    hits, hits show, stats
    entries.py  entries list/retry                   admin.py   db upgrade/revision, config
    api.py      api (the HTTP API and web page)      status.py  status (feeds, queues, workers, alerts)

Every error newswatch raises on purpose is printed as one line naming the file, line, URL or setting (a
rules file's mistakes one a line), never as a traceback; the exit status is non-zero when anything failed.
Command modules import what they use when they run, so `newswatch --help` loads none of the pipeline
(tests/worker/cli/test_startup.py keeps it so; `bench/startup.py` measures it).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from newswatch.storage.errors import NewswatchError


class _CLI(click.Group):
    """Turns newswatch's own errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewswatchError as exc:
            for line in str(exc).splitlines():
                click.echo(f"error: {line}", err=True)
            sys.exit(1)


@click.group(cls=_CLI)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """newswatch: watch news feeds and pages for what matters to you."""
    from newswatch.worker.logs import configure_logging

    level = [logging.ERROR, logging.INFO, logging.DEBUG][min(verbose, 2)]
    configure_logging(level)  # text at a terminal, JSON lines otherwise (NEWSWATCH_LOG_FORMAT)
    # trafilatura logs every page it finds no text in at ERROR; newswatch reports those itself, naming the page.
    logging.getLogger("trafilatura").setLevel(level if verbose >= 2 else logging.CRITICAL)


def _register() -> None:
    from newswatch.worker.cli import admin, alerts, api, entries, feeds, hits, rules, run, scan, status

    for module in (scan, run, feeds, entries, status, rules, alerts, hits, api, admin):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
