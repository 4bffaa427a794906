"""Plain text documents: the first real line is the title, site furniture never reaches the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.worker.ingest.plaintext import is_furniture, parse_text_document

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_dcd6abdc8038f5e6.txt"


@pytest.mark.parametrize(
    "line",
    [
        "Skip to main content",
        "Start your PRO membership today.",
        "Join the Middle East's top business and policy professionals to access exclusive PRO insights today.",
        "Join Al-Monitor PRO Start with 1-week free trial",
        "Sign up for our daily newsletter",
        "Subscribe now",
        "Already a subscriber? Log in",
        "Start your free trial",
        "We use cookies to improve your experience.",
        "Share this article",
        "Advertisement",
    ],
)
def test_furniture_lines(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "The war for the Syrian Desert is in fact a war for the heart of the Middle East.",
        "Join us, the commander told the fighters at the border crossing.",
        "Analysts said the subscription model of militia financing relied on border tolls collected at the crossing "
        "points along the desert road, which a free trial of the new customs regime had disrupted for months.",
        "Search teams recovered two bodies near Tanf.",
    ],
)
def test_real_sentences_stay(line: str) -> None:
    assert not is_furniture(line)


def test_the_seed_title_and_text() -> None:
    article = parse_text_document(SEED.read_text(), source=str(SEED))
    assert article.title == "Recapture of Iraq-Syria border point heralds new regional reality"
    for furniture in (
        "Skip to main content",
        "Start your PRO membership today",
        "access exclusive PRO insights",
        "1-week free trial",
    ):
        assert furniture not in article.text
    assert article.text.endswith("backing the terrorists in Syria and Iraq.”")
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("The move by the Iraqi and Syrian governments")
    tanf = "On June 6, a US airstrike on a position held by the Syrian army in Tanf"
    assert any(p.startswith(tanf) for p in paragraphs)


def test_an_empty_document_has_no_title_or_text() -> None:
    article = parse_text_document("\n\nSkip to main content\n\n", source="empty.txt")
    assert (article.title, article.text) == ("", "")


def test_a_one_line_document_is_a_document_titled_by_its_first_sentence() -> None:
    line = (
        "BEIRUT (Reuters) - Syrian warplanes pounded rebel-held towns near the Jordanian border on Tuesday, "
        "residents said. Maj. Gen. Smith said the U.S. would respond."
    )
    article = parse_text_document(line, source="wire.txt")
    assert article.title == (
        "BEIRUT (Reuters) - Syrian warplanes pounded rebel-held towns near the Jordanian "
        "border on Tuesday, residents said."
    )
    assert article.text == line


def test_a_pasted_feed_description_is_decoded_before_matching() -> None:
    article = parse_text_document("Iran&#039;s Gen. Soleimani &amp;amp; the <b>militias</b> crossed.", source="d.txt")
    assert article.text == "Iran's Gen. Soleimani & the militias crossed."
