"""Published statistics with suppression that holds (domain principle 7).

The rule, for a threshold k (operator setting, default 5):
- If fewer than k reports are counted, only the total is published, as `<k`.
- Primary: a count 1..k-1 is published as `<k`.
- Complementary: every one-way table of a single-choice question (including its `none`,
  the unanswered share) sums to the published total, so the suppressed cells' sum is known.
  Published cells are suppressed too, smallest first, until each primary cell could still be
  any of 1..k-1 and no complementary cell is pinned to one value; a complementary cell of
  count c is shown as `<N`, N the next multiple of k above c (an honest upper bound).
  If that cannot be reached the whole table is left out.
- Multiple-choice tables (violations, perpetrators, groups) have no sum constraint: a report
  counts once per value and their unanswered share is not published, so only primary
  suppression applies.
Absent values are zero. One fixed publication (all consented reports) is offered, so no two
published tables of overlapping periods can be differenced.
"""

from __future__ import annotations

from typing import Any

from storage import DIMENSIONS, MULTI

__all__ = ["DEFAULT_THRESHOLD", "publish", "suppressed_range"]

DEFAULT_THRESHOLD = 5


def _bound(count: int, k: int) -> int:
    return (count // k + 1) * k


def suppressed_range(shown: str) -> tuple[int, int]:
    """What a reader knows of a cell shown as `<N`: it is 1..N-1."""
    return 1, int(shown[1:]) - 1


def _holds(remainder: int, cells: dict[str, tuple[int, int, bool]]) -> bool:
    """Given the suppressed cells (lo, hi, primary) summing to `remainder`, does each keep
    its whole range (primary) or at least two values (complementary)?"""
    if len(cells) == 1:
        return False
    los = sum(lo for lo, _, _ in cells.values())
    his = sum(hi for _, hi, _ in cells.values())
    for lo, hi, primary in cells.values():
        low = max(lo, remainder - (his - hi))
        high = min(hi, remainder - (los - lo))
        if (primary and (low > lo or high < hi)) or low >= high:
            return False
    return True


def _one_way(total: int, cells: dict[str, int], k: int, constrained: bool) -> dict[str, str] | None:
    shown = {v: (f"<{k}" if c < k else str(c)) for v, c in cells.items()}
    if not constrained or not any(c < k for c in cells.values()):
        return shown
    ranges = {v: (1, k - 1, True) for v, c in cells.items() if c < k}
    published = sorted((c, v) for v, c in cells.items() if c >= k)
    while True:
        remainder = total - sum(c for c, _ in published)
        if _holds(remainder, ranges):
            return shown
        if not published:
            return None
        count, value = published.pop(0)
        shown[value] = f"<{_bound(count, k)}"
        ranges[value] = (1, _bound(count, k) - 1, False)


def publish(
    total: int, counts: dict[tuple[str, str], int], k: int = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    """Rows {dimension, value, count, raw} safe to show; `raw` only feeds the bar widths."""
    if total < k:
        return [{"dimension": "total", "value": "", "count": f"<{k}" if total else "0", "raw": 0}]
    rows: list[dict[str, Any]] = [
        {"dimension": "total", "value": "", "count": str(total), "raw": total}
    ]
    for dim in DIMENSIONS:
        cells = {v: n for (d, v), n in counts.items() if d == dim and n > 0}
        shown = _one_way(total, cells, k, dim not in MULTI)
        if shown is None:
            continue
        for value in sorted(cells):
            text = shown[value]
            rows.append(
                {
                    "dimension": dim,
                    "value": value,
                    "count": text,
                    "raw": 0 if text.startswith("<") else cells[value],
                }
            )
    return rows
