"""`newswatch scan`: ingest files, folders or URLs now and show what matched."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import click

from newswatch.alerts.message import AlertMessage
from newswatch.worker.cli.progress import Progress, on_terminal


class _ShownOnTerminal:
    """The console channel during `scan`: the scan report already printed these hits on the terminal."""

    name = "console"
    mode = "immediate"

    def send(self, messages: Sequence[AlertMessage]) -> None:
        return None


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per article.")
def scan(inputs: tuple[str, ...], as_json: bool) -> None:
    """Ingest files, folders or URLs now and print each article's hits (new alerts are sent)."""
    from newswatch.worker.alerting import deliver_due
    from newswatch.worker.cli.output import echo_json, ingested_json, print_deliveries, print_ingested
    from newswatch.worker.runtime import migrated_runtime
    from newswatch.worker.scanning import scan as scan_inputs

    runtime = migrated_runtime()
    channels = runtime.channels  # a misconfigured channel stops the scan before it stores anything
    runtime.check_broker()  # so does a broker that cannot be reached (alerts go out through it)
    failed = 0
    shown = not as_json and on_terminal()
    try:
        with Progress(_documents(inputs) if shown else 0, "scanning", enabled=shown) as progress:
            for scanned in scan_inputs(runtime, inputs):
                progress.clear()
                if scanned.result is None:
                    failed += 1
                    click.echo(f"error: {scanned.error}", err=True)
                elif as_json:
                    echo_json(ingested_json(scanned.source, scanned.result))
                else:
                    print_ingested(scanned.source, scanned.result)
                progress.step(scanned.source)
    finally:  # after the last document, or on Ctrl-C: the documents read ahead are dropped, not reported lost
        runtime.close_extraction_pool()
    print_deliveries(deliver_due(runtime, channels={**channels, "console": _ShownOnTerminal()}), only_problems=True)
    if failed:
        sys.exit(1)


def _documents(inputs: Iterable[str]) -> int:
    """How many documents a scan of `inputs` reads (for the progress bar; a missing path counts as one)."""
    from newswatch.worker.ingest.inputs import expand_inputs

    total = 0
    for item in inputs:
        try:
            total += sum(1 for _ in expand_inputs([item]))
        except OSError:
            total += 1
    return total


COMMANDS = [scan]
