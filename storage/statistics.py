"""Statistics rows: the categorical answers of reports whose reporter consented to statistics.

One row per (report, dimension, value), keyed by an HMAC of the case id under the pepper, so
the table holds no free text, no exact date (only the month) and no identifier a database
reader can link to a case; the intake and dashboard (which hold the pepper) find a report's
rows to update its status or to remove them on withdrawal, retention or revoked consent.
Counting reads only this table: nothing is decrypted and every viewer sees the same figures.

Casework (the periodic report's steps, State responses and time to first assessment) is kept
here too, refreshed by `refresh_casework` whenever a step, a State response or a status
change is recorded on the case: `step` (each kind of step done), `response.<step>` (the
latest State answer, or `due:YYYY-MM` for an interim measure still awaiting one, or
`awaiting`) and `assessed_within` (the hours from receipt to the first move out of
"allegation, pending assessment", as a bucket: `h1`, `h6`, `h24`, `h72`, `h168`, `h720` or
`over720`). Only months and buckets: an exact deadline or number of hours would match the
plaintext timestamps of the case tables and link the row to its case.
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

from core import as_utc
from storage.cases import INITIAL_STATUS
from storage.casework import STATE_ANSWERS, STATE_STEPS
from storage.caseworker_models import CaseAction
from storage.models import Base, Case, CaseEvent

__all__ = [
    "ASSESSED",
    "CASEWORK",
    "DIMENSIONS",
    "HOUR_BUCKETS",
    "MULTI",
    "RESPONSE",
    "STEP",
    "StatGeneration",
    "StatValue",
    "casework_tallies",
    "casework_values",
    "counts",
    "forget_case_statistics",
    "generation",
    "hours_bucket",
    "record_case",
    "refresh_casework",
    "stat_key",
    "tallies",
]

SINGLE = (
    "report_type",
    "status",
    "month",
    "country",
    "place_type",
    "victim_gender",
    "victim_age_group",
)
MULTI = ("perpetrator_type", "violation_types", "victim_groups")
DIMENSIONS = SINGLE + MULTI
# casework dimensions (refresh_casework): one `step` row per kind of step done, one
# `response.<kind>` row per State-facing step done, one `assessed_within` row once assessed
STEP = "step"
RESPONSE = "response."
ASSESSED = "assessed_within"
CASEWORK = (STEP, *(RESPONSE + k for k in STATE_STEPS), ASSESSED)
HOUR_BUCKETS = (1, 6, 24, 72, 168, 720)  # upper bounds, in hours; beyond: `over720`
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
    done = session.execute(
        update(StatGeneration)
        .where(StatGeneration.id == 1)
        .values(generation=StatGeneration.generation + 1)
    )
    if not getattr(done, "rowcount", 1):
        session.execute(insert(StatGeneration).values(id=1, generation=1))


def generation(session: Session) -> int:
    """The current generation of the statistics rows (0 before any write)."""
    return int(session.scalar(select(StatGeneration.generation).where(StatGeneration.id == 1)) or 0)


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
    answers = {
        **fields,
        "report_type": case.report_type or "none",
        "status": case.status,
        "month": received.strftime("%Y-%m"),
    }
    for dim in DIMENSIONS:
        values = [answers["month"]] if dim == "month" else _values(dim, answers.get(dim))
        if not values and dim in SINGLE:
            values = ["none"]  # the unanswered share of a one-way table, so it sums to the total
        for value in values:
            session.add(StatValue(row_key=key, dimension=dim, value=value))
    session.flush()
    refresh_casework(session, pepper, case)  # an urgent case completed in place keeps its steps


def hours_bucket(hours: float) -> str:
    """The bucket of a time to first assessment: `h<N>` for at most N hours, or `over720`."""
    for bound in HOUR_BUCKETS:
        if hours <= bound:
            return f"h{bound}"
    return f"over{HOUR_BUCKETS[-1]}"


def casework_values(
    actions: Iterable[Any], received_at: datetime, assessed_at: datetime | None
) -> dict[str, list[str]]:
    """The casework rows of one case (pure): `actions` are its done steps in time order
    (objects with kind, deadline and detail, as storage.caseworker_models.CaseAction)."""
    out: dict[str, list[str]] = {}
    by_kind: dict[str, list[Any]] = {}
    for action in actions:
        by_kind.setdefault(action.kind, []).append(action)
    if by_kind:
        out[STEP] = sorted(k for k in by_kind if _OPTION.match(k))
    for kind, steps in by_kind.items():
        if kind not in STATE_STEPS:
            continue
        answer = next(
            (
                a
                for a in ((s.detail or {}).get("state_response") for s in reversed(steps))
                if a in STATE_ANSWERS
            ),
            None,
        )
        if answer is None:
            deadlines = [s.deadline for s in steps if s.deadline is not None]
            answer = (
                f"due:{as_utc(max(deadlines, key=as_utc)).strftime('%Y-%m')}"
                if deadlines
                else "awaiting"
            )
        out[RESPONSE + kind] = [answer]
    if assessed_at is not None:
        hours = (as_utc(assessed_at) - as_utc(received_at)).total_seconds() / 3600
        out[ASSESSED] = [hours_bucket(max(0.0, hours))]
    return out


def refresh_casework(session: Session, pepper: bytes | None, case: Case) -> bool:
    """After a step, a State response or a status change on the case: its statistics row
    (if it has one) takes the case's status and casework again, in the same transaction.
    False when the case has no statistics row."""
    if pepper is None:
        return False
    key = stat_key(pepper, case.id)
    if (
        session.scalar(
            select(StatValue.value).where(StatValue.row_key == key, StatValue.dimension == "month")
        )
        is None
    ):
        return False  # no consent to statistics (or withdrawn): nothing is kept
    steps = session.scalars(
        select(CaseAction)
        .where(CaseAction.case_id == case.id, CaseAction.outcome == "done")
        .order_by(CaseAction.at, CaseAction.id)
    )
    assessed_at = None
    for event in session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "status_changed")
        .order_by(CaseEvent.at, CaseEvent.id)
    ):
        if (event.detail or {}).get("from") == INITIAL_STATUS:
            assessed_at = event.at
            break
    values = casework_values(list(steps), case.received_at, assessed_at)
    session.execute(
        delete(StatValue).where(
            StatValue.row_key == key, StatValue.dimension.in_(("status", *CASEWORK))
        )
    )
    session.add(StatValue(row_key=key, dimension="status", value=case.status))
    for dim, found in values.items():
        for value in found:
            session.add(StatValue(row_key=key, dimension=dim, value=value))
    _changed(session)
    session.flush()
    return True


def forget_case_statistics(session: Session, case_id: str, pepper: bytes) -> None:
    """Withdrawal, retention expiry or a revoked consent_stats: the report's rows go."""
    session.execute(delete(StatValue).where(StatValue.row_key == stat_key(pepper, case_id)))
    _changed(session)


def counts(
    session: Session, dimensions: Iterable[str] = DIMENSIONS
) -> tuple[int, dict[tuple[str, str], int]]:
    """(number of reports, {(dimension, value): reports}) computed by the database."""
    total = int(
        session.scalar(
            select(func.count()).select_from(StatValue).where(StatValue.dimension == "month")
        )
        or 0
    )
    rows: Any = session.execute(
        select(StatValue.dimension, StatValue.value, func.count())
        .where(StatValue.dimension.in_(list(dimensions)))
        .group_by(StatValue.dimension, StatValue.value)
    )
    return total, {(d, v): int(n) for d, v, n in rows}


_PROFILE = (
    "month",
    "report_type",
    "country",
    "status",
    "place_type",
    "victim_gender",
    "victim_age_group",
)  # caseworker.release.PROFILE
_CARRIER = {
    "perpetrator_type": "country",
    "violation_types": "victim_gender",
    "victim_groups": None,
}  # caseworker.release.MULTI_CARRIER


def tallies(
    session: Session,
) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, str, str, str], int]]:
    """The input of caseworker.release.build, counted by the database in two queries:
    reports by their single-choice answers (month, report_type, country, status, place_type,
    victim_gender, victim_age_group), and multiple-choice values by (dimension, month, the
    carrier answer the release crosses them with, value)."""
    pivot = (
        select(
            StatValue.row_key,
            *[
                func.coalesce(
                    func.max(StatValue.value).filter(StatValue.dimension == d), "none"
                ).label(d)
                for d in _PROFILE
            ],
        )
        .where(StatValue.dimension.in_(_PROFILE))
        .group_by(StatValue.row_key)
        .subquery()
    )
    cols = [pivot.c[d] for d in _PROFILE]
    profiles: Any = session.execute(select(*cols, func.count()).group_by(*cols))
    found = {tuple(row[:-1]): int(row[-1]) for row in profiles}
    many = StatValue.__table__.alias("many")
    rows: Any = session.execute(
        select(
            many.c.dimension,
            pivot.c.month,
            pivot.c.victim_gender,
            pivot.c.country,
            many.c.value,
            func.count(),
        )
        .join(pivot, pivot.c.row_key == many.c.row_key)
        .where(many.c.dimension.in_(MULTI))
        .group_by(
            many.c.dimension, pivot.c.month, pivot.c.victim_gender, pivot.c.country, many.c.value
        )
    )
    multi: dict[tuple[str, str, str, str], int] = {}
    for dim, month, gender, country, value, n in rows:
        carrier = _CARRIER.get(dim)
        key = (
            dim,
            month,
            gender if carrier == "victim_gender" else country if carrier == "country" else "",
            value,
        )
        multi[key] = multi.get(key, 0) + int(n)
    return found, multi


def casework_tallies(session: Session) -> dict[tuple[str, str, str, str], int]:
    """The periodic report's input, counted by the database in one query:
    {(month, report_type, casework dimension, value): reports}."""
    pivot = (
        select(
            StatValue.row_key,
            func.max(StatValue.value).filter(StatValue.dimension == "month").label("month"),
            func.coalesce(
                func.max(StatValue.value).filter(StatValue.dimension == "report_type"), "none"
            ).label("report_type"),
        )
        .where(StatValue.dimension.in_(("month", "report_type")))
        .group_by(StatValue.row_key)
        .subquery()
    )
    work = StatValue.__table__.alias("work")
    rows: Any = session.execute(
        select(pivot.c.month, pivot.c.report_type, work.c.dimension, work.c.value, func.count())
        .join(pivot, pivot.c.row_key == work.c.row_key)
        .where(work.c.dimension.in_(CASEWORK))
        .group_by(pivot.c.month, pivot.c.report_type, work.c.dimension, work.c.value)
    )
    return {(m, t, d, v): int(n) for m, t, d, v, n in rows if m is not None}
