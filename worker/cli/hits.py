"""`newswatch hits`: the stored hits, newest first."""

from __future__ import annotations

from datetime import timedelta

import click

from newswatch.worker.cli.params import Duration


@click.command()
@click.option("--rule", default=None, help="Only this rule's hits.")
@click.option("--since", type=Duration(), default=None, help="Only hits stored in this period, e.g. 7d.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
def hits(rule: str | None, since: timedelta | None, limit: int, as_json: bool) -> None:
    """Show stored hits, newest first."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.hits import count_hits, query_hits
    from newswatch.storage.models import utcnow
    from newswatch.worker.cli.output import echo_json, hit_json, print_hit
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    after = utcnow() - since if since else None
    with session_scope(runtime.settings.database_url) as session:
        rows = query_hits(session, rule=rule, since=after, limit=limit)
        total = count_hits(session, rule=rule, since=after) if len(rows) >= limit else len(rows)
    for hit, article in rows:
        if as_json:
            echo_json(hit_json(hit, article))
        else:
            print_hit(hit, article)
    if total > len(rows):
        click.echo(f"showing the newest {len(rows)} of {total} hits; --limit {total} shows them all", err=True)
    elif not rows and not as_json:
        click.echo("no hits stored" + (f" for rule {rule!r}" if rule else ""))


COMMANDS = [hits]
