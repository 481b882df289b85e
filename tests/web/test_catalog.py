"""Every dashboard text exists in Arabic and English, with the same placeholders, and every
key the templates name is in the catalogue."""

from __future__ import annotations

import re
import string
from pathlib import Path

from web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_key_and_placeholder() -> None:
    ar, en = i18n.catalog("ar"), i18n.catalog("en")
    assert set(ar) == set(en), set(ar) ^ set(en)
    for key in en:
        assert _placeholders(ar[key]) == _placeholders(en[key]), key
        assert ar[key].strip() and en[key].strip(), key


def test_templates_name_only_existing_keys() -> None:
    en = i18n.catalog("en")
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_]+\.[a-z_0-9]+)"', path.read_text(encoding="utf-8")))
    assert used, "no keys found in templates"
    assert used <= set(en), used - set(en)


def test_language_negotiation() -> None:
    assert i18n.negotiate("ar-EG,ar;q=0.9,en;q=0.8") == "ar"
    assert i18n.negotiate("en-GB,en;q=0.9,ar;q=0.5") == "en"
    assert i18n.negotiate("fr-FR") == "en"
    assert i18n.negotiate(None) == "en"
