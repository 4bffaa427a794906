"""Stored hits to read through the API and the web page: articles scanned by `newswatch scan` (the real pipeline
and the example rules), dated a day apart, some with a domain and site name, one with a hostile title; and an
app over them with one token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from newswatch.storage.db import session_scope
from newswatch.storage.models import Hit, StoredArticle
from newswatch.worker.api.access import Access
from newswatch.worker.api.app import create_app
from newswatch.worker.config import load_settings
from newswatch.worker.runtime import reset_runtime

TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "other-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE = "<script>document.title='pwned'</script> Warplanes strike fuel depot"
ARTICLES = {
    # file: (text, publish date, domain, site name)
    "a.txt": (
        "Airstrike hits convoy near Mosul\n\nA US airstrike hit a convoy near Mosul on Tuesday, officials said. "
        "The strike killed four fighters, the coalition said in a statement.\n",
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
        "news.example.org",
        "Example News",
    ),
    "b.txt": (
        "Soleimani visits the front\n\nQasem Soleimani, the commander of the Quds Force, visited the front lines "
        "near Mosul on Sunday, Iranian media reported.\n",
        datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
        "wire.example.net",
        None,
    ),
    "c.txt": (
        "Rafah crossing reopens for aid\n\nThe Rafah crossing reopened on Monday and forty aid trucks entered Gaza, "
        "Egyptian officials said.\n",
        datetime(2026, 3, 8, 9, 0, tzinfo=UTC),
        "example.org",
        "Example News",
    ),
    "d.txt": (
        f"{HOSTILE}\n\nSyrian warplanes struck a fuel depot near Idlib on Friday, and a second airstrike hit the "
        "road out of town, residents said.\n",
        datetime(2026, 3, 7, 9, 0, tzinfo=UTC),
        None,
        None,
    ),
}


def newswatch(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a `newswatch` command in this process, as the user would."""
    from newswatch.worker.cli import main

    reset_runtime()
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


def store_articles(url: str, folder: Path) -> None:
    """Scan `ARTICLES` into the database at `url`, then give each its date, domain and site name."""
    folder.mkdir(exist_ok=True)
    for name, (body, *_) in ARTICLES.items():
        (folder / name).write_text(body)
    result = newswatch("scan", str(folder))
    assert result.exit_code == 0, result.output
    with session_scope(url) as session:
        for name, (_, published, domain, site) in ARTICLES.items():
            article_id = session.exec(select(StoredArticle.id).where(StoredArticle.source == str(folder / name))).one()
            session.execute(
                update(StoredArticle)
                .where(col(StoredArticle.id) == article_id)
                .values(published_at=published, domain=domain, site_name=site)
            )
            session.execute(
                update(Hit).where(col(Hit.article_id) == article_id).values(article_date=published, domain=domain)
            )


@pytest.fixture
def stored(database_url: str, tmp_path: Path) -> str:
    """The articles of `ARTICLES` stored with their hits, on SQLite and on PostgreSQL."""
    store_articles(database_url, tmp_path / "inbox")
    return database_url


@pytest.fixture
def client(stored: str) -> Iterator[TestClient]:
    """The app over the stored hits, accepting `TOKEN` and `OTHER_TOKEN`; requests carry no token by themselves."""
    reset_runtime()
    app = create_app(load_settings(), Access((TOKEN, OTHER_TOKEN)))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
