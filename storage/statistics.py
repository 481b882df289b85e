"""Statistics rows: the categorical answers of reports whose reporter consented to statistics.

One row per (report, dimension, value), keyed by an HMAC of the case id under the pepper, so
the table holds no free text, no exact date (only the month) and no identifier a database
reader can link to a case; the intake and dashboard (which hold the pepper) find a report's
rows to update its status or to remove them on withdrawal, retention or revoked consent.
Counting reads only this table: nothing is decrypted and every viewer sees the same figures.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, Case

__all__ = ["DIMENSIONS", "MULTI", "StatGeneration", "StatValue", "counts",
           "forget_case_statistics", "generation", "record_case", "set_status", "stat_key",
           "tallies"]

SINGLE = ("report_type", "status", "month", "country", "place_type", "victim_gender",
          "victim_age_group")
MULTI = ("perpetrator_type", "violation_types", "victim_groups")
DIMENSIONS = SINGLE + MULTI
_OPTION = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class StatValue(Base):
    """One categorical value of one consented report; `row_key` is HMAC(pepper, case id)."""

    __tablename__ = "stat_values"
    row_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(48), primary_key=True)


class StatGeneration(Base):
    """One row whose `generation` goes up with every write to stat_values (same transaction),
    so a cached statistics release knows when it is stale."""

    __tablename__ = "stat_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


def _changed(session: Session) -> None:
    done = session.execute(update(StatGeneration).where(StatGeneration.id == 1)
                           .values(generation=StatGeneration.generation + 1))
    if not getattr(done, "rowcount", 1):
        session.execute(insert(StatGeneration).values(id=1, generation=1))


def generation(session: Session) -> int:
    """The current generation of the statistics rows (0 before any write)."""
    return int(session.scalar(select(StatGeneration.generation)
                              .where(StatGeneration.id == 1)) or 0)


def stat_key(pepper: bytes, case_id: str) -> str:
    """The row key of a case: useless without the pepper (kept in the config, not the database)."""
    return hmac.new(bytes(pepper), b"stats|" + case_id.encode(), hashlib.sha256).hexdigest()


def _consented(case: Case) -> bool:
    entry = (case.consent or {}).get("consent_stats")
    return isinstance(entry, dict) and entry.get("value") == "yes"


def _values(dim: str, raw: Any) -> list[str]:
    """Only option ids (or an ISO country code) are kept; free text never is."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, str):
            continue
        if dim == "country":
            if _COUNTRY.match(item.strip()):
                out.append(item.strip().upper())
        elif _OPTION.match(item):
            out.append(item)
    return sorted(set(out))


def record_case(session: Session, pepper: bytes, case: Case, fields: dict[str, Any]) -> None:
    """(Re)write a report's statistics rows from its answers, or none without consent_stats."""
    key = stat_key(pepper, case.id)
    gone = session.execute(delete(StatValue).where(StatValue.row_key == key))
    if not _consented(case):
        if getattr(gone, "rowcount", 1):
            _changed(session)
        return
    _changed(session)
    received: datetime = case.received_at
    answers = {**fields, "report_type": case.report_type or "none", "status": case.status,
               "month": received.strftime("%Y-%m")}
    for dim in DIMENSIONS:
        values = ([answers["month"]] if dim == "month" else _values(dim, answers.get(dim)))
        if not values and dim in SINGLE:
            values = ["none"]  # the unanswered share of a one-way table, so it sums to the total
        for value in values:
            session.add(StatValue(row_key=key, dimension=dim, value=value))
    session.flush()


def set_status(session: Session, pepper: bytes, case_id: str, status: str) -> None:
    """A status change reaches the statistics row (if the report has one)."""
    session.execute(update(StatValue).where(StatValue.row_key == stat_key(pepper, case_id),
                                            StatValue.dimension == "status")
                    .values(value=status))
    _changed(session)


def forget_case_statistics(session: Session, case_id: str, pepper: bytes) -> None:
    """Withdrawal, retention expiry or a revoked consent_stats: the report's rows go."""
    session.execute(delete(StatValue).where(StatValue.row_key == stat_key(pepper, case_id)))
    _changed(session)


def counts(session: Session, dimensions: Iterable[str] = DIMENSIONS
           ) -> tuple[int, dict[tuple[str, str], int]]:
    """(number of reports, {(dimension, value): reports}) computed by the database."""
    total = int(session.scalar(select(func.count()).select_from(StatValue)
                               .where(StatValue.dimension == "month")) or 0)
    rows: Any = session.execute(
        select(StatValue.dimension, StatValue.value, func.count())
        .where(StatValue.dimension.in_(list(dimensions)))
        .group_by(StatValue.dimension, StatValue.value))
    return total, {(d, v): int(n) for d, v, n in rows}


_PROFILE = ("month", "report_type", "country", "status", "place_type", "victim_gender",
            "victim_age_group")  # caseworker.release.PROFILE
_CARRIER = {"perpetrator_type": "country", "violation_types": "victim_gender",
            "victim_groups": None}  # caseworker.release.MULTI_CARRIER


def tallies(session: Session) -> tuple[dict[tuple[str, ...], int],
                                       dict[tuple[str, str, str, str], int]]:
    """The input of caseworker.release.build, counted by the database in two queries:
    reports by their single-choice answers (month, report_type, country, status, place_type,
    victim_gender, victim_age_group), and multiple-choice values by (dimension, month, the
    carrier answer the release crosses them with, value)."""
    pivot = (select(StatValue.row_key, *[
        func.coalesce(func.max(StatValue.value).filter(StatValue.dimension == d),
                      "none").label(d) for d in _PROFILE])
        .where(StatValue.dimension.in_(_PROFILE)).group_by(StatValue.row_key).subquery())
    cols = [pivot.c[d] for d in _PROFILE]
    profiles: Any = session.execute(select(*cols, func.count()).group_by(*cols))
    found = {tuple(row[:-1]): int(row[-1]) for row in profiles}
    many = StatValue.__table__.alias("many")
    rows: Any = session.execute(
        select(many.c.dimension, pivot.c.month, pivot.c.victim_gender, pivot.c.country,
               many.c.value, func.count())
        .join(pivot, pivot.c.row_key == many.c.row_key)
        .where(many.c.dimension.in_(MULTI))
        .group_by(many.c.dimension, pivot.c.month, pivot.c.victim_gender, pivot.c.country,
                  many.c.value))
    multi: dict[tuple[str, str, str, str], int] = {}
    for dim, month, gender, country, value, n in rows:
        carrier = _CARRIER.get(dim)
        key = (dim, month, gender if carrier == "victim_gender" else
               country if carrier == "country" else "", value)
        multi[key] = multi.get(key, 0) + int(n)
    return found, multi
