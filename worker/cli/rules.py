"""`newswatch rules`: check a rules file, explain matches on articles, backtest, print the rules file's JSON Schema."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newswatch.worker.cli.params import Duration
from newswatch.worker.errors import NewswatchError, RuleError

if TYPE_CHECKING:
    from newswatch.worker.rules import RuleSet


def _load(path: Path, channels: Collection[str] | None = None) -> RuleSet:
    from newswatch.worker.rules import load_rules

    try:
        return load_rules(path, channels=channels)
    except RuleError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@click.group()
def rules() -> None:
    """Watch rules: check, test, backtest, schema."""


@rules.command("check")
@click.argument("path", type=click.Path(path_type=Path))
def rules_check(path: Path) -> None:
    """Check a rules file and run its rules' examples: every mistake as `file:line:column: problem`, exit 1 if any.

    Channels named in `alert:` lists must be configured (the environment's and NEWSWATCH_CHANNELS_FILE's).
    """
    from newswatch.worker.ingest.labelled import to_article
    from newswatch.worker.rules import RuleSet
    from newswatch.worker.rules.evaluation import example_failures
    from newswatch.worker.rules.loader import check_rules, read_rules_text
    from newswatch.worker.runtime import get_runtime

    channels = tuple(get_runtime().channels)
    try:
        checked = check_rules(read_rules_text(path), file=str(path), channels=channels)
    except RuleError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    rule_set = RuleSet(checked.version, checked.entities, checked.rules, str(path))  # the rules without mistakes
    problems = [str(mistake) for mistake in checked.mistakes] + example_failures(rule_set, to_article)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    examples = sum(len(r.examples.match) + len(r.examples.no_match) for r in rule_set.rules)
    enabled = sum(rule.enabled for rule in rule_set.rules)
    click.echo(
        f"{path}: {len(rule_set.rules)} rules ({enabled} enabled), {len(rule_set.entities)} entity lists, "
        f"{examples} examples hold, version {rule_set.version}"
    )


@rules.command("test")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("articles", nargs=-1, required=True)
def rules_test(path: Path, articles: tuple[str, ...]) -> None:
    """Show which rules match each article (file or URL) and why, and for the others the clause that failed."""
    from newswatch.worker.ingest.inputs import article_for_input
    from newswatch.worker.runtime import get_runtime

    rule_set = _load(path)
    runtime = get_runtime()
    for item in articles:
        try:
            article = article_for_input(item, settings=runtime.settings, client=runtime.client)
        except (NewswatchError, OSError) as exc:
            click.echo(f"error: {exc}", err=True)
            continue
        click.echo(click.style(f"{item}: {article.title}", bold=True))
        for explanation in rule_set.explain(article):
            if explanation.hit is None:
                click.echo(f"  no match  {explanation.rule}: failed at {explanation.failed}")
                continue
            hit = explanation.hit
            click.echo(f"  MATCH     {hit.rule} (score {hit.score:g}, {len(hit.matches)} mentions)")
            for match in hit.matches:
                click.echo(f"      {match.field}[{match.start}:{match.end}] {match.text!r} <- {match.clause}")
            for snippet in hit.snippets[:3]:
                click.echo(f"      > {snippet.marked()}")


@rules.command("eval")
@click.argument("labelled", type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The rules file (default: NEWSWATCH_RULES).",
)
@click.option(
    "--split",
    default=None,
    help="Only the lines of this split (a line without a `split` field is `dev`); without it, every line.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    default=None,
    help="Another rules file (e.g. plain keywords) scored in the same run, for comparison.",
)
@click.option("--misses/--no-misses", default=True, show_default=True, help="List every miss with its reason.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: scores and misses per rule.")
@click.option("--min-precision", type=float, default=None, help="Exit 1 when a rule's precision is below this.")
@click.option("--min-recall", type=float, default=None, help="Exit 1 when a rule's recall is below this.")
def rules_eval(
    labelled: Path,
    rules_path: Path | None,
    split: str | None,
    baseline: Path | None,
    misses: bool,
    as_json: bool,
    min_precision: float | None,
    min_recall: float | None,
) -> None:
    """Score rules on labelled texts (JSONL: text or path, labels): precision, recall, F1, and each miss."""
    from newswatch.worker.cli.output import echo_json
    from newswatch.worker.config import get_settings
    from newswatch.worker.ingest.labelled import read_labelled
    from newswatch.worker.rules.evaluation import evaluate_rules

    rule_set = _load(rules_path or get_settings().rules)
    try:
        items = read_labelled(labelled, split=split)
    except RuleError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    scores = evaluate_rules(rule_set, items)
    compared = evaluate_rules(_load(baseline), items) if baseline else {}
    if as_json:
        echo_json(
            {
                "texts": len(items),
                "rules": [s.to_dict() for s in scores.values()],
                "baseline": [s.to_dict() for s in compared.values()],
            }
        )
    else:
        click.echo(f"{len(items)} labelled texts{f' ({split})' if split else ''}, rules {rule_set.source}")
        click.echo(f"{'rule':<20} {'precision':>9} {'recall':>7} {'F1':>6}   tp   fp   fn   tn")
        for label, table in (("", scores), ("baseline ", compared)):
            for score in table.values():
                click.echo(
                    f"{label + score.rule:<20} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
                    f"{score.tp:>4} {score.fp:>4} {score.fn:>4} {score.tn:>4}"
                )
        if misses:
            for score in scores.values():
                for miss in score.misses:
                    click.echo(f"[{score.rule}] {miss.kind}: {miss.id} {miss.title!r}\n    {miss.why}")
    below = [
        s.rule
        for s in scores.values()
        if (min_precision is not None and s.precision < min_precision)
        or (min_recall is not None and s.recall < min_recall)
    ]
    if below:
        click.echo(f"below the minimum: {', '.join(below)}", err=True)
        sys.exit(1)


@rules.command("backtest")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--since", type=Duration(), default=None, help="Only articles stored in this period, e.g. 30d.")
@click.option("--show", type=int, default=20, show_default=True, help="How many would-be hits to list.")
@click.option(
    "--alert",
    "send_alerts",
    is_flag=True,
    help="Also store the new hits and send their alerts (once per rule, story and channel).",
)
def rules_backtest(path: Path | None, since: timedelta | None, show: int, send_alerts: bool) -> None:
    """Re-run a rules file over the stored articles and show what it would have caught.

    Nothing is stored or alerted unless --alert is given.
    """
    from sqlmodel import col, select

    from newswatch.storage.db import session_scope
    from newswatch.storage.models import StoredArticle, utcnow
    from newswatch.worker.pipeline import article_from_row, ingest
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    if send_alerts:
        runtime.check_broker()
    rule_set = _load(path or runtime.settings.rules, channels=tuple(runtime.channels) if send_alerts else None)
    with session_scope(runtime.settings.database_url) as session:
        query = select(StoredArticle)
        if since is not None:
            query = query.where(col(StoredArticle.fetched_at) >= utcnow() - since)
        rows = list(session.exec(query.order_by(col(StoredArticle.id))))
    per_rule: Counter[str] = Counter()
    listed = 0
    with click.progressbar(rows, label=f"backtesting {len(rows)} articles", file=sys.stderr) as progress:
        if send_alerts:
            found = [
                (
                    row,
                    ingest(
                        article_from_row(row),
                        rules=rule_set,
                        settings=runtime.settings,
                        default_channels=runtime.default_channels,
                        key=row.url_key,
                        feed_id=row.feed_id,
                    ).hits,
                )
                for row in progress
            ]
        else:
            found = [(row, rule_set.match(article_from_row(row))) for row in progress]
    for row, hits in found:
        for hit in hits:
            per_rule[hit.rule] += 1
            if listed < show:
                click.echo(f"[{hit.rule}] {row.title} ({row.url or row.source}): {hit.snippet[:160]}")
                listed += 1
    click.echo(f"{sum(per_rule.values())} hits on {len(rows)} articles with rules version {rule_set.version}:")
    for rule in rule_set.rules:
        click.echo(f"  {rule.name}: {per_rule.get(rule.name, 0)}")
    if send_alerts:
        from newswatch.worker.alerting import deliver_due

        deliveries = deliver_due(runtime)
        click.echo(
            f"alerts: {sum(d.outcome == 'sent' for d in deliveries)} sent, "
            f"{sum(d.outcome in ('retry', 'failed') for d in deliveries)} not yet"
        )


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rules file, generated from the models (`worker/rules/schema.json` is this)."""
    import json

    from newswatch.worker.rules.schema import rules_schema as generated

    click.echo(json.dumps(generated(), indent=2))


COMMANDS = [rules]
