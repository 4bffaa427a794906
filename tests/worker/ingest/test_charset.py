"""Reading bytes right, for feeds, pages and text files alike: byte-order marks, UTF-16 and UTF-32 without one,
declared charsets (believed when the bytes agree), and undeclared legacy charsets detected."""

from __future__ import annotations

import io

import feedparser
import pytest

from newswatch.worker.ingest.charset import decode, is_binary
from newswatch.worker.ingest.feeds import parse_feed

URL = "http://127.0.0.1:8000/feeds/world.xml"

# Each text is what the test writes in a charset and expects to read back.
TEXTS = {
    "ru": "Авиаудары по пограничному переходу у Альбу-Кемаля. Военные сообщили во вторник, что удары нанесены "
    "по складу оружия, который использовали ополченцы.",
    "ja": "国境検問所に空爆。当局者は火曜日、無人機がアルブカマル近くの武器庫を攻撃したと述べた。",
    "zh-hant": "空襲擊中邊境口岸。官員週二表示，無人機襲擊了阿爾布卡邁勒附近的武器庫。",
    "zh-hans": "空袭击中边境口岸。官员周二表示，无人机袭击了阿尔布卡迈勒附近的武器库。",
    "th": "การโจมตีทางอากาศที่ด่านชายแดน เจ้าหน้าที่กล่าวเมื่อวันอังคารว่าโดรนโจมตีคลังอาวุธ",
    "he": 'תקיפה אווירית במעבר הגבול. פקידים אמרו ביום שלישי כי מל"טים תקפו מחסן נשק.',
    "ko": "국경 검문소에 공습이 있었다고 관리들이 화요일에 밝혔다.",
    "es": "El niño comió una piña en España. Los ataques aéreos alcanzaron el paso fronterizo el martes, según "
    "informaron los funcionarios. «Fue terrible», dijo un señor.",
    "pl": "Naloty trafiły w przejście graniczne we wtorek, poinformowali urzędnicy. Żołnierze się wycofali.",
}
LEGACY = [
    ("koi8_r", "ru"),
    ("cp1251", "ru"),
    ("euc_jp", "ja"),
    ("shift_jis", "ja"),
    ("big5", "zh-hant"),
    ("gb2312", "zh-hans"),
    ("tis_620", "th"),
    ("cp1255", "he"),
    ("euc_kr", "ko"),
    ("cp1252", "es"),
    ("cp1250", "pl"),
]
WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]


@pytest.mark.parametrize(("encoding", "language"), LEGACY)
def test_an_undeclared_legacy_charset_is_detected(encoding: str, language: str) -> None:
    text = TEXTS[language]
    assert decode(text.encode(encoding)).text == text


@pytest.mark.parametrize("encoding", WIDE)
def test_utf16_and_utf32_are_text_with_or_without_a_byte_order_mark(encoding: str) -> None:
    text = "Drone strike near the border.\n" + TEXTS["ru"]
    body = text.encode(encoding)  # "utf-16" and "utf-32" write a mark, the others none
    assert not is_binary(body)
    assert decode(body).text == text


def test_a_declared_charset_is_believed_when_the_bytes_agree() -> None:
    body = TEXTS["ru"].encode("cp1251")
    assert decode(body, content_type="text/plain; charset=windows-1251").encoding == "windows-1251"
    page = b'<html><head><meta charset="koi8-r"></head><body>' + TEXTS["ru"].encode("koi8_r") + b"</body></html>"
    assert TEXTS["ru"] in decode(page).text


def test_a_wrong_declaration_is_overruled_and_named() -> None:
    decoded = decode(TEXTS["ru"].encode("koi8_r"), content_type="text/html; charset=utf-8")
    assert (decoded.text, decoded.encoding, decoded.declared_wrong) == (TEXTS["ru"], "koi8_r", "utf-8")


def test_iso_8859_1_is_read_as_browsers_read_it() -> None:
    body = "“Quoted” — café".encode("cp1252")  # curly quotes are not in ISO-8859-1, but pages use them so
    assert decode(body, content_type="text/html; charset=ISO-8859-1").text == "“Quoted” — café"


def test_a_utf8_text_with_one_broken_byte_stays_utf8() -> None:
    body = "Ataques aéreos — «terrible»: ".encode() + b"\x92" + " año después".encode()
    decoded = decode(body)
    assert decoded.encoding == "utf-8"
    assert decoded.text == "Ataques aéreos — «terrible»: \ufffd año después"


@pytest.mark.parametrize(
    "body",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x00\x00binary", b"\x00\x01binary\x00junk", bytes(range(256))],
)
def test_nul_bytes_that_no_utf16_or_utf32_reading_explains_are_binary(body: bytes) -> None:
    assert is_binary(body)


def _rss(title: str, summary: str, declaration: str = "") -> str:
    return (
        f'<?xml version="1.0"{declaration}?>\n<rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title><link>http://127.0.0.1:8000/a/1</link>"
        f"<description>{summary}</description></item></channel></rss>"
    )


def _feedparser_told(body: bytes, charset: str) -> list[str]:
    headers = {"content-type": f"application/xml; charset={charset}"}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    return [parsed.feed.title] + [text for entry in parsed.entries for text in (entry.title, entry.summary)]


@pytest.mark.parametrize(("encoding", "language"), LEGACY)
def test_an_undeclared_legacy_feed_reads_as_feedparser_reads_it_told_the_charset(encoding: str, language: str) -> None:
    title, summary = TEXTS[language][:12].strip(), TEXTS[language]
    body = _rss(title, summary).encode(encoding)
    feed = parse_feed(body, url=URL, content_type="application/rss+xml")
    (entry,) = feed.entries
    assert [feed.title, entry.title, entry.summary] == _feedparser_told(body, encoding) == [title, title, summary]
    assert feed.error is None  # nothing the feed's owner could fix: it declared nothing


@pytest.mark.parametrize("encoding", WIDE)
def test_utf16_and_utf32_feeds_are_feeds(encoding: str) -> None:
    body = _rss("Авиаудары", TEXTS["ru"], f' encoding="{encoding}"').encode(encoding)
    feed = parse_feed(body, url=URL, content_type="application/rss+xml")
    (entry,) = feed.entries
    assert (entry.title, entry.summary) == ("Авиаудары", TEXTS["ru"])


def test_a_feed_declaring_the_wrong_charset_is_read_and_the_warning_says_so() -> None:
    body = _rss("Авиаудары", TEXTS["ru"], ' encoding="utf-8"').encode("koi8_r")
    feed = parse_feed(body, url=URL, content_type="application/rss+xml")
    assert feed.entries[0].summary == TEXTS["ru"]
    assert feed.error == "declared encoding was wrong: declared as utf-8, read as koi8_r"


def test_blank_lines_before_the_xml_declaration_are_no_malformed_xml() -> None:
    body = b"\n\n" + _rss("Border crossing reopens", "Traffic resumed.", ' encoding="utf-8"').encode()
    feed = parse_feed(body, url=URL)
    assert feed.error is None and feed.entries[0].title == "Border crossing reopens"
