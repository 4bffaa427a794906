"""The language codes rules may name (`languages: [en]`, `lang:en`): ISO 639-1, the two-letter codes that
article metadata (the HTML `lang` attribute, trafilatura, the text-language detector) reports.

A code may carry a region or script after a hyphen (`en-GB`, `zh-Hant`); only its first part is checked,
so that a typo (`languages: [eng]`, `lang:english`) is a mistake in the file instead of a rule that never
matches an article.
"""

from __future__ import annotations

ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
    io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
    mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
    vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 - 184 codes read as a table, not one a line
)


def is_language_code(code: str) -> bool:
    """Whether `code` is an ISO 639-1 code, optionally with a region or script (`en`, `en-GB`, `pt_BR`)."""
    return code.lower().replace("_", "-").split("-")[0] in ISO_639_1


def unknown_language(code: str) -> str:
    """The message for a code that is not ISO 639-1."""
    return f"unknown language code {code!r}: expected an ISO 639-1 code such as en, ar, fr or en-GB"
