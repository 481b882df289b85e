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

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, Case

__all__ = ["DIMENSIONS", "MULTI", "StatValue", "counts", "forget_case_statistics",
           "record_case", "set_status", "stat_key"]

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
    session.execute(delete(StatValue).where(StatValue.row_key == key))
    if not _consented(case):
        return
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


def forget_case_statistics(session: Session, case_id: str, pepper: bytes) -> None:
    """Withdrawal, retention expiry or a revoked consent_stats: the report's rows go."""
    session.execute(delete(StatValue).where(StatValue.row_key == stat_key(pepper, case_id)))


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
