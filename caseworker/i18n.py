"""The caseworker side's texts by key from caseworker/catalog/{ar,en}.yaml (the dashboard, the
CLI, the PDFs and the case-integrity errors read the same words), and the language a request
wants."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from core import safe_load

__all__ = ["CATALOG_DIR", "LANGS", "Translator", "catalog", "negotiate", "plural_form"]

LANGS = ("ar", "en")
CATALOG_DIR = Path(__file__).parent / "catalog"


@cache
def catalog(lang: str) -> dict[str, str]:
    data = safe_load((CATALOG_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def negotiate(accept_language: str | None) -> str:
    """The first of Arabic or English in Accept-Language by weight; English otherwise."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower().split("-")[0]
        q = 1.0
        for p in pieces[1:]:
            if p.strip().startswith("q="):
                try:
                    q = float(p.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGS and q > best_q:
            best, best_q = tag, q
    return best


def plural_form(lang: str, n: int) -> str:
    """CLDR plural category of `n` (Arabic has six; English only one and other)."""
    if lang != "ar":
        return "one" if n == 1 else "other"
    rest = n % 100
    if n == 0:
        return "zero"
    if n in (1, 2):
        return "one" if n == 1 else "two"
    if 3 <= rest <= 10:
        return "few"
    if 11 <= rest <= 99:
        return "many"
    return "other"


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"
        self.dir = "rtl" if self.lang == "ar" else "ltr"
        self._cat = catalog(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self._cat.get(key)
        if text is None:
            return key
        return text.format(**values) if values else text

    def count(self, key: str, n: int) -> str:
        """`key` with the number `n`, in the plural form the language needs: `key.few`
        etc. where the catalogue has it (Arabic: 3-10 days are أيام, 11-99 يومًا), else `key`."""
        form = f"{key}.{plural_form(self.lang, n)}"
        return self(form if form in self._cat else key, n=n)

    def has(self, key: str) -> bool:
        return key in self._cat
