"""Finding cases without decrypting them (issue 16 item 1): blind indexes of the names of
facilities, places and people, and the queue's filters, sorting and paging.

A blind-index term is HMAC-SHA256(K, kind | word)[:16], where `word` is one normalised word
of an answer and K = HKDF-SHA256(pepper, info="sanad/v1/blind-index"). The pepper is the
organisation's secret in the home folder (keys/pepper); K is never written anywhere, so the
database alone cannot be searched, and a guessed name cannot be tested against it without
the home's keys. What a term reveals to whoever holds K and the database: which cases share a
word of a place or a name (that is what search and the duplicates hint need), never the word.

Normalisation, so that a caseworker finds "سجن صيدنايا" when the reporter wrote "سِجْن
صَيْدنايا", "السجن", "Saydnaya" or "SAYDNAYA": Unicode NFKC, case folding, Arabic diacritics
and tatweel dropped, alef/hamza forms, alef maqsura and teh marbuta unified, the definite
article "ال" (and "وال"/"بال"/"لل") dropped from longer words, Arabic-Indic digits made ASCII,
and a few very common words (in, of, near, في, من, قرب...) left out. A query is normalised
the same way and a case matches when it has every word of it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Select, and_, delete, exists, false, func, or_, select
from sqlalchemy.orm import Session

from storage.caseworker_models import CaseAction
from storage.models import Case, User
from storage.search_models import CaseLabel, CaseTerm

__all__ = [
    "INDEXED_FIELDS",
    "KINDS",
    "MAX_TERMS",
    "PAGE_SIZE",
    "SORTS",
    "STOPWORDS",
    "QueueQuery",
    "add_terms",
    "all_labels",
    "as_ref",
    "index_case",
    "index_key",
    "labels_of",
    "normalise",
    "ordered",
    "term",
    "terms_of",
    "where",
]

KINDS = ("place", "country", "person")
# Which answers feed which kind of term. Places: where it happened (facility names are typed
# there: "Saydnaya prison", "فرع فلسطين"); people: the names the identity section holds and
# who is in danger. Names are indexed as HMACs only, so a caseworker can find a case about a
# person without opening the identity section, which stays sealed to custodians.
INDEXED_FIELDS: dict[str, str] = {
    "incident_location": "place",
    "country": "country",
    "victim_name": "person",
    "reporter_name": "person",
    "urgent_who": "person",
}
STOPWORDS = frozenset(
    {
        "the",
        "of",
        "in",
        "at",
        "a",
        "an",
        "and",
        "near",
        "to",
        "on",
        "by",
        "from",
        "في",
        "من",
        "الى",
        "الي",
        "على",
        "علي",
        "عند",
        "قرب",
        "و",
        "او",
        "عن",
        "مع",
    }
)
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ک": "ك",
        "ی": "ي",
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_WORD = re.compile(r"\w+")
_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")
MAX_TERMS = 64  # per answer: a long answer is cut, not indexed word by word without end


def normalise(text: str) -> list[str]:
    """The words of `text` as the index keeps them (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIACRITICS.sub("", text).translate(_LETTERS)
    words = []
    for word in _WORD.findall(text):
        word = word.replace("_", "")
        for article in _ARTICLES:
            if word.startswith(article) and len(word) - len(article) >= 3:
                word = word[len(article) :]
                break
        if len(word) >= 2 and word not in STOPWORDS and word not in words:
            words.append(word)
    return words[:MAX_TERMS]


def index_key(pepper: bytes) -> bytes:
    """K, derived from the organisation's pepper; held in memory only."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"sanad/v1/blind-index"
    ).derive(bytes(pepper))


def term(key: bytes, kind: str, word: str) -> bytes:
    return hmac.new(key, f"{kind}|{word}".encode(), hashlib.sha256).digest()[:16]


def _text_of(value: Any) -> str:
    if isinstance(value, Mapping):  # a dated or normalised answer keeps what was typed
        return str(value.get("raw") or value.get("text") or "")
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def terms_of(key: bytes, fields: Mapping[str, Any]) -> set[tuple[bytes, str]]:
    out: set[tuple[bytes, str]] = set()
    for field_id, kind in INDEXED_FIELDS.items():
        for word in normalise(_text_of(fields.get(field_id))):
            out.add((term(key, kind, word), kind))
    return out


def index_case(
    session: Session,
    pepper: bytes | None,
    case_id: str,
    fields: Mapping[str, Any],
    source: str = "intake",
) -> int:
    """(Re)compute a case's intake terms from its answers in memory (at submission, and when
    a report is completed later); a caseworker's own terms stay. The number of terms."""
    if pepper is None:
        return 0
    found = terms_of(index_key(pepper), fields)
    session.execute(delete(CaseTerm).where(CaseTerm.case_id == case_id, CaseTerm.source == source))
    session.flush()
    have = set(
        session.execute(
            select(CaseTerm.term, CaseTerm.kind).where(CaseTerm.case_id == case_id)
        ).all()
    )
    for value, kind in sorted(found - {(t, k) for t, k in have}):
        session.add(CaseTerm(term=value, case_id=case_id, kind=kind, source=source))
    session.flush()
    return len(found)


def add_terms(
    session: Session, pepper: bytes, case_id: str, kind: str, text: str, author: str
) -> int:
    """A caseworker adds a facility, place or person name found in the narrative or a file
    (the words are hashed here and never stored). The number of new terms."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    key = index_key(pepper)
    have = set(
        session.scalars(
            select(CaseTerm.term).where(CaseTerm.case_id == case_id, CaseTerm.kind == kind)
        )
    )
    added = 0
    for word in normalise(text):
        value = term(key, kind, word)
        if value not in have:
            session.add(CaseTerm(term=value, case_id=case_id, kind=kind, source=author[:64]))
            have.add(value)
            added += 1
    session.flush()
    return added


# ------------------------------------------------------------------ the queue's query

SORTS = {  # column -> the ORDER BY it means, most useful direction first
    "priority": (Case.priority, Case.received_at, Case.case_ref),
    "received": (Case.received_at, Case.case_ref),
    "ref": (Case.case_ref,),
    "status": (Case.status, Case.priority, Case.received_at),
}
PAGE_SIZE = 50
_REF = re.compile(r"^[A-Z0-9]{3}-?[A-Z0-9]{3}$")


@dataclass
class QueueQuery:
    """What the queue page asks for; every field optional."""

    q: str = ""
    status: str | None = None
    report_type: str | None = None
    priority: int | None = None
    mine: bool = False
    unassigned: bool = False
    overdue: bool = False
    country: str = ""
    region: str = ""
    channel: str | None = None
    lang: str | None = None
    label: str | None = None
    assignee: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None  # exclusive
    sort: str = "priority"
    descending: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE


def as_ref(text: str) -> str | None:
    """A case reference typed with or without its hyphen, in any case."""
    compact = text.strip().upper().replace(" ", "")
    if not _REF.match(compact):
        return None
    return compact if "-" in compact else f"{compact[:3]}-{compact[3:]}"


def _all_words(key: bytes, kinds: Iterable[str], words: list[str]) -> Any:
    """Cases having every word among terms of one of `kinds`."""
    kinds = tuple(kinds)
    conditions = []
    for word in words:
        values = [term(key, kind, word) for kind in kinds]
        conditions.append(Case.id.in_(select(CaseTerm.case_id).where(CaseTerm.term.in_(values))))
    return conditions


def where(
    query: Select[Any], q: QueueQuery, pepper: bytes | None, user_id: str, now: datetime
) -> Select[Any]:
    """The filters of `q` applied to a select over Case."""
    if q.status:
        query = query.where(Case.status == q.status)
    if q.report_type:
        query = query.where(Case.report_type == q.report_type)
    if q.priority:
        query = query.where(Case.priority == q.priority)
    if q.mine:
        query = query.where(Case.assigned_to == user_id)
    if q.unassigned:
        query = query.where(Case.assigned_to.is_(None))
    if q.channel:
        query = query.where(Case.channel == q.channel)
    if q.lang:
        query = query.where(Case.lang == q.lang)
    if q.received_from:
        query = query.where(Case.received_at >= q.received_from)
    if q.received_to:
        query = query.where(Case.received_at < q.received_to)
    if q.assignee:
        query = query.where(
            Case.assigned_to.in_(select(User.id).where(func.lower(User.name) == q.assignee.lower()))
        )
    if q.label:
        query = query.where(
            exists().where(CaseLabel.case_id == Case.id, CaseLabel.label == q.label)
        )
    if q.overdue:
        query = query.where(
            exists().where(
                CaseAction.case_id == Case.id,
                CaseAction.deadline.is_not(None),
                CaseAction.deadline <= now,
            )
        )
    key = index_key(pepper) if pepper is not None else None
    for text, kinds in ((q.country, ("country",)), (q.region, ("place",))):
        words = normalise(text)
        if words:
            if key is None:
                return query.where(false())
            for condition in _all_words(key, kinds, words):
                query = query.where(condition)
    if q.q.strip():
        ref = as_ref(q.q)
        words = normalise(q.q)
        by_words = None
        if words and key is not None:
            conditions = _all_words(key, KINDS, words)
            by_words = and_(*conditions)
        if ref and by_words is not None:
            query = query.where(or_(Case.case_ref == ref, by_words))
        elif ref:
            query = query.where(Case.case_ref == ref)
        elif by_words is not None:
            query = query.where(by_words)
        else:
            query = query.where(false())
    return query


def ordered(query: Select[Any], q: QueueQuery) -> Select[Any]:
    columns = SORTS.get(q.sort, SORTS["priority"])
    return query.order_by(*[c.desc() if q.descending else c.asc() for c in columns])


def labels_of(session: Session, case_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if case_ids:
        for case_id, label in session.execute(
            select(CaseLabel.case_id, CaseLabel.label)
            .where(CaseLabel.case_id.in_(case_ids))
            .order_by(CaseLabel.label)
        ):
            out.setdefault(case_id, []).append(label)
    return out


def all_labels(session: Session) -> list[str]:
    return list(session.scalars(select(CaseLabel.label).distinct().order_by(CaseLabel.label)))
