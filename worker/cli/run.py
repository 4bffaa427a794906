"""`newswatch run`, `worker` and `beat`: polling on schedule, embedded or on Celery workers."""

from __future__ import annotations

import sys
from contextlib import suppress
from typing import Any

import click


@click.command()
@click.option("--once", is_flag=True, help="Poll every feed once, wait until it is processed, then exit.")
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="With a broker and --once: how long to wait for the workers, in seconds.",
)
def run(once: bool, timeout: float) -> None:
    """Poll the configured feeds on schedule (on the workers when NEWSWATCH_BROKER_URL is set)."""
    from newswatch.worker.cli.output import RunProgress, print_round
    from newswatch.worker.embedded import run_forever, run_round
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.channels  # noqa: B018 - a misconfigured channel stops here, not at the first alert
    runtime.check_broker()
    if runtime.settings.broker_url:
        if not once:
            raise click.UsageError("with a broker, scheduling is `newswatch beat`'s job; use `run --once`")
        from newswatch.worker.distributed import run_round_on_workers

        report = run_round_on_workers(runtime, timeout=timeout)
    else:
        try:
            if not once:
                run_forever(runtime, on_round=RunProgress())
                return
            report = run_round(runtime, every_feed=True)
        finally:  # at the end, or on Ctrl-C: the extraction processes stop before the interpreter does
            runtime.close_extraction_pool()
    print_round(report)
    sys.exit(1 if report.errors or report.pending else 0)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("-Q", "--queues", default="poll,extract,alerts", show_default=True)
@click.option("-c", "--concurrency", type=int, default=None)
@click.option(
    "-P",
    "--pool",
    default="prefork",
    show_default=True,
    help="prefork for extract (trafilatura is not thread-safe); threads is fine for poll and alerts.",
)
@click.pass_context
def worker(ctx: click.Context, queues: str, concurrency: int | None, pool: str) -> None:
    """Run Celery workers (needs NEWSWATCH_BROKER_URL); extra arguments go to `celery worker`."""
    from newswatch.worker.errors import RuleError
    from newswatch.worker.ingest.extract import preload_extraction
    from newswatch.worker.ingest.language import preload_detector
    from newswatch.worker.rules.scan import preload
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.channels  # noqa: B018 - a misconfigured channel stops the worker before it takes any task
    runtime.check_broker()
    preload()  # here, once: the prefork children inherit it
    preload_detector()
    preload_extraction()
    with suppress(RuleError):  # compiled once here for the children too; a broken file is each task's error
        runtime.rules()
    if runtime.settings.metrics_port:
        from newswatch.worker.metrics import serve_metrics

        serve_metrics(runtime.settings.metrics_port, runtime.redis)
    argv = ["worker", "-Q", queues, "-P", pool, "--loglevel", "INFO", *ctx.args]
    if concurrency:
        argv += ["-c", str(concurrency)]
    # `worker_main` drops the worker's exit code: a worker that died of an unrecoverable error (a broker
    # answering with errors, kombu's crash on a lost connection) must exit non-zero, so that a supervisor
    # restarting on failure restarts it.
    from celery import signals

    workers: list[Any] = []
    signals.worker_init.connect(lambda sender, **_: workers.append(sender), weak=False)
    runtime.app.worker_main(argv)
    code = workers[-1].exitcode if workers else None
    if code:
        ctx.exit(code)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run the schedule (one at a time is enforced by a Redis lock); needs NEWSWATCH_BROKER_URL."""
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.check_broker()
    runtime.app.start(["beat", "--loglevel", "INFO", *ctx.args])


COMMANDS = [run, worker, beat]
