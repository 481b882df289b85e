"""The periodic (annual) report of allegations and the steps taken (San José Guidelines 15,
25, 32-33): counts that decrypt nothing and cannot re-identify anyone.

Two kinds of figures, each published so that no report, and no two reports, can be
subtracted from each other or from the statistics page:
- **Reports received** in the whole months the period covers: `total`, `report_type`,
  `status` (the outcome so far) and `report_type × country`, copied from the canonical
  statistics release for that range (caseworker.release, `Release.range`), the very figures
  the statistics page shows for it. The report suppresses nothing of its own here, so it
  cannot make complementary choices that differ from the page's.
- **Steps taken, State responses and time to first assessment**, counted only for whole
  calendar years inside the period, a section per year and type (`year × report_type ×
  steps`, `year × report_type × steps × state_response`, `year × report_type ×
  first_assessment_hours`): years never overlap, so no two periods differ by a month of
  steps. A period holding no whole year says so (a `note` row) instead. Under each type's
  count for the year, shown exactly by the release: `steps` (cases with at least one step of
  each kind done; a case counts once per kind, so no sum is published, primary suppression
  only); for each State-facing step shown exactly, the latest State response of each case,
  summing to that step's count (caseworker.statistics.publish, primary and complementary;
  an interim measure still unanswered is `overdue` once its deadline's month has ended);
  the median and 90th percentile of the hours from receipt to the first move out of
  "allegation, pending assessment", as the upper bound of their bucket (`24`: within 24
  hours; `>720`), only when the published figures (the type's count less the most the
  year's pending count can be) already guarantee at least `k` assessed reports.
Everything is read from the statistics table (storage.statistics: the casework rows are
refreshed there whenever a step, an answer or a status is recorded), counted by the database
and cached with the release, so a report is composed in memory; statistics rows link to cases
only through HMAC(pepper, case id).
"""

from __future__ import annotations

import calendar
import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from caseworker import statistics as stats_publish
from caseworker.release import Release, Snapshot
from caseworker.release import build as build_release
from core import RefusedError
from storage import ACTION_CONSENT, INITIAL_STATUS, Database, accounts, casework
from storage import statistics as stat_rows

__all__ = [
    "JOINER",
    "POPULATION_TABLES",
    "REPORT_ROLES",
    "RESPONSES",
    "SECTIONS",
    "STATE_RESPONSES",
    "STATE_STEPS",
    "STEPS",
    "STEP_KINDS",
    "TIMING",
    "WHOLE_YEARS_ONLY",
    "PeriodError",
    "PeriodicReport",
    "ReportRow",
    "compose",
    "parse_period",
    "periodic_report",
    "report_csv",
    "snapshot_for",
    "whole_years",
]

REPORT_ROLES = frozenset({"supervisor", "auditor", "admin"})
SECTIONS = ("complaint", "reprisal")
STEP_KINDS = tuple(ACTION_CONSENT)  # raise_with_state, interim_measures, refer, ...
STATE_STEPS = casework.STATE_STEPS
# What the State answered to a step (CaseAction.detail["state_response"]), or what is known
# without an answer: `awaiting` (no answer yet) and `overdue` (interim measures' deadline
# passed without one).
STATE_RESPONSES = ("replied", "measures_taken", "refused", "awaiting", "overdue")
MAX_MONTHS = 60
JOINER = " × "  # joins the parts of a cross-table's dimension and value (contracts.md)
# the release's tables the report copies for the period's reports
POPULATION_TABLES = ("total", "report_type", "status", f"report_type{JOINER}country")
# the tables of one whole calendar year's steps
STEPS = f"year{JOINER}report_type{JOINER}steps"
RESPONSES = f"year{JOINER}report_type{JOINER}steps{JOINER}state_response"
TIMING = f"year{JOINER}report_type{JOINER}first_assessment_hours"
WHOLE_YEARS_ONLY = "steps_for_whole_years_only"  # the `note` row of a period without one
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


def _publish(
    total: int, cells: dict[str, int], k: int, multi: bool
) -> tuple[str, dict[str, str] | None]:
    """(total as shown, {value: shown} or None when the table had to be left out)."""
    carrier = _MULTI_CARRIER if multi else _SINGLE_CARRIER
    rows = stats_publish.publish(total, {(carrier, v): n for v, n in cells.items() if n > 0}, k)
    shown = {r["value"]: str(r["count"]) for r in rows if r["dimension"] == carrier}
    dropped = bool(shown == {} and any(n > 0 for n in cells.values()) and total >= k)
    return str(rows[0]["count"]), (None if dropped else shown)


def _exact(shown: str | None) -> int | None:
    return int(shown) if shown is not None and shown.isdigit() else None


def _percentile_bucket(histogram: dict[str, int], share: float) -> str:
    """Nearest-rank percentile of bucketed hours: the upper bound of the bucket it falls in
    (`24`: within 24 hours), or `>720` beyond the last."""
    ordered = [(f"h{b}", str(b)) for b in stat_rows.HOUR_BUCKETS]
    ordered.append((f"over{stat_rows.HOUR_BUCKETS[-1]}", f">{stat_rows.HOUR_BUCKETS[-1]}"))
    rank = max(1, math.ceil(share * sum(histogram.values())))
    seen = 0
    for bucket, shown in ordered:
        seen += histogram.get(bucket, 0)
        if seen >= rank:
            return shown
    return ordered[-1][1]


def _answer(value: str, now_month: str) -> str:
    """A stored response as published: `due:YYYY-MM` is overdue once that month has ended."""
    if value.startswith("due:"):
        return "overdue" if value[4:] < now_month else "awaiting"
    return value if value in STATE_RESPONSES else "awaiting"


def whole_years(first_month: str, last_month: str) -> list[str]:
    """The calendar years lying wholly inside first_month..last_month (YYYY-MM)."""
    return [
        str(y)
        for y in range(int(first_month[:4]), int(last_month[:4]) + 1)
        if first_month <= f"{y}-01" and f"{y}-12" <= last_month
    ]


def compose(
    release: Release,
    casework: dict[tuple[str, str, str, str], int],
    first_month: str,
    last_month: str,
    now: datetime,
) -> PeriodicReport:
    """The report's tables (pure: the re-identification tests drive it with random data).
    The counts of reports are the canonical release's figures for the range, copied, never
    computed here; the steps are counted for each whole calendar year from `casework`
    (storage.statistics.casework_tallies: {(month, report_type, dimension, value): n})."""
    k = release.k
    rows = [
        ReportRow(f.dimension, f.value, f.count)
        for f in release.range(first_month, last_month)
        if f.dimension in POPULATION_TABLES
    ]
    if not rows[0].count.isdigit():  # a withheld total: nothing is broken down
        return PeriodicReport(first_month, last_month, k, tuple(rows[:1]))
    years = whole_years(first_month, last_month)
    if not years:
        rows.append(ReportRow("note", WHOLE_YEARS_ONLY, ""))
    for year in years:
        rows += _year(
            release, year, {key: n for key, n in casework.items() if key[0][:4] == year}, k, now
        )
    return PeriodicReport(first_month, last_month, k, tuple(rows))


def _year(
    release: Release,
    year: str,
    casework: dict[tuple[str, str, str, str], int],
    k: int,
    now: datetime,
) -> list[ReportRow]:
    """Steps, State responses and time to first assessment for the reports received in one
    calendar year, under the year's figures of the release."""
    figures = {(f.dimension, f.value): f.count for f in release.range(f"{year}-01", f"{year}-12")}
    if not figures.get(("total", ""), "").isdigit():
        return []
    pending = figures.get(("status", INITIAL_STATUS))  # absent: known to be 0
    pending_at_most = (
        0 if pending is None else (int(pending) if pending.isdigit() else int(pending[1:]) - 1)
    )
    out: list[ReportRow] = []
    for section in SECTIONS:
        count = _exact(figures.get(("report_type", section)))
        if count is None or count < k:
            continue  # not shown exactly: nothing may be broken down from it
        cells: dict[tuple[str, str], int] = defaultdict(int)
        for (_, kind, dim, value), n in casework.items():
            if kind == section:
                cells[(dim, value)] += n
        out += _section(year, section, count, cells, pending_at_most, k, now)
    return out


def _section(
    year: str,
    section: str,
    count: int,
    cells: dict[tuple[str, str], int],
    pending_at_most: int,
    k: int,
    now: datetime,
) -> list[ReportRow]:
    out: list[ReportRow] = []
    step_cells = {kind: cells.get((stat_rows.STEP, kind), 0) for kind in STEP_KINDS}
    _, steps = _publish(count, step_cells, k, multi=True)
    for kind in STEP_KINDS:
        if kind in (steps or {}):
            out.append(
                ReportRow(STEPS, f"{year}{JOINER}{section}{JOINER}{kind}", (steps or {})[kind])
            )
    now_month = now.astimezone(UTC).strftime("%Y-%m")
    for kind in STATE_STEPS:
        if _exact((steps or {}).get(kind)) is None:
            continue
        answers: dict[str, int] = defaultdict(int)
        for (dim, value), n in cells.items():
            if dim == stat_rows.RESPONSE + kind:
                answers[_answer(value, now_month)] += n
        _, shown = _publish(step_cells[kind], answers, k, multi=False)
        for value, text in sorted((shown or {}).items()):
            out.append(
                ReportRow(RESPONSES, f"{year}{JOINER}{section}{JOINER}{kind}{JOINER}{value}", text)
            )
    # median and p90 of the hours to first assessment (buckets), when what is already
    # published (the section's count, the year's pending count) guarantees at least k
    # assessed reports
    if count - pending_at_most >= k:
        hours = {value: n for (dim, value), n in cells.items() if dim == stat_rows.ASSESSED}
        if sum(hours.values()) >= k:  # cannot fail while the counts agree; never show fewer
            out += [
                ReportRow(
                    TIMING, f"{year}{JOINER}{section}{JOINER}median", _percentile_bucket(hours, 0.5)
                ),
                ReportRow(
                    TIMING, f"{year}{JOINER}{section}{JOINER}p90", _percentile_bucket(hours, 0.9)
                ),
            ]
    return out


def snapshot_for(
    db: Database, first: date, last: date, k: int = stats_publish.DEFAULT_THRESHOLD
) -> Snapshot:
    """The canonical release of the years the period touches, with their casework counts
    (the command line has no cached one): each year is audited on its own
    (caseworker.release), so these years' figures are the statistics page's. Counted in one
    short transaction, built after it."""
    years = {str(y) for y in range(first.year, last.year + 1)}
    with db.transaction() as session:
        generation = stat_rows.generation(session)
        profiles, multi = stat_rows.tallies(session)
        casework = stat_rows.casework_tallies(session)
    release = build_release(
        {p: n for p, n in profiles.items() if p[0][:4] in years},
        {m: n for m, n in multi.items() if m[1][:4] in years},
        k,
    )
    return Snapshot(
        release,
        {c: n for c, n in casework.items() if c[0][:4] in years},
        generation,
        datetime.now(UTC),
    )


def periodic_report(
    db: Database,
    actor: str,
    role: str,
    first: date,
    last: date,
    now: datetime | None = None,
    k: int = stats_publish.DEFAULT_THRESHOLD,
    channel: str = "web",
    snapshot: Snapshot | Callable[[], Snapshot] | None = None,
) -> PeriodicReport:
    """The one way in for the dashboard and `sanad report periodic`: role checked, audited
    (with the period; never a count that was suppressed). `snapshot` is the canonical
    release with its casework counts (or a function giving it: the dashboard's cached one),
    counted and built for the period's years when absent; its threshold is the report's.
    Nothing but the statistics table is read: no case, step or event row."""
    now = now or datetime.now(UTC)
    if role not in REPORT_ROLES:
        with db.transaction() as session:
            accounts.audit(session, actor, "report.periodic", None, "refused", now, reason="role")
        raise PermissionError(f"the role {role} may not produce the periodic report")
    if snapshot is None:
        snapshot = snapshot_for(db, first, last, k)
    elif callable(snapshot):
        snapshot = snapshot()
    first_month, last_month, _, _ = _months(first, last)
    report = compose(snapshot.release, snapshot.casework, first_month, last_month, now)
    with db.transaction() as session:
        accounts.audit(
            session,
            actor,
            "report.periodic",
            None,
            "granted",
            now,
            period=f"{report.first_month}/{report.last_month}",
            channel=channel,
        )
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
