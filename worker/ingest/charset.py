"""Bytes to text for feeds, pages and files alike, in one order: a byte-order mark, then NUL-byte patterns
(UTF-16 and UTF-32 without a mark), then the declared charset (HTTP header, XML declaration,
`<meta charset>`), then UTF-8, then detection by charset-normalizer.

A declaration is believed only when the bytes decode under it: servers declare UTF-8 over Windows-1252 text,
and many feeds declare nothing over KOI8-R, Big5 or Shift-JIS, which feedparser would otherwise read as
Windows-1252 (it uses only chardet, and only when installed). Labels are read as browsers read them (WHATWG
Encoding): ISO-8859-1 and ASCII as Windows-1252, GB2312 as GB18030. NUL bytes that no UTF-16 or UTF-32
reading explains mean binary content.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

SAMPLE_BYTES = 4096
"""How much of a body the binary check and the declarations are looked for in."""
DETECT_BYTES = 64_000
"""How much of an undeclared body charset detection reads (it tries each candidate on all it is given)."""

_BOMS = (  # UTF-32 LE before UTF-16 LE: its mark begins with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
}
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([\w.:-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_TEXT_CONTROLS = set("\t\n\r\f\v")
_SYMBOL_IN_WORD = re.compile(  # also ð þ: in undeclared Windows-1252 text they are nearly always Turkish ğ ş
    r"[^\W\d_][\u00a2-\u00a9\u00ac-\u00b4\u00b6-\u00b9\u00bc-\u00bf\u00d0\u00de\u00f0\u00fe\u2020-\u2022"
    r"\u2026\u2030\u2122][^\W\d_]"
)


@dataclass(frozen=True)
class Decoded:
    """A body's text, the codec that read it, and a declared charset the bytes turned out not to be in."""

    text: str
    encoding: str
    declared_wrong: str | None = None


def decode(body: bytes, *, content_type: str | None = None) -> Decoded:
    """The body as text; never fails (undecodable bytes become U+FFFD)."""
    for mark, encoding in _BOMS:
        if body.startswith(mark):
            return Decoded(body[len(mark) :].decode(encoding, errors="replace"), encoding)
    wide = _wide_encoding(body)
    if wide:
        return Decoded(body.decode(wide, errors="replace"), wide)
    declared = declared_charsets(body, content_type)
    for label in declared:
        for encoding in _codecs(label):
            try:
                return Decoded(body.decode(encoding), encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    wrong = declared[0] if declared else None
    try:
        return Decoded(body.decode("utf-8"), "utf-8", wrong)
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(body):  # a UTF-8 text with a few broken bytes: detection would garble all of it
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", None if _is_utf8(wrong) else wrong)
    encoding = _detect(body) or "cp1252"
    return Decoded(body.decode(encoding, errors="replace"), encoding, wrong)


def is_binary(body: bytes) -> bool:
    """Whether the body is no text at all: NUL bytes that no UTF-16 or UTF-32 reading explains."""
    sample = body[:SAMPLE_BYTES]
    if b"\x00" not in sample:
        return False
    return not any(sample.startswith(mark) for mark, _ in _BOMS) and _wide_encoding(body) is None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """The charsets the HTTP header, the XML declaration and `<meta charset>` name, in that order, lowercased."""
    labels = []
    if content_type and "charset=" in content_type.lower():
        labels.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    head = body[:SAMPLE_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        found = pattern.search(head)
        if found:
            labels.append(found.group(1).decode("ascii", errors="ignore").lower())
    return list(dict.fromkeys(label for label in labels if label))


def with_charset(content_type: str | None, encoding: str) -> str:
    """The content type (XML when unknown) with its charset parameter set to `encoding`."""
    params = [part for part in (content_type or "application/xml").split(";") if "charset=" not in part.lower()]
    return ";".join([*params, f" charset={encoding}"])


def _codecs(label: str) -> list[str]:
    """The codecs to try for a declared label; a UTF-16 or UTF-32 label without a mark or NUL pattern is wrong."""
    if label.replace("_", "-").startswith(("utf-16", "utf-32", "ucs-", "utf16", "utf32", "u16", "u32")):
        return []
    alias = _ALIASES.get(label)
    return [alias, label] if alias else [label]


def _wide_encoding(body: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark, when the start of the body reads cleanly as one of them."""
    sample = body[:SAMPLE_BYTES]
    if b"\x00" not in sample:
        return None
    # Latin text in UTF-16 LE has its NUL bytes at odd offsets, in BE at even ones (likewise for UTF-32).
    little = sample[1::2].count(0) > sample[0::2].count(0)
    for encoding in ("utf-32-le", "utf-16-le") if little else ("utf-32-be", "utf-16-be"):
        unit = 4 if "32" in encoding else 2
        try:
            text = sample[: len(sample) - len(sample) % unit].decode(encoding)
        except UnicodeDecodeError:
            continue
        if text and _looks_like_text(text):
            return encoding
    return None


def _looks_like_text(text: str) -> bool:
    """No control characters but line breaks and tabs, and no unassigned or private code points."""
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cn", "Co", "Cs") or (category == "Cc" and char not in _TEXT_CONTROLS):
            return False
    return True


def _mostly_utf8(body: bytes) -> bool:
    """More valid UTF-8 multibyte sequences than broken ones (Windows-1252 text has almost none valid)."""
    valid = len(_UTF8_MULTIBYTE.findall(body))
    broken = body.decode("utf-8", errors="replace").count("\ufffd") - body.count(b"\xef\xbf\xbd")
    return valid > broken


def _is_utf8(label: str | None) -> bool:
    try:
        return label is not None and codecs.lookup(label).name == "utf-8"
    except LookupError:
        return False


def _detect(body: bytes) -> str | None:
    """charset-normalizer's reading with the fewest signs of a wrong one, Windows-1252 among the cleanest."""
    from charset_normalizer import from_bytes  # here: it costs start-up time where nothing needs it

    sample = body[:DETECT_BYTES]
    matches = list(from_bytes(sample))
    clean = [match for match in matches if not _misread(str(match))]
    if matches and not clean:  # it stops at the first clean multibyte reading: ask again without those
        excluded = [name for match in matches for name in match.could_be_from_charset]
        clean = [match for match in from_bytes(sample, cp_exclusion=excluded) if not _misread(str(match))]
    clean = clean or matches
    if not clean:
        return None
    # Fewest signs of a wrong reading first; among those, Windows-1252 whenever it is one. Latin text reads
    # cleanly in Windows-1250, -1252 and -1257 alike and the detector's choice between them is close to chance
    # ("simulações" became "simulaēões"); Windows-1252 is what such text most often is.
    least = min(match.chaos for match in clean)
    best = [match for match in clean if match.chaos == least]
    if any("cp1252" in match.could_be_from_charset for match in best):
        return "cp1252"
    best.sort(key=lambda match: -match.coherence)
    return best[0].encoding


def _misread(text: str) -> bool:
    """Signs of a wrong reading: a symbol inside a word (Polish "trafiły" as Windows-1252 is "trafi³y"), or mostly
    half-width katakana (short KOI8-R text as Shift-JIS is "ﾐﾏ ﾓﾋﾌﾁﾄﾕ")."""
    if _SYMBOL_IN_WORD.search(text):
        return True
    wide = [char for char in text if ord(char) > 0x7F]
    return bool(wide) and sum("\uff61" <= char <= "\uff9f" for char in wide) * 2 > len(wide)
