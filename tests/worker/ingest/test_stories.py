"""Stories: an edited copy of an article is the same story; another article on the same topic is not."""

from __future__ import annotations

from pathlib import Path

from newswatch.worker.ingest.extract import extract_file
from newswatch.worker.ingest.stories import band_keys, find_story, similarity, story_fingerprint

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pipeline"
TANF = extract_file(PAGES / "article-tanf.html").text
BORDER = extract_file(PAGES / "article-border.html").text
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
