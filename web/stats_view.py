"""The statistics page's reading of the dashboard's rows: the date range a reader chose,
labels in the reader's language for one-way and cross-table rows, and the cross-tables'
charts. Every figure comes from Dashboard.statistics (caseworker.release): nothing here
counts."""

from __future__ import annotations

import re
from typing import Any

from caseworker import CROSS, Translator
from core import RefusedError
from web import labels
from web.render import FieldRenderer

__all__ = ["CROSS_TABLES", "RangeError", "cross_rows", "label", "local_digits", "parse_range"]

X = " × "
CROSS_TABLES = tuple(f"{a}{X}{b}" for a, b in CROSS)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_INDIC = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


class RangeError(RefusedError, ValueError):
    """A range that is not two months YYYY-MM in order; `code` keys a catalogue text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


local_digits = labels.digits  # one helper for the reader's digits (web/labels.py)


def _month(text: str) -> str | None:
    text = text.strip().translate(_INDIC)
    if not text:
        return None
    match = _MONTH.match(text[:7]) if len(text) in (7, 10) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise RangeError("stats.bad_range")
    return text[:7]


def parse_range(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """`from`/`to` as YYYY-MM (or a YYYY-MM-DD date, whose month is used; ASCII or
    Arabic-Indic digits); either may be empty (open end)."""
    first, last = _month(start or ""), _month(end or "")
    if first and last and last < first:
        raise RangeError("stats.range_order")
    return first, last


def _one(dim: str, value: str, t: Translator, fields: FieldRenderer) -> str:
    if value == "none" and t.has("stats.unanswered"):
        return t("stats.unanswered")
    if dim == "report_type" and t.has("type." + value):
        return t("type." + value)
    if dim == "status" and t.has("status." + value):
        return t("status." + value)
    if dim in ("country", "month", "total"):
        return value
    return fields.option(value, t.lang) or value


def label(row: dict[str, Any], t: Translator, fields: FieldRenderer) -> str:
    """A row's value in the reader's language; a cross-table's two parts joined by ×."""
    dims, values = row["dimension"].split(X), row["value"].split(X)
    if len(dims) != len(values):
        return str(row["value"])
    return X.join(_one(d, v, t, fields) for d, v in zip(dims, values, strict=True))


def dimension_label(dim: str, t: Translator) -> str:
    return X.join(t("dim." + d) if t.has("dim." + d) else d for d in dim.split(X))


def cross_rows(
    table: list[dict[str, Any]], dim: str, t: Translator, fields: FieldRenderer
) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """A cross-table as (row labels, column labels, {(row, column): count as shown})."""
    a, b = dim.split(X)
    rows: list[str] = []
    cols: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    for row in table:
        if row["dimension"] != dim:
            continue
        va, vb = row["value"].split(X)
        la, lb = _one(a, va, t, fields), _one(b, vb, t, fields)
        if la not in rows:
            rows.append(la)
        if lb not in cols:
            cols.append(lb)
        cells[(la, lb)] = str(row["count"])
    return rows, cols, cells
