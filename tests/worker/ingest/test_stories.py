"""Stories: an edited copy of an article is the same story; another article on the same topic is not."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from newswatch.storage.articles import CANDIDATES_PER_BAND, add_story_bands, set_story, store_article
from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle, StoryBand, utcnow
from newswatch.storage.schema import upgrade
from newswatch.worker.article import Article
from newswatch.worker.config import Settings
from newswatch.worker.ingest.extract import extract_file
from newswatch.worker.ingest.stories import BANDS, band_keys, find_story, similarity, story_fingerprint
from newswatch.worker.pipeline import ingest
from newswatch.worker.rules import load_rules

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pipeline"
SEED_RULES = Path(__file__).resolve().parents[3] / "seeds" / "rules.yaml"
TANF = extract_file(PAGES / "article-tanf.html", max_bytes=1_000_000).text
BORDER = extract_file(PAGES / "article-border.html", max_bytes=1_000_000).text
COPY = TANF.replace("A US airstrike on Tuesday hit a convoy", "A US air strike on Tuesday struck a convoy").replace(
    "the US-led coalition said.", "the coalition said in a statement."
)


def test_an_edited_copy_is_the_same_story_and_shares_a_band() -> None:
    original, copy = story_fingerprint(TANF), story_fingerprint(COPY)
    assert similarity(original, copy) >= 0.6
    assert set(band_keys(original)) & set(band_keys(copy))
    assert find_story(copy, [(7, original)]) == 7


def test_another_story_on_the_same_topic_is_not() -> None:
    tanf, border = story_fingerprint(TANF), story_fingerprint(BORDER)
    assert similarity(tanf, border) < 0.2
    assert find_story(border, [(7, tanf)]) is None


def test_the_most_similar_earlier_story_wins() -> None:
    copy = story_fingerprint(COPY)
    candidates = [(1, story_fingerprint(BORDER)), (2, story_fingerprint(TANF)), (3, story_fingerprint(COPY + " x"))]
    assert find_story(copy, candidates) == 3


def test_a_flood_of_near_copies_is_one_story_and_another_story_stays_apart(sqlite_url: str) -> None:
    # More copies than a band lookup reads (CANDIDATES_PER_BAND): the later ones still find the story.
    settings = Settings(database_url=sqlite_url)
    upgrade(sqlite_url)
    rules = load_rules(SEED_RULES)

    def store(title: str, text: str) -> int:
        article = Article(source=f"http://127.0.0.1/{title}", title=title, text=text, url=f"http://127.0.0.1/{title}")
        return ingest(article, rules=rules, settings=settings, default_channels=["console"]).article_id

    flood = [
        store(f"update-{i}", f"Update {i}: {i * 7} crossings by noon. {TANF}") for i in range(CANDIDATES_PER_BAND * 3)
    ]
    other = store("border", BORDER)
    copy = store("copy", COPY)
    with session_scope(sqlite_url) as session:
        story = {row.id: row.story_id for row in session.exec(select(StoredArticle))}
    assert {story[i] for i in flood} == {flood[0]}
    assert story[other] == other
    assert story[copy] == flood[0]


def test_a_story_stored_before_the_fingerprints_changed_still_gathers_its_copies(database_url: str) -> None:
    # Stored at migration 0005, with fingerprints and bands of the former layout (64 SHA-1 MinHash values of
    # 64 bits), one within the story window and one older: migration 0006 re-fingerprints the recent one.
    upgrade(database_url, "0005")
    now = utcnow()
    with session_scope(database_url) as session:
        recent, _ = store_article(session, _former_row("recent", TANF))
        old, _ = store_article(session, _former_row("old", BORDER, fetched_at=now - timedelta(days=5)))
        assert recent.id is not None and old.id is not None
        for row in (recent, old):
            set_story(session, row, row.id)
        add_story_bands(session, recent.id, [f"{band}:former-recent" for band in range(BANDS)])
        add_story_bands(session, old.id, [f"{band}:former-old" for band in range(BANDS)])
        session.execute(
            update(StoryBand).where(col(StoryBand.article_id) == old.id).values(created_at=now - timedelta(days=5))
        )
    upgrade(database_url)

    settings = Settings(database_url=database_url)
    copy = Article(source="http://127.0.0.1/copy", title="copy", text=COPY, url="http://127.0.0.1/copy")
    copy_id = ingest(copy, rules=load_rules(SEED_RULES), settings=settings, default_channels=["console"]).article_id
    with session_scope(database_url) as session:
        stored = {row.id: row for row in session.exec(select(StoredArticle))}
        bands = session.exec(select(StoryBand).where(col(StoryBand.article_id) == recent.id)).all()
    assert stored[copy_id].story_id == recent.id
    assert stored[recent.id].fingerprint == story_fingerprint(TANF)
    assert sorted(band.band for band in bands) == sorted(band_keys(story_fingerprint(TANF)))
    assert all(band.created_at is not None and band.created_at <= now + timedelta(seconds=1) for band in bands)
    assert stored[old.id].fingerprint == _FORMER  # out of the window: left as it was


_FORMER = bytes(range(256)) * 2
"""A fingerprint of the former layout: 64 values of 64 bits."""


def _former_row(name: str, text: str, fetched_at: datetime | None = None) -> StoredArticle:
    return StoredArticle(
        url_key=f"http://127.0.0.1/{name}",
        content_hash=name,
        url=f"http://127.0.0.1/{name}",
        source=f"http://127.0.0.1/{name}",
        title=name,
        text=text,
        fingerprint=_FORMER,
        fetched_at=fetched_at,
    )
