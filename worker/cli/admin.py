"""`newswatch db` (schema migrations) and `newswatch config` (the settings as they take effect)."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (commands that store also do this on start, one process at a time)."""
    from newswatch.worker.config import masked_url
    from newswatch.worker.runtime import migrated_runtime

    settings = migrated_runtime().settings
    click.echo(f"database is up to date: {masked_url(settings.database_url)}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a new migration from the models (for developers changing storage/models.py)."""
    from newswatch.storage.schema import revision, upgrade
    from newswatch.worker.config import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    revision(settings.database_url, message)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def config(as_json: bool) -> None:
    """Print the effective settings: defaults resolved, channels found, secrets masked."""
    from newswatch.alerts.channels import channel_variables
    from newswatch.worker.cli.output import echo_json
    from newswatch.worker.config import SECRET_MASK, effective_settings
    from newswatch.worker.runtime import get_runtime

    runtime = get_runtime()
    shown = effective_settings(runtime.settings)
    shown.update({name: SECRET_MASK if secret else value for name, (value, secret) in channel_variables().items()})
    channels = sorted(runtime.channels)
    if as_json:
        echo_json({"settings": shown, "channels": channels, "default_channels": runtime.default_channels})
        return
    width = max(map(len, shown))
    for name, value in shown.items():
        click.echo(f"{name:<{width}}  {'(unset)' if value is None else value}")
    click.echo(f"{'channels':<{width}}  {', '.join(channels)}")
    click.echo(f"{'default channels':<{width}}  {', '.join(runtime.default_channels)}")


COMMANDS = [db, config]
