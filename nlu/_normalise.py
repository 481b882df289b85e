"""Text normalisation for matching: one canonical form for Arabic, Arabizi and English.

Everything the interpreter compares (lexicon phrases, option synonyms, user text) goes
through the same function, so spelling variants that people use interchangeably on a phone
keyboard (hamza forms, ta marbuta, tatweel, elongation, Eastern digits) compare equal.
"""

from __future__ import annotations

import re

__all__ = ["AR_LETTER_TABLE", "normalise_arabic", "normalise_with_map", "to_ascii_digits"]

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

# Letter unification only: safe to apply to regex sources (no ASCII is touched).
AR_LETTER_TABLE: dict[int, str] = {
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("آ"): "ا",
    ord("ٱ"): "ا",
    ord("ؤ"): "و",
    ord("ئ"): "ي",
    ord("ى"): "ي",
    ord("ة"): "ه",
    ord("ی"): "ي",
    ord("ک"): "ك",  # Persian yeh / kaf typed on Persian keyboards
    # Iraqi and Gulf گ (g, for ق: "گالو") and چ (ch, for ك: "باچر"), Maghrebi ڨ (g) and ڤ (v)
    ord("گ"): "ق",
    ord("چ"): "ك",
    ord("ڨ"): "ق",
    ord("ڤ"): "ف",
}

_CONTROL = [
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0xFEFF,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_DIACRITICS = (
    list(range(0x0610, 0x061B))
    + list(range(0x064B, 0x0660))
    + [0x0670, 0x0640]  # superscript alef, tatweel
    + list(range(0x06D6, 0x06DD))
    + list(range(0x06DF, 0x06E9))
    + list(range(0x06EA, 0x06EE))
)
_APOSTROPHES = {ord("’"): "'", ord("‘"): "'", ord("`"): "'", ord("´"): "'"}

_TABLE: dict[int, str | None] = {cp: None for cp in _CONTROL + _DIACRITICS}
_TABLE.update(AR_LETTER_TABLE)
_TABLE.update(_DIGITS)
_TABLE.update(_APOSTROPHES)

_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_SPACES = re.compile(r"\s+")


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits with ASCII digits."""
    return text.translate(_DIGITS)


def normalise_arabic(text: str) -> str:
    """Return the canonical matching form of `text` (see module docstring)."""
    out = text.translate(_TABLE).casefold()
    out = _ELONGATED.sub(r"\1", out)
    return _SPACES.sub(" ", out).strip()


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise like `normalise_arabic` and map each output character to its source index.

    Used to report entity offsets in the caller's original text.
    """
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        mapped = _TABLE.get(ord(ch), ch)
        if mapped is None:
            continue
        for c in mapped.casefold():
            chars.append(" " if c.isspace() else c)
            origin.append(i)
    out: list[str] = []
    out_origin: list[int] = []
    i = 0
    while i < len(chars):
        c = chars[i]
        j = i
        while j < len(chars) and chars[j] == c:
            j += 1
        run = j - i
        if c == " ":
            keep = 0 if not out else 1
        elif run >= 3 and c.isalpha():
            keep = 1
        else:
            keep = run
        out.extend(c * keep)
        out_origin.extend(origin[i : i + keep])
        i = j
    if out and out[-1] == " ":
        out.pop()
        out_origin.pop()
    return "".join(out), out_origin
