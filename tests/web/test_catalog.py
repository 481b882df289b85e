"""Every dashboard text exists in Arabic and English, with the same placeholders, and every
key the templates name is in the catalogue."""

from __future__ import annotations

import re
import string
from pathlib import Path

from caseworker import i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


PLURAL = re.compile(r"\.(zero|one|two|few|many|other)$")


def test_both_languages_have_every_key_and_placeholder() -> None:
    ar, en = i18n.catalog("ar"), i18n.catalog("en")
    # Plural forms (age.days.few) exist only in the language that needs them, beside a base
    # key both languages have, with the same placeholders.
    forms = {k for k in set(ar) ^ set(en) if PLURAL.search(k)}
    assert set(ar) - forms == set(en) - forms, (set(ar) ^ set(en)) - forms
    for key in forms:
        base = PLURAL.sub("", key)
        text = ar.get(key) or en[key]
        assert base in en and _placeholders(text) == _placeholders(en[base]), key
    for key in set(en) - forms:
        assert _placeholders(ar[key]) == _placeholders(en[key]), key
        assert ar[key].strip() and en[key].strip(), key


def test_counts_take_the_plural_form_of_the_language() -> None:
    ar, en = i18n.Translator("ar"), i18n.Translator("en")
    assert [ar.count("age.days", n) for n in (1, 2, 3, 10, 11, 99, 100)] == [
        "1 يوم",
        "2 يوم",
        "3 أيام",
        "10 أيام",
        "11 يومًا",
        "99 يومًا",
        "100 يوم",
    ]
    assert ar.count("age.hours", 5) == "5 ساعات" and ar.count("age.hours", 20) == "20 ساعة"
    assert en.count("age.days", 5) == "5 days"


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
