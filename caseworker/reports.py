"""The periodic (annual) report of allegations and the steps taken (San José Guidelines 15,
25, 32-33): counts that decrypt nothing and cannot re-identify anyone.

The population is the consented reports (statistics rows, storage.statistics) received in
the whole months the period covers; every table describes that one population:
- `total`, then `report_type` (complaint, reprisal, none): one table summing to the total;
- for each of complaint and reprisal (reprisals apart, SJ 32-33) whose count is published
  exactly, cross-tables with the type: `report_type × country` and `report_type × status`
  (the outcome so far), each summing to the type's count; `report_type × steps` (cases with
  at least one step of each kind done: a case counts once per kind, so no sum is published);
  and for each State-facing step published exactly, `report_type × steps × state_response`
  (the latest response recorded on that step of each case) summing to that step's count;
- `first_assessment_hours`: median and 90th percentile of the hours from receipt to the first
  move out of "allegation, pending assessment", shown only when the figures already published
  guarantee at least `k` assessed reports (so its presence tells nothing new).
Every table goes through caseworker.statistics.publish (primary and complementary
suppression), with the count it sums to as its total, and a section whose total is not shown
exactly is left out: no cell follows from totals, margins or other tables of the report.
The overall country and status tables are not published (their margins would let a
suppressed cross-cell be differenced). Actions and timestamps are plaintext metadata
(storage.casework); statistics rows link to cases only through HMAC(pepper, case id).
"""

from __future__ import annotations

import calendar
import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from caseworker import statistics as stats_publish
from core import RefusedError
from core.time import as_utc as _utc
from storage import accounts
from storage.cases import INITIAL_STATUS
from storage.casework import ACTION_CONSENT
from storage.caseworker_models import CaseAction
from storage.db import Database
from storage.models import Case, CaseEvent
from storage.statistics import StatValue, stat_key

__all__ = ["REPORT_ROLES", "STATE_RESPONSES", "STATE_STEPS", "STEP_KINDS", "PeriodError",
           "PeriodicReport", "ReportCase", "ReportRow", "build_report", "compose",
           "parse_period", "periodic_report", "report_csv"]

REPORT_ROLES = frozenset({"supervisor", "auditor", "admin"})
SECTIONS = ("complaint", "reprisal")
STEP_KINDS = tuple(ACTION_CONSENT)  # raise_with_state, interim_measures, refer, ...
STATE_STEPS = ("raise_with_state", "interim_measures")
# What the State answered to a step (CaseAction.detail["state_response"]), or what is known
# without an answer: `awaiting` (no answer yet) and `overdue` (interim measures' deadline
# passed without one).
STATE_RESPONSES = ("replied", "measures_taken", "refused", "awaiting", "overdue")
MAX_MONTHS = 60
X = " × "  # joins the parts of a cross-table's dimension and value (contracts.md)
# a single-choice and a multiple-choice dimension of storage.statistics, used only to tell
# `publish` which suppression a table needs (sum constraint or primary only)
_SINGLE_CARRIER, _MULTI_CARRIER = "country", "perpetrator_type"


class PeriodError(RefusedError, ValueError):
    """A period that is not two ISO dates in order, within MAX_MONTHS; `code` keys a text."""

    def __init__(self, message: str, code: str = "bad_period") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReportRow:
    dimension: str
    value: str
    count: str  # an integer, `<N` when suppressed; hours for first_assessment_hours


@dataclass(frozen=True)
class PeriodicReport:
    first_month: str  # YYYY-MM
    last_month: str
    threshold: int
    rows: tuple[ReportRow, ...]

    @property
    def total(self) -> str:
        return self.rows[0].count

    def table(self, dimension: str) -> list[ReportRow]:
        return [r for r in self.rows if r.dimension == dimension]


def parse_period(start: str | None, end: str | None) -> tuple[date, date]:
    """Two ISO dates (YYYY-MM-DD, ASCII or Arabic-Indic digits), start <= end."""
    try:
        first = date.fromisoformat(_ascii(start or ""))
        last = date.fromisoformat(_ascii(end or ""))
    except ValueError as exc:
        raise PeriodError("the period needs two dates as YYYY-MM-DD") from exc
    if last < first:
        raise PeriodError("the period ends before it starts", "period_order")
    if (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_MONTHS:
        raise PeriodError(f"the period may cover at most {MAX_MONTHS} months", "period_long")
    return first, last


def _ascii(text: str) -> str:
    return text.strip().translate({ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")})


def _months(first: date, last: date) -> tuple[str, str, datetime, datetime]:
    """The whole months covered (the statistics rows keep only the month) and their bounds."""
    begin = datetime(first.year, first.month, 1, tzinfo=UTC)
    days = calendar.monthrange(last.year, last.month)[1]
    until = datetime(last.year, last.month, days, tzinfo=UTC) + timedelta(days=1)
    return first.strftime("%Y-%m"), last.strftime("%Y-%m"), begin, until


def _publish(total: int, cells: dict[str, int], k: int, multi: bool
             ) -> tuple[str, dict[str, str] | None]:
    """(total as shown, {value: shown} or None when the table had to be left out)."""
    carrier = _MULTI_CARRIER if multi else _SINGLE_CARRIER
    rows = stats_publish.publish(total, {(carrier, v): n for v, n in cells.items() if n > 0}, k)
    shown = {r["value"]: str(r["count"]) for r in rows if r["dimension"] == carrier}
    dropped = bool(shown == {} and any(n > 0 for n in cells.values()) and total >= k)
    return str(rows[0]["count"]), (None if dropped else shown)


def _exact(shown: str | None) -> int | None:
    return int(shown) if shown is not None and shown.isdigit() else None


@dataclass
class ReportCase:
    report_type: str
    country: str
    status: str
    received_at: datetime
    steps: dict[str, list[CaseAction]]
    assessed_at: datetime | None = None


def _population(session: Any, pepper: bytes, first_month: str, last_month: str,
                begin: datetime, until: datetime) -> dict[str, ReportCase]:
    """The consented reports of the months, by case id, with their statistics values and
    their actions and first assessment (plaintext metadata)."""
    values: dict[str, dict[str, str]] = defaultdict(dict)
    keys_in_period = select(StatValue.row_key).where(
        StatValue.dimension == "month", StatValue.value >= first_month,
        StatValue.value <= last_month)
    for key, dim, value in session.execute(
            select(StatValue.row_key, StatValue.dimension, StatValue.value).where(
                StatValue.row_key.in_(keys_in_period),
                StatValue.dimension.in_(("report_type", "country", "status")))):
        values[key][dim] = value
    found: dict[str, ReportCase] = {}
    # a day's margin each side: the month was taken from the same received_at, in UTC
    for case_id, received in session.execute(select(Case.id, Case.received_at).where(
            Case.received_at >= begin - timedelta(days=1),
            Case.received_at < until + timedelta(days=1))):
        row = values.get(stat_key(pepper, case_id))
        if row is not None:
            found[case_id] = ReportCase(row.get("report_type", "none"), row.get("country", "none"),
                                   row.get("status", "none"), _utc(received), defaultdict(list))
    ids = list(found)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for action in session.scalars(select(CaseAction).where(
                CaseAction.case_id.in_(chunk), CaseAction.outcome == "done")
                .order_by(CaseAction.at, CaseAction.id)):
            found[action.case_id].steps[action.kind].append(action)
        for event in session.scalars(select(CaseEvent).where(
                CaseEvent.case_id.in_(chunk), CaseEvent.kind == "status_changed")
                .order_by(CaseEvent.at, CaseEvent.id)):
            case = found[event.case_id]
            if case.assessed_at is None and (event.detail or {}).get("from") == INITIAL_STATUS:
                case.assessed_at = _utc(event.at)
    return found


def _response(actions: list[CaseAction], now: datetime) -> str:
    """The latest answer the State gave to this step of a case, or what is known without."""
    for action in reversed(actions):
        answer = (action.detail or {}).get("state_response")
        if answer in STATE_RESPONSES:
            return str(answer)
    deadlines = [_utc(a.deadline) for a in actions if a.deadline is not None]
    return "overdue" if deadlines and max(deadlines) <= now else "awaiting"


def _percentile(sorted_hours: list[float], share: float) -> int:
    """Nearest-rank percentile, in whole hours."""
    return round(sorted_hours[max(0, math.ceil(share * len(sorted_hours)) - 1)])


def build_report(session: Any, pepper: bytes, first: date, last: date, now: datetime,
                 k: int = stats_publish.DEFAULT_THRESHOLD) -> PeriodicReport:
    first_month, last_month, begin, until = _months(first, last)
    population = _population(session, pepper, first_month, last_month, begin, until)
    return compose(list(population.values()), first_month, last_month, now, k)


def compose(population: list[ReportCase], first_month: str, last_month: str, now: datetime,
            k: int = stats_publish.DEFAULT_THRESHOLD) -> PeriodicReport:
    """The report's tables from the population (pure: the re-identification tests drive it
    with random populations)."""
    rows: list[ReportRow] = []
    by_type: dict[str, list[ReportCase]] = defaultdict(list)
    for case in population:
        by_type[case.report_type].append(case)
    total_shown, types = _publish(len(population), {t: len(c) for t, c in by_type.items()},
                                  k, multi=False)
    rows.append(ReportRow("total", "", total_shown))
    for value, shown in sorted((types or {}).items()):
        rows.append(ReportRow("report_type", value, shown))
    for section in SECTIONS:
        count = _exact((types or {}).get(section))
        if count is None or count < k:
            continue  # not shown exactly: nothing may be broken down from it
        rows += _section(section, by_type[section], k, now)
    return PeriodicReport(first_month, last_month, k, tuple(rows))


def _section(section: str, members: list[ReportCase], k: int, now: datetime) -> list[ReportRow]:
    out: list[ReportRow] = []
    total = len(members)

    def single(name: str, cells: dict[str, int]) -> dict[str, str] | None:
        _, shown = _publish(total, cells, k, multi=False)
        for value, text in sorted((shown or {}).items()):
            out.append(ReportRow(f"report_type{X}{name}", f"{section}{X}{value}", text))
        return shown

    def tally(attr: str) -> dict[str, int]:
        cells: dict[str, int] = defaultdict(int)
        for case in members:
            cells[getattr(case, attr)] += 1
        return cells

    single("country", tally("country"))
    statuses = single("status", tally("status"))
    step_cells = {kind: sum(1 for c in members if c.steps.get(kind)) for kind in STEP_KINDS}
    _, steps = _publish(total, step_cells, k, multi=True)
    for kind in STEP_KINDS:
        if kind in (steps or {}):
            out.append(ReportRow(f"report_type{X}steps", f"{section}{X}{kind}",
                                 (steps or {})[kind]))
    for kind in STATE_STEPS:
        contacted = [c for c in members if c.steps.get(kind)]
        if _exact((steps or {}).get(kind)) is None:
            continue
        answers: dict[str, int] = defaultdict(int)
        for case in contacted:
            answers[_response(case.steps[kind], now)] += 1
        _, shown = _publish(len(contacted), answers, k, multi=False)
        for value, text in sorted((shown or {}).items()):
            out.append(ReportRow(f"report_type{X}steps{X}state_response",
                                 f"{section}{X}{kind}{X}{value}", text))
    out += _timing(section, members, statuses, k)
    return out


def _timing(section: str, members: list[ReportCase], statuses: dict[str, str] | None,
            k: int) -> list[ReportRow]:
    """Median and p90 of the hours to first assessment, when what is already published
    guarantees at least k assessed reports (so the figures' presence reveals nothing)."""
    if statuses is None:
        return []
    pending = statuses.get(INITIAL_STATUS)
    hidden_at_most = 0 if pending is None else (
        int(pending) if pending.isdigit() else int(pending[1:]) - 1)
    if len(members) - hidden_at_most < k:
        return []
    hours = sorted((c.assessed_at - c.received_at).total_seconds() / 3600 for c in members
                   if c.assessed_at is not None)
    if len(hours) < k:  # cannot happen when the statuses are consistent; never show fewer
        return []
    return [ReportRow("first_assessment_hours", f"{section}{X}median",
                      str(_percentile(hours, 0.5))),
            ReportRow("first_assessment_hours", f"{section}{X}p90",
                      str(_percentile(hours, 0.9)))]


def periodic_report(db: Database, pepper: bytes, actor: str, role: str, first: date,
                    last: date, now: datetime | None = None,
                    k: int = stats_publish.DEFAULT_THRESHOLD, channel: str = "web"
                    ) -> PeriodicReport:
    """The one way in for the dashboard and `sanad report periodic`: role checked, audited
    (with the period; never a count that was suppressed)."""
    now = now or datetime.now(UTC)
    with db.transaction() as session:
        if role not in REPORT_ROLES:
            accounts.audit(session, actor, "report.periodic", None, "refused", now,
                           reason="role")
            raise PermissionError(f"the role {role} may not produce the periodic report")
        report = build_report(session, pepper, first, last, now, k)
        accounts.audit(session, actor, "report.periodic", None, "granted", now,
                       period=f"{report.first_month}/{report.last_month}", channel=channel)
    return report


def report_csv(report: PeriodicReport) -> str:
    """`dimension,value,count` like the statistics CSV, with a first `period` row. Every
    cell is an option id, an ISO country code or a number: nothing a spreadsheet could run."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["dimension", "value", "count"])
    writer.writerow(["period", f"{report.first_month}/{report.last_month}", ""])
    for row in report.rows:
        writer.writerow([row.dimension, row.value, row.count])
    return out.getvalue()
