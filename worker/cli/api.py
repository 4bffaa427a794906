"""`newswatch api`: serve the HTTP API and the web page (worker/api) with uvicorn.

The tokens are checked before anything is bound: without `NEWSWATCH_API_TOKENS` only a loopback address is
served (anyone on this machine can then read it), any other is refused in one line naming the variable.
"""

from __future__ import annotations

import click

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="Port.")
def api(host: str, port: int) -> None:
    """Serve the HTTP API (/hits, /docs...) and the web page (/web/) on stored hits."""
    from newswatch.worker.api.access import TOKENS_VARIABLE, access_for
    from newswatch.worker.config import get_settings

    access = access_for(get_settings().api_tokens, host)  # before the database: a refusal costs nothing
    from newswatch.worker.runtime import migrated_runtime

    settings = migrated_runtime().settings
    import uvicorn

    from newswatch.worker.api.app import create_app

    if access.open:
        click.echo(f"warning: api: {TOKENS_VARIABLE} is not set: anyone on this machine can read the API", err=True)
    click.echo(f"serving the API on http://{_url_host(host)}:{port}/ (web page /web/, schema /docs)", err=True)
    uvicorn.run(create_app(settings, access), host=host, port=port, log_level="info", server_header=False)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


COMMANDS = [api]
