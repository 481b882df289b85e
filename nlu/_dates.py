"""Date answers ("٣ آذار ٢٠٢٤", "last week", "امبارح") through `dateparser`.

We do not parse dates ourselves: the input is only normalised (digits, marks, and a few
dialect words and month names that dateparser's Arabic data lacks) before dateparser reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from nlu._normalise import AR_LETTER_TABLE, to_ascii_digits

__all__ = ["READ_LIMIT", "DateValue", "parse_date"]

#: A date is looked for in the first this many characters of an answer. dateparser's search
#: costs about 0.4 ms a character at worst ("a a a …": every "a" may start "a week ago"), so a
#: pasted 20 000-character answer would hold a worker for seconds; no date answer needs more,
#: and the whole answer is still kept as the reporter's own words for the caseworker.
READ_LIMIT = 500


@dataclass(frozen=True)
class DateValue:
    """A date answer: the reporter's own words, an ISO date cut to `precision`, or neither.

    `iso` is "YYYY-MM-DD", "YYYY-MM" or "YYYY" for precision "day", "month" or "year";
    both are None when no date was recognised (the raw words are still worth keeping).
    """

    raw: str
    iso: str | None
    precision: str | None


_SETTINGS: dict[str, Any] = {"PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY"}
_LANGUAGES = ["ar", "en"]
_MARKS = re.compile(
    r"[\u0610-\u061A\u064B-\u065F\u0670\u0640\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]"
)

# Rewrites applied to letter-unified text (hamza forms -> ا, ة -> ه, ى -> ي); the right-hand
# sides are forms that dateparser's Arabic data understands.
_MONTHS = {
    "كانون الثاني": "يناير",
    "شباط": "فبراير",
    "اذار": "مارس",
    "نيسان": "أبريل",
    "ايار": "مايو",
    "حزيران": "يونيو",
    "تموز": "يوليو",
    "اب": "أغسطس",
    "ايلول": "سبتمبر",
    "تشرين الاول": "أكتوبر",
    "تشرين الثاني": "نوفمبر",
    "كانون الاول": "ديسمبر",
    "جانفي": "يناير",
    "فيفري": "فبراير",
    "افريل": "أبريل",
    "ماي": "مايو",
    "جوان": "يونيو",
    "جويليه": "يوليو",
    "اوت": "أغسطس",
    "شتنبر": "سبتمبر",
    "نونبر": "نوفمبر",
    "دجنبر": "ديسمبر",
    "يوليوز": "يوليو",
    "غشت": "أغسطس",
}
_WORDS = {
    "اول امبارح": "قبل يومين",
    "اول امس": "قبل يومين",
    "قبل امس": "قبل يومين",
    "امبارح": "أمس",
    "مبارح": "أمس",
    "البارحه": "أمس",
    "البارح": "أمس",
    "امس": "أمس",
    "منذ": "قبل",
    "من حوالي": "قبل",
    "السنه الماضيه": "السنة الماضية",
    "العام الماضي": "السنة الماضية",
    "السنه اللي فاتت": "السنة الماضية",
    "الشهر اللي فات": "الشهر الماضي",
    "الاسبوع اللي فات": "الأسبوع الماضي",
    "الجمعه الماضيه": "الجمعة الماضية",
    "سنين": "سنوات",
    "سنه": "سنة",
    "ساعه": "ساعة",
    "اسبوع": "أسبوع",
    "اسبوعين": "أسبوعين",
    "اسابيع": "أسابيع",
    "اشهر": "أشهر",
    "واحد": "1",
    "اثنين": "2",
    "اتنين": "2",
    "ثلاث": "3",
    "ثلاثه": "3",
    "تلات": "3",
    "تلاته": "3",
    "اربع": "4",
    "اربعه": "4",
    "خمس": "5",
    "خمسه": "5",
    "ست": "6",
    "سته": "6",
    "سبع": "7",
    "سبعه": "7",
    "ثمان": "8",
    "ثمانيه": "8",
    "تمن": "8",
    "تمانيه": "8",
    "تسع": "9",
    "تسعه": "9",
    "عشر": "10",
    "عشره": "10",
    "حوالي": "",
    "تقريبا": "",
    "بحدود": "",
    "يمكن": "",
    "ربما": "",
}
_UNIT_AFTER_QABL = re.compile(r"قبل (أسبوع|شهر|سنة|ساعة|يوم)(?=\s|$)")
_MIN_AGO = re.compile(
    r"(?<![\w])من (?=(?:\d+ )?(?:سن|شهر|اشهر|أشهر|شهور|اسبوع|أسبوع|أسابيع|يوم|ايام|ساع))"
)
_HEDGES = re.compile(
    r"^(?:around|about|approximately|approx|roughly|sometime in|some time in|maybe|probably|"
    r"early|late|mid|in)\s+",
    re.IGNORECASE,
)
_REWRITE = re.compile(
    r"(?<![\w])("
    + "|".join(re.escape(k) for k in sorted({**_MONTHS, **_WORDS}, key=len, reverse=True))
    + r")(?![\w])"
)


def _prepare(text: str) -> str:
    """Normalise a date answer for dateparser (digits, marks, dialect words, month names)."""
    out = _MARKS.sub("", to_ascii_digits(text)).translate(AR_LETTER_TABLE)
    table = {**_MONTHS, **_WORDS}
    out = _REWRITE.sub(lambda m: table[m.group(1)], out)
    out = _MIN_AGO.sub("قبل ", out)
    out = _UNIT_AFTER_QABL.sub(r"قبل 1 \1", out)
    out = _HEDGES.sub("", out.strip())
    return re.sub(r"\s+", " ", out).strip()


@lru_cache(maxsize=16)
def _parser(now: datetime | None, languages: tuple[str, ...]) -> Any:
    """One `DateDataParser` per (relative base, language order), built once and reused."""
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]

    return DateDataParser(languages=list(languages), settings=_settings(now))


def _settings(now: datetime | None) -> dict[str, Any]:
    settings = dict(_SETTINGS)
    if now is not None:
        settings["RELATIVE_BASE"] = now
    return settings


def _precision(period: str | None) -> str:
    if period == "year":
        return "year"
    if period == "month":
        return "month"
    return "day"  # "day", "week" and "time" all resolve to a calendar day


def _iso(value: datetime, precision: str) -> str:
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.date().isoformat()


def parse_date(text: str, lang: str | None = None, now: datetime | None = None) -> DateValue | None:
    """Read a date answer; None for empty text, `DateValue(raw, None, None)` if unrecognised.

    `lang` ("ar"/"en") is tried first when given; `now` is the base for relative dates
    (default: the current time).
    """
    raw = text.strip()
    if not raw:
        return None
    prepared = _prepare(_head(raw))
    if not prepared:
        return DateValue(raw, None, None)
    languages = (lang, *(x for x in _LANGUAGES if x != lang)) if lang in _LANGUAGES else None
    parser = _parser(now, languages or tuple(_LANGUAGES))
    data = parser.get_date_data(prepared)
    if data.date_obj is None:
        data = _search(prepared, now, parser)
    if data is None or data.date_obj is None:
        return DateValue(raw, None, None)
    precision = _precision(data.period)
    return DateValue(raw, _iso(data.date_obj, precision), precision)


#: Where a sentence ends: a date does not run across one ("3.3.2024" has no space after
#: its dots, and a comma is left alone: "March 3, 2024").
_SENTENCE_END = re.compile(r"[.!?؟;؛](?=\s)|\n")


def _head(raw: str) -> str:
    """What is read for a date: the whole answer up to `READ_LIMIT` characters; of a longer
    one, its sentences that end within the limit. A date cut at the limit would read as
    another date ("٣ آذار ٢٠٢" is March of this year), so it is not read at all; an answer
    with no sentence end in its first `READ_LIMIT` characters is read for no date."""
    if len(raw) <= READ_LIMIT:
        return raw
    ends = [m.end() for m in _SENTENCE_END.finditer(raw, 0, READ_LIMIT + 1)]
    return raw[: ends[-1]] if ends else ""


def _search(prepared: str, now: datetime | None, parser: Any) -> Any:
    """Find a date inside a longer answer ("it was around March 2023, at night")."""
    from dateparser.search import search_dates  # type: ignore[import-untyped]

    found = search_dates(prepared, languages=_LANGUAGES, settings=_settings(now))
    if not found:
        return None
    return parser.get_date_data(found[0][0])
