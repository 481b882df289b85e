"""The queue's request parameters (issue 16; contracts.md `/queue?q=TEXT&page=N&sort=COLUMN`):
search words, filters, saved views, sorting and paging read from the query string, and the
links that keep them when a column is sorted or a page turned. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from core import RefusedError
from storage import search

__all__ = [
    "CASE_OPS",
    "CHANNELS",
    "KEPT",
    "REPORTER_LANGS",
    "VIEWS",
    "BadQuery",
    "Parsed",
    "case_op",
    "link",
    "page_numbers",
    "parse",
    "sort_link",
]

# Saved views: a name a caseworker clicks, and the filters it stands for.
VIEWS: dict[str, dict[str, str]] = {
    "mine": {"mine": "1"},
    "overdue": {"overdue": "1"},
    "urgent_unassigned": {"unassigned": "1", "priority": "1"},
}
CHANNELS = ("telegram", "signal", "console", "web")
REPORTER_LANGS = ("ar", "en")
# The parameters a queue link carries on (never `lang`: that is the page's own language).
KEPT = (
    "q",
    "status",
    "type",
    "priority",
    "mine",
    "unassigned",
    "overdue",
    "country",
    "region",
    "channel",
    "rlang",
    "label",
    "assignee",
    "from",
    "to",
    "sort",
    "view",
)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class BadQuery(RefusedError, ValueError):
    """A parameter the page cannot use; `code` keys the text shown (refused.*)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Parsed:
    query: search.QueueQuery
    params: dict[str, str]  # the parameters as understood, for the form and the links
    view: str | None


def _date(raw: str) -> date | None:
    text = raw.strip().translate(_DIGITS)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery("bad_date") from None


def _int(raw: str, low: int, high: int) -> int | None:
    text = raw.strip().translate(_DIGITS)
    if not text or len(text) > 7 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse(raw: Mapping[str, str], statuses: tuple[str, ...]) -> Parsed:
    """The queue's query from the request's parameters; an unusable date raises BadQuery,
    other odd values are ignored (an unknown status, a page of "x")."""
    params = {k: str(raw.get(k, "")).strip()[:200] for k in KEPT if raw.get(k)}
    view = params.get("view")
    if view in VIEWS:
        params = {**VIEWS[view], **params}
    else:
        params.pop("view", None)
        view = None
    start, end = _date(params.get("from", "")), _date(params.get("to", ""))
    if start and end and end < start:
        raise BadQuery("bad_date_order")
    sort = params.get("sort", "priority")
    descending = sort.startswith("-")
    if sort.lstrip("-") not in search.SORTS:
        sort, descending = "priority", False
        params.pop("sort", None)
    query = search.QueueQuery(
        q=params.get("q", ""),
        status=params.get("status") if params.get("status") in statuses else None,
        report_type=params.get("type") if params.get("type") in ("complaint", "reprisal") else None,
        priority=_int(params.get("priority", ""), 1, 9),
        mine=params.get("mine") == "1",
        unassigned=params.get("unassigned") == "1",
        overdue=params.get("overdue") == "1",
        country=params.get("country", ""),
        region=params.get("region", ""),
        channel=params.get("channel") if params.get("channel") in CHANNELS else None,
        lang=params.get("rlang") if params.get("rlang") in REPORTER_LANGS else None,
        label=params.get("label") or None,
        assignee=params.get("assignee") or None,
        received_from=datetime.combine(start, datetime.min.time(), UTC) if start else None,
        received_to=(
            datetime.combine(end, datetime.min.time(), UTC) + timedelta(days=1) if end else None
        ),
        sort=sort.lstrip("-"),
        descending=descending,
        page=_int(str(raw.get("page", "")), 1, 10**6) or 1,
    )
    return Parsed(query, params, view)


def link(params: Mapping[str, str], **changes: Any) -> str:
    """/queue with these parameters changed (None removes one); page 1 unless given."""
    merged = {k: v for k, v in params.items() if v}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "/queue" + ("?" + urlencode(merged) if merged else "")


def sort_link(params: Mapping[str, str], column: str) -> tuple[str, str | None]:
    """The link a column header makes, and the column's current order (ascending |
    descending | None) for aria-sort."""
    current = params.get("sort", "priority")
    if current.lstrip("-") == column:
        descending = current.startswith("-")
        return (
            link(params, sort=column if descending else f"-{column}", page=None),
            "descending" if descending else "ascending",
        )
    return link(params, sort=column, page=None), None


def page_numbers(page: int, pages: int) -> list[int]:
    """The page links shown: the first two, the last two and two either side of this one."""
    near = set(range(max(1, page - 2), min(pages, page + 2) + 1))
    return sorted(near | {n for n in (1, 2, pages - 1, pages) if 1 <= n <= pages})


# ------------------------------------------------------------------ case-page changes

CASE_OPS = frozenset({"terms", "label", "unlabel", "link", "unlink", "merge", "unassign"})


def case_op(
    bench: Any, flash: list[Any], who: Any, ref: str, op: str, data: Mapping[str, Any]
) -> str:
    """One workbench change from the case page (blocking); the page to go back to. Refusals
    are raised as caseworker.dashboard.Refused for the caller to show."""
    back = f"/cases/{ref}"
    if op == "terms":
        added = bench.add_terms(who, ref, str(data.get("kind", "")), str(data.get("text", "")))
        flash.append(("ok", "case.terms_added", {"n": str(added)}))
        back += "#organise"
    elif op in ("label", "unlabel"):
        bench.label(who, ref, str(data.get("label", "")), remove=op == "unlabel")
        flash.append(("ok", "case.labels_saved", {}))
        back += "#organise"
    elif op == "link":
        bench.link(who, ref, str(data.get("other", "")), str(data.get("kind", "")))
        flash.append(("ok", "case.linked", {}))
        back += "#organise"
    elif op == "unlink":
        bench.unlink(who, ref, str(data.get("other", "")))
        flash.append(("ok", "case.unlinked", {}))
        back += "#organise"
    elif op == "merge":
        bench.merge(who, ref, str(data.get("into", "")))
        flash.append(("ok", "case.merged", {}))
    elif op == "unassign":
        bench.unassign(who, ref)
        flash.append(("ok", "case.released", {}))
        back = "/queue"
    return back
