"""The canonical statistics release: one suppression over the whole time lattice, from which
every date range a reader may choose is answered (domain principle 7; issue 17).

Why one release. Two tables of overlapping periods (January-June and January-July) give July
by difference, and a total next to all but one of its cells gives the last. So the figures are
decided once, jointly, for every period of the lattice (each month, each quarter, each year):
- primary: a count 1..k-1 (k the operator's threshold, default 5) is shown as `<k`;
- complementary, audited by linear programming: for each suppressed cell an attacker's least
  and greatest value, given every published cell of every period and table, every margin and
  every `<N` (scipy.optimize.linprog, HiGHS). A primary cell must not be pinned and must either
  keep k-1 possible or keep at least k-2 values (at k=5: 1..3, 2..4 or 3..4, never 1..2, 2..3
  or one value), unless the published figures narrow it no further than the suppression
  pattern alone does (every non-zero cell withheld: three months of a year each below k and
  at least 1 are at most 2 whatever is published). The whole 1..k-1 cannot be asked for: a
  part of a suppressed sum is at most the sum less its other, non-zero, suppressed parts),
  a complementary cell (shown `<N`, N the next multiple of k above the period's total: a
  tighter bound would itself narrow the primary cells) at least two values. While one does
  not, the complements are chosen at least cost (`_Year._complements`): one linear program
  per end of the range the cell must keep finds a change of the counts that every coupling
  and every published figure allows, and suppresses the published cells it changes (months
  before quarters before years, totals last, small before large) or loosens a suppressed
  cell's bound (`<5` to `<10`) where that costs less. The constraints only loosen, so a cell
  that passed stays passed. Should that not do, a published cell the bound rests on (a
  non-zero dual), nearest first, is suppressed, and failing everything the year is withheld.
  Years share no published cell (no all-time figure is part of the lattice), so each year is
  audited on its own.
A chosen range [first month, last month] then shows a cell exactly only if its value follows
from the canonical release (the range's month indicator lies in the span of the periods where
that cell is published, year by year) and is 0 or at least k; otherwise it is `<N` with N a
bound computed from the canonical figures alone. A range therefore tells nothing the lattice
did not. The periodic report's consented-population tables use the same rule through
`Release.range` (caseworker.reports).

Tables. One-way tables of every dimension; cross-tables `report_type × country`,
`victim_gender × violation_types`, `country × perpetrator_type`, with their margins (the one-way
tables). A multiple-choice dimension (a report may name several violation types) has no sum:
each of its values is audited as its own yes/no table (the unpublished "no" share is a variable
of the audit), so no margin is presented as a sum. The cross-tables form a tree over the
dimensions (report_type - country - perpetrator values; victim_gender - violation values; the
other dimensions hang on the monthly total), which makes the audit's clique-by-clique linear
program exact for the joint table (junction-tree property): adding a cross-table that closes a
cycle would need the audit to model the joint table instead. The audit is the linear
relaxation (integer attacks are not modelled beyond it); tests/web/test_release_attack.py
attacks the product's outputs with an independent linear program over the full joint table.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

# numpy and scipy are imported where they are used, in the worker thread that builds a
# release: importing scipy takes seconds of CPU (and the GIL), which must not happen in the
# web server's event loop when the statistics page module is first imported.

__all__ = [
    "CROSS",
    "MULTI_CARRIER",
    "PROFILE",
    "Figure",
    "Release",
    "Snapshot",
    "build",
    "months_between",
]

X = " × "  # joins a cross-table's parts (contracts.md, statistics CSV)
# the single-choice answers of one report, in the order of a profile tuple
PROFILE = (
    "month",
    "report_type",
    "country",
    "status",
    "place_type",
    "victim_gender",
    "victim_age_group",
)
SINGLE_CROSS = ("report_type", "country")  # a single × single cross-table
# multiple-choice dimension -> the single-choice dimension it is crossed with (None: one-way)
MULTI_CARRIER: dict[str, str | None] = {
    "perpetrator_type": "country",
    "violation_types": "victim_gender",
    "victim_groups": None,
}
CROSS = (SINGLE_CROSS, ("victim_gender", "violation_types"), ("country", "perpetrator_type"))
ONE_WAY = (
    "report_type",
    "status",
    "month",
    "country",
    "place_type",
    "victim_gender",
    "victim_age_group",
    "perpetrator_type",
    "violation_types",
    "victim_groups",
)
_OWN = ("status", "place_type", "victim_gender", "victim_age_group")  # own one-way cliques
_EPS = 1e-6


def months_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from first to last inclusive."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _periods(year: str) -> list[tuple[str, tuple[str, ...]]]:
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    out: list[tuple[str, tuple[str, ...]]] = [(m, (m,)) for m in months]
    out += [(f"{year}-Q{q}", tuple(months[3 * q - 3 : 3 * q])) for q in range(1, 5)]
    out.append((year, tuple(months)))
    return out


@dataclass
class _Cell:
    table: str
    value: str
    months: frozenset[str]  # the months with reports that the cell covers
    atoms: tuple[int, ...]
    count: int
    parts: tuple[str, ...]
    shown: str = ""  # an integer or `<N`
    primary: bool = False
    structural: tuple[int, int] | None = None

    @property
    def suppressed(self) -> bool:
        return self.shown.startswith("<")


@dataclass(frozen=True)
class Figure:
    """One published row: `count` is an integer or `<N`; `raw` is the exact value when shown
    (for bar widths), else 0."""

    dimension: str
    value: str
    count: str
    raw: int


class _Program:
    """The audit's linear program over one set of constraints, solved for one objective
    after another. HiGHS is handed exactly the model and options linprog(method="highs")
    hands it (rows A_ub then A_eq as lhs <= A x <= rhs, infinities as HiGHS's, presolve on,
    dual simplex) and each solve starts afresh, so the optima and the duals `_binding` reads
    are linprog's; the model is only built once, and linprog's checking and conversion of
    its inputs, three times the solve itself on the audit's small programs, is done once.
    HiGHS's objects do not pickle (a release built in a worker process is sent back): they
    are made again on first use."""

    def __init__(self, a_eq: Any, b_eq: Any, a_ub: Any, b_ub: Any, bounds: Any) -> None:
        import numpy as np
        from scipy.sparse import coo_array

        n = bounds.shape[0]
        if a_ub is None:
            a_ub, b_ub = coo_array((0, n)), np.zeros(0)
        if a_eq is None:
            a_eq, b_eq = coo_array((0, n)), np.zeros(0)
        self.n_ub = a_ub.shape[0]
        self.a_ub, self.b_ub, self.a_eq, self.b_eq = a_ub, b_ub, a_eq, b_eq
        self.lb, self.ub = np.asarray(bounds, dtype=float).T.copy()
        self._model: tuple[Any, Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}

    def _highs(self) -> tuple[Any, Any, Any]:
        """(HiGHS, the model, the options), built once."""
        if self._model is not None:
            return self._model
        import numpy as np
        from scipy.optimize._highspy import _core as highs
        from scipy.sparse import coo_array, csc_array, vstack

        big = highs.kHighsInf

        def finite(x: Any) -> Any:  # infinities as HiGHS's own (linprog's _replace_inf)
            x = np.array(x, dtype=float)
            infs = np.isinf(x)
            x[infs] = np.sign(x[infs]) * big
            return x

        a = csc_array(vstack((coo_array(self.a_ub), coo_array(self.a_eq))))
        lp = highs.HighsLp()
        lp.num_col_ = lp.a_matrix_.num_col_ = a.shape[1]
        lp.num_row_ = lp.a_matrix_.num_row_ = a.shape[0]
        lp.a_matrix_.format_ = highs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        lp.row_lower_ = finite(np.concatenate((np.full(self.n_ub, -np.inf), self.b_eq)))
        lp.row_upper_ = finite(np.concatenate((self.b_ub, self.b_eq)))
        lp.col_lower_ = finite(self.lb)
        lp.col_upper_ = finite(self.ub)
        options = highs.HighsOptions()
        options.presolve = "on"
        options.highs_debug_level = highs.HighsDebugLevel.kHighsDebugLevelNone
        options.log_to_console = False
        options.output_flag = False
        options.simplex_strategy = 1  # dual, as linprog asks
        self._model = (highs, lp, options)
        return self._model

    def minimize(self, cost: Any) -> tuple[bool, str, float, Any]:
        """(solved, message, least value, the duals of the A_eq rows)."""
        import numpy as np

        highs, lp, options = self._highs()
        lp.col_cost_ = cost
        solver = highs._Highs()
        solver.passOptions(options)
        solver.passModel(lp)
        solver.run()
        status = solver.getModelStatus()
        if status != highs.HighsModelStatus.kOptimal:
            return False, solver.modelStatusToString(status), 0.0, None
        solution = solver.getSolution()
        x = np.array(solution.col_value)
        fun = solver.getInfo().objective_function_value
        # linprog's own check of the solution (scipy.optimize._linprog_util._check_result)
        tol = math.sqrt(1e-9) * 10
        slack = self.b_ub - self.a_ub @ x
        con = self.b_eq - self.a_eq @ x
        if (
            np.isnan(x).any()
            or np.isnan(fun)
            or not np.all((x >= self.lb - tol) & (x <= self.ub + tol))
            or (slack < -tol).any()
            or (np.abs(con) > tol).any()
        ):
            return False, "the solution does not satisfy the constraints", 0.0, None
        return True, "", float(fun), np.array(solution.row_dual)[self.n_ub :]


def _program(mats: tuple[Any, ...]) -> _Program | None:
    """A `_Program` for `_Year._matrices`'s constraints; None where this scipy keeps HiGHS
    elsewhere (then linprog solves each)."""
    try:
        from scipy.optimize._highspy import _core  # noqa: F401
    except ImportError:  # pragma: no cover - another scipy
        return None
    a_eq, b_eq, a_ub, b_ub, bounds, _ = mats
    return _Program(a_eq, b_eq, a_ub, b_ub, bounds)


def _spread(k: int) -> int:
    """How many values a primary cell must keep open: k-2 (3 of 1..4 at k=5), at least 2."""
    return max(2, k - 2)


def _bound(count: int, k: int) -> int:
    return (count // k + 1) * k


class _Year:
    """The audit of one calendar year: atoms (clique cells per month), couplings, cells."""

    def __init__(
        self,
        year: str,
        profiles: dict[tuple[str, ...], int],
        multi: dict[tuple[str, str, str, str], int],
        k: int,
    ) -> None:
        self.k = k
        self.year = year
        self.months = sorted({p[0] for p in profiles})
        idx = {d: i for i, d in enumerate(PROFILE)}
        values: dict[str, list[str]] = {
            d: sorted({p[idx[d]] for p in profiles}) for d in PROFILE[1:]
        }
        mvalues: dict[str, list[str]] = defaultdict(list)
        for dim, _, _, v in multi:
            if v not in mvalues[dim]:
                mvalues[dim].append(v)
        for dim in mvalues:
            mvalues[dim].sort()
        self.atoms: list[int] = []  # true counts
        self.eq_rows: list[tuple[tuple[int, ...], tuple[int, ...]]] = []  # (+atoms, -atoms)

        def atom(n: int) -> int:
            self.atoms.append(n)
            return len(self.atoms) - 1

        # report_type × country
        rc: dict[tuple[str, str, str], int] = {}
        tally: dict[str, dict[tuple[str, ...], int]] = defaultdict(lambda: defaultdict(int))
        for p, n in profiles.items():
            tally["rc"][(p[0], p[1], p[2])] += n
            for d in _OWN:
                tally[d][(p[0], p[idx[d]])] += n
        for m in self.months:
            for r in values["report_type"]:
                for c in values["country"]:
                    rc[(m, r, c)] = atom(tally["rc"].get((m, r, c), 0))
        own: dict[str, dict[tuple[str, str], int]] = {}
        for d in _OWN:
            own[d] = {(m, v): atom(tally[d].get((m, v), 0)) for m in self.months for v in values[d]}
            for m in self.months:  # each one-way table sums to the month's total
                self.eq_rows.append(
                    (
                        tuple(own[d][(m, v)] for v in values[d]),
                        tuple(
                            rc[(m, r, c)] for r in values["report_type"] for c in values["country"]
                        ),
                    )
                )

        def margin(dim: str, m: str, v: str) -> tuple[int, ...]:
            if dim == "report_type":
                return tuple(rc[(m, v, c)] for c in values["country"])
            if dim == "country":
                return tuple(rc[(m, r, v)] for r in values["report_type"])
            return (own[dim][(m, v)],)

        def total(m: str) -> tuple[int, ...]:
            return tuple(rc[(m, r, c)] for r in values["report_type"] for c in values["country"])

        # multiple-choice values: a yes/no table each, crossed with its carrier if any
        yes: dict[tuple[str, str, str, str], int] = {}  # (dim, value, month, carrier value)
        for dim, carrier in MULTI_CARRIER.items():
            for v in mvalues.get(dim, []):
                for m in self.months:
                    for cv in values[carrier] if carrier else [""]:
                        n = multi.get((dim, m, cv, v), 0)
                        whole = margin(carrier, m, cv) if carrier else total(m)
                        size = sum(self.atoms[a] for a in whole)
                        y, no = atom(n), atom(size - n)
                        yes[(dim, v, m, cv)] = y
                        self.eq_rows.append(((y, no), whole))
        self.cells: list[_Cell] = []
        seen: set[tuple[str, str, frozenset[str]]] = set()

        def add(
            table: str,
            value: str,
            months: frozenset[str],
            atoms: Iterable[int],
            parts: tuple[str, ...],
        ) -> None:
            if not months or (table, value, months) in seen:
                return
            seen.add((table, value, months))
            atoms = tuple(sorted(atoms))
            self.cells.append(
                _Cell(table, value, months, atoms, sum(self.atoms[a] for a in atoms), parts)
            )

        present = set(self.months)
        for _, period in _periods(year):
            ms = frozenset(period) & present
            add("total", "", ms, (a for m in ms for a in total(m)), ())
            for d in ("report_type", "country", *_OWN):
                for v in values[d]:
                    add(d, v, ms, (a for m in ms for a in margin(d, m, v)), (v,))
            for dim, carrier in MULTI_CARRIER.items():
                for v in mvalues.get(dim, []):
                    cvs = values[carrier] if carrier else [""]
                    add(dim, v, ms, (yes[(dim, v, m, cv)] for m in ms for cv in cvs), (v,))
                    if carrier:
                        for cv in cvs:
                            add(
                                f"{carrier}{X}{dim}",
                                f"{cv}{X}{v}",
                                ms,
                                (yes[(dim, v, m, cv)] for m in ms),
                                (cv, v),
                            )
            for r in values["report_type"]:
                for c in values["country"]:
                    add(
                        f"report_type{X}country",
                        f"{r}{X}{c}",
                        ms,
                        (rc[(m, r, c)] for m in ms),
                        (r, c),
                    )
        self.withheld = False
        # fixed for the year: each period's total, and the atoms a published 0 fixes at 0
        self._totals = {c.months: c.count for c in self.cells if c.table == "total"}
        self._zero = {a for c in self.cells if c.count == 0 for a in c.atoms}
        self._suppress()

    # -------------------------------------------------------------- the audit
    def _static(self) -> tuple[Any, Any]:
        """The couplings and every cell's vector as sparse matrices, built once."""
        from scipy.sparse import csr_matrix

        n = len(self.atoms)
        r, c, v = [], [], []
        for row, (plus, minus) in enumerate(self.eq_rows):
            r += [row] * (len(plus) + len(minus))
            c += [*plus, *minus]
            v += [1.0] * len(plus) + [-1.0] * len(minus)
        couplings = csr_matrix((v, (r, c)), shape=(len(self.eq_rows), n))
        r, c = [], []
        for row, cell in enumerate(self.cells):
            r += [row] * len(cell.atoms)
            c += cell.atoms
        vectors = csr_matrix(([1.0] * len(r), (r, c)), shape=(len(self.cells), n))
        return couplings, vectors

    def _matrices(self) -> tuple[Any, ...]:
        import numpy as np
        from scipy.sparse import vstack

        if not hasattr(self, "_built"):
            self._built = self._static()
        couplings, vectors = self._built
        n = len(self.atoms)
        published = [i for i, c in enumerate(self.cells) if c.count and not c.suppressed]
        hidden = [i for i, c in enumerate(self.cells) if c.suppressed]
        zero = self._zero
        a_eq = vstack([couplings, vectors[published]]).tocsr()
        b_eq = np.concatenate(
            [np.zeros(couplings.shape[0]), [float(self.cells[i].count) for i in published]]
        )
        by_row: list[_Cell | None] = [None] * couplings.shape[0]
        by_row += [self.cells[i] for i in published]
        a_ub = b_ub = None
        if hidden:
            part = vectors[hidden]
            a_ub = vstack([part, -part]).tocsr()
            b_ub = np.concatenate(
                [[float(int(self.cells[i].shown[1:]) - 1) for i in hidden], [-1.0] * len(hidden)]
            )
        bounds = np.zeros((n, 2))
        bounds[:, 1] = np.inf
        if zero:
            bounds[list(zero), 1] = 0.0
        mats = (a_eq, b_eq, a_ub, b_ub, bounds, by_row)
        return (*mats, _program(mats))

    def _range(self, cell: _Cell, mats: Any) -> tuple[int, int]:
        import numpy as np
        from scipy.optimize import linprog

        a_eq, b_eq, a_ub, b_ub, bounds, by_row = mats[:6]
        objective = np.zeros(len(self.atoms))
        objective[list(cell.atoms)] = 1.0
        found = []
        self._binding: list[_Cell] = []
        for sign in (1.0, -1.0):
            if mats[6] is not None:
                solved, message, fun, marginals = mats[6].minimize(sign * objective)
            else:
                res = linprog(
                    sign * objective,
                    A_ub=a_ub,
                    b_ub=b_ub if a_ub is not None else None,
                    A_eq=a_eq,
                    b_eq=b_eq if a_eq is not None else None,
                    bounds=bounds,
                    method="highs",
                )
                solved, message, fun = res.status == 0, res.message, res.fun
                marginals = res.eqlin.marginals if solved else None
            if not solved:
                raise RuntimeError(f"statistics audit: linear program failed ({message})")
            found.append(sign * fun)
            if a_eq is not None:  # the published cells whose value holds the bound (duals)
                self._binding += [
                    by_row[i]
                    for i in np.flatnonzero(np.abs(marginals) > 1e-9)
                    if by_row[i] is not None
                ]
        return math.ceil(found[0] - _EPS), math.floor(found[1] + _EPS)

    def _holds(self, cell: _Cell, mats: Any) -> bool:
        low, high = self._range(cell, mats)
        if cell.primary:
            if high > low and (high >= self.k - 1 or high - low + 1 >= _spread(self.k)):
                return True
            # what the suppression pattern alone (every non-zero cell withheld) tells: no
            # release can hide more, so a cell that the published figures do not narrow
            # beyond it holds (e.g. three months of a year below k each at least 1)
            if cell.structural is None:
                binding = self._binding
                cell.structural = self._range(cell, self._structure())
                self._binding = binding
            # never a pinned cell, even where the pattern alone pins it (a published total
            # and parts each below k that add up to it): then more is suppressed, or the
            # year withheld, rather than one exact small count shown by difference
            return high > low and (low, high) == cell.structural
        return high > low

    def _structure(self) -> Any:
        if not hasattr(self, "_worst"):
            saved = [c.shown for c in self.cells]
            totals = self._totals
            for c in self.cells:
                if c.count and not c.suppressed:  # a loosened bound is kept
                    c.shown = f"<{_bound(totals[c.months], self.k)}"
            self._worst = self._matrices()
            for c, shown in zip(self.cells, saved, strict=True):
                c.shown = shown
        return self._worst

    def _related(self, cell: _Cell) -> _Cell | None:
        """The published cell to suppress next, among those the last bound rests on (nonzero
        dual) if any: the smallest in the same table and period sharing a value part, then
        any cell of other months no longer than its own, then the same cell in an
        overlapping period, then its margins, then anything of an
        overlapping period, then anything."""
        live = [c for c in self.cells if not c.suppressed and c.count > 0]
        binding = {id(c) for c in self._binding if not c.suppressed and c.count > 0}
        own_parts = set(cell.parts)
        margins = {"total", *[t for t in cell.table.split(X)]}
        groups = [
            [
                c
                for c in live
                if c.table == cell.table
                and c.months == cell.months
                and (not own_parts or own_parts & set(c.parts) or len(c.parts) == 1)
            ],
            # the same cell in other months (a sibling in a published sum) before the
            # sums themselves: a quarter's or year's total is worth more than a month's
            [c for c in live if not c.months & cell.months and len(c.months) <= len(cell.months)],
            [
                c
                for c in live
                if c.table == cell.table and c.value == cell.value and c.months & cell.months
            ],
            [
                c
                for c in live
                if c.months == cell.months
                and (c.table in margins or cell.table in c.table.split(X))
            ],
            [c for c in live if c.months & cell.months],
            live,
        ]

        def pick(group: list[_Cell]) -> _Cell:
            return min(group, key=lambda c: (c.count, c.table, c.value, sorted(c.months)))

        for group in groups:  # a cell the bound rests on, nearest first
            held = [c for c in group if id(c) in binding]
            if held:
                return pick(held)
        for group in groups:
            if group:
                return pick(group)
        return None

    def _window(self, cell: _Cell, structural: tuple[int, int] | None) -> tuple[int, int] | None:
        """The least range [low, high] around a primary cell's count that `_holds` accepts:
        high >= k-1 or k-2 values, each end no further than the suppression pattern alone
        allows (`structural`, when known); failing that the structural range itself. None:
        no range is accepted (the pattern alone pins the cell)."""
        k, x = self.k, cell.count
        lo_s, hi_s = structural if structural is not None else (1, k - 1)
        best: tuple[int, int, int, int] | None = None
        for lo in range(max(1, lo_s), x + 1):
            for hi in range(x, min(k - 1, hi_s) + 1):
                if hi > lo and (hi >= k - 1 or hi - lo + 1 >= _spread(k)):
                    key = (hi - lo, -hi, lo, hi)
                    best = key if best is None or key < best else best
        if best is not None:
            return best[2], best[3]
        if structural is not None and hi_s > lo_s:
            return lo_s, hi_s
        return None

    def _weight(self, cell: _Cell) -> float:
        """What suppressing a cell costs the reader: more for a longer period and for a
        total (the ranges a reader may choose rest on totals), a little more for a larger
        count; so the complements chosen are small cells of single months where they can be."""
        period = {1: 1.0, 3: 4.0}.get(len(cell.months), 16.0)
        return period * (40.0 if cell.table == "total" else 1.0) * (1.0 + math.log1p(cell.count))

    def _complements(self, cell: _Cell) -> dict[int, int] | None:
        """What to hide so that `cell` can move as `_holds` asks, chosen at least cost: {index
        of a cell: the bound `<N` to show it with}, for published cells to suppress and for
        suppressed cells whose bound must be loosened (a `<5` of 4 whose parts are each at
        least 1 pins one of them; shown `<10` it does not). One linear program per move (the
        deviation model of Fischetti and Salazar, as tau-argus uses it): a change d of the
        atoms that keeps every coupling, moves `cell` to one end of its `_window`, keeps every
        atom at least 0 and every suppressed figure at least 1; each published figure that d
        changes costs its `_weight` per unit, each unit above a suppressed figure's bound
        costs that figure's weight. The true counts plus d are then a table the attacker
        cannot exclude, so the cell's range reaches both ends. None when no suppression lets
        the cell move (then the greedy choice, then withholding)."""
        import numpy as np
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix, hstack, identity, vstack

        if not hasattr(self, "_built"):
            self._built = self._static()
        couplings, vectors = self._built
        n, k = len(self.atoms), self.k
        me = next(i for i, c in enumerate(self.cells) if c is cell)
        totals = self._totals
        open_ = [i for i, c in enumerate(self.cells) if c.count and not c.suppressed]
        held = [i for i, c in enumerate(self.cells) if c.suppressed and i != me]
        zero = self._zero
        m, h = len(open_), len(held)
        v_open, v_held = vectors[open_], vectors[held]
        x_open = np.array([self.cells[i].count for i in open_], dtype=float)
        top_open = np.array(
            [_bound(totals[self.cells[i].months], k) - 1 for i in open_], dtype=float
        )
        x_held = np.array([self.cells[i].count for i in held], dtype=float)
        top_held = np.array([int(self.cells[i].shown[1:]) - 1 for i in held], dtype=float)

        def zeros(rows: int, cols: int) -> Any:
            return csr_matrix((rows, cols))

        # variables: d (one per atom), t (|change| of each published cell), s (units above
        # each suppressed cell's bound)
        a_ub = vstack(
            [
                hstack([v_open, -identity(m), zeros(m, h)]),  # t >= v.d
                hstack([-v_open, -identity(m), zeros(m, h)]),  # t >= -v.d
                hstack([-v_open, zeros(m, m), zeros(m, h)]),  # a suppressed cell is at least 1
                hstack([v_open, zeros(m, m), zeros(m, h)]),  # and below its total's bound
                hstack([-v_held, zeros(h, m), zeros(h, h)]),
                hstack([v_held, zeros(h, m), -identity(h)]),
            ]
        ).tocsr()
        b_ub = np.concatenate(
            [np.zeros(2 * m), x_open - 1, top_open - x_open, x_held - 1, top_held - x_held]
        )
        a_eq = vstack(
            [
                hstack([couplings, zeros(couplings.shape[0], m + h)]),
                hstack([vectors[me], zeros(1, m + h)]),
            ]
        ).tocsr()
        cost = np.concatenate(
            [
                np.zeros(n),
                [self._weight(self.cells[i]) for i in open_],
                [self._weight(self.cells[i]) for i in held],
            ]
        )
        bounds = np.zeros((n + m + h, 2))
        bounds[:n, 0] = -np.array(self.atoms, dtype=float)
        bounds[:, 1] = np.inf
        if zero:
            bounds[list(zero), 1] = 0.0

        def move(by: int) -> dict[int, int] | None:
            b_eq = np.concatenate([np.zeros(couplings.shape[0]), [float(by)]])
            res = linprog(
                cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds"
            )  # a vertex: few cells changed, not a spread
            if res.status == 2:  # infeasible: no suppression lets the cell move so far
                return None
            if res.status != 0:
                raise RuntimeError(f"statistics audit: linear program failed ({res.message})")
            out = {
                open_[j]: _bound(totals[self.cells[open_[j]].months], k)
                for j in np.flatnonzero(res.x[n : n + m] > 1e-7)
            }
            for j in np.flatnonzero(res.x[n + m :] > 1e-7):  # the next multiple of k above
                out[held[j]] = _bound(math.ceil(top_held[j] + res.x[n + m + j] - _EPS), k)
            return out

        if not cell.primary:  # a complementary cell: one value either way
            found = move(1)
            return move(-1) if found is None else found
        for structural in (False, True):
            if structural and cell.structural is None:
                binding = self._binding
                cell.structural = self._range(cell, self._structure())
                self._binding = binding
            window = self._window(cell, cell.structural if structural else None)
            if window is None:
                return None
            chosen: dict[int, int] = {}
            for by in (window[1] - cell.count, window[0] - cell.count):
                found = move(by) if by else {}
                if found is None:
                    break
                for i, bound in found.items():
                    chosen[i] = max(bound, chosen.get(i, 0))
            else:
                return chosen
        return None

    def _suppress(self) -> None:
        k = self.k
        for cell in self.cells:
            cell.primary = 0 < cell.count < k
            cell.shown = f"<{k}" if cell.primary else str(cell.count)
        totals = self._totals
        queue = [c for c in self.cells if c.primary]
        mats = self._matrices() if queue else None
        while queue:
            cell = queue.pop(0)
            chosen = False
            while not self._holds(cell, mats):
                hide = None if chosen else self._complements(cell)
                chosen = True
                if not hide:  # the least-cost choice did not do: the greedy one, cell by cell
                    extra = self._related(cell)
                    if extra is None:
                        self.withheld = True
                        return
                    # shown below the period's total, not its own next multiple of k: a
                    # tight bound on a complementary cell would itself narrow the primary ones
                    hide = {self.cells.index(extra): _bound(totals[extra.months], k)}
                loosened = False
                for i, bound in hide.items():
                    other = self.cells[i]
                    if not other.suppressed:
                        queue.append(other)
                    else:
                        loosened = True
                    other.shown = f"<{bound}"
                if loosened:
                    # a looser bound changes what the pattern alone tells: cells accepted
                    # as narrowed no further than the pattern are judged again against it
                    if hasattr(self, "_worst"):
                        del self._worst
                    for other in self.cells:
                        if other.structural is not None:
                            other.structural = None
                            if other is not cell and all(q is not other for q in queue):
                                queue.append(other)
                mats = self._matrices()


@dataclass
class Release:
    """The canonical release and the ranges answered from it. Built by `build`."""

    k: int
    years: dict[str, _Year] = field(default_factory=dict)
    # (table, value) -> {year: [(months, shown, count)]}, for the range rule
    _index: dict[tuple[str, str], dict[str, list[_Cell]]] = field(default_factory=dict)
    _plans: dict[tuple[str, tuple[str, str]], tuple[Any, ...]] = field(default_factory=dict)
    _ranges: dict[tuple[str | None, str | None], list[Figure]] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return sorted(m for y in self.years.values() for m in y.months)

    def _plan(self, year: _Year, key: tuple[str, str]) -> tuple[Any, ...]:
        """What the range rule needs of one cell in one year, computed once: its month
        cells, the projector onto the span of its published periods' indicators, and each
        month's share of the derivable upper bound."""
        import numpy as np

        found = self._plans.get((year.year, key))
        if found is not None:
            return found
        cells = self._index.get(key, {}).get(year.year, [])
        order = sorted(year.months)
        by_month = {next(iter(c.months)): c for c in cells if len(c.months) == 1}
        # indicator vectors: published periods of this cell, and months where it is 0
        basis = [[1.0 if m in c.months else 0.0 for m in order] for c in cells if not c.suppressed]
        basis += [
            [1.0 if m == z else 0.0 for m in order]
            for z in order
            if z not in by_month or by_month[z].count == 0
        ]
        projector = None
        if basis:
            b = np.array(basis)
            projector = np.linalg.pinv(b) @ b  # projects onto the row space of b
        counts = {m: (by_month[m].count if m in by_month else 0) for m in order}
        tops = {
            m: (
                0
                if m not in by_month or not by_month[m].count
                else int(by_month[m].shown[1:]) - 1
                if by_month[m].suppressed
                else by_month[m].count
            )
            for m in order
        }
        whole = {c.months: c for c in cells}
        found = (order, projector, counts, tops, whole)
        self._plans[(year.year, key)] = found
        return found

    def _part(
        self, year: _Year, key: tuple[str, str], months: frozenset[str]
    ) -> tuple[int, int | None, int]:
        """(true count, exact value if derivable else None, upper bound as derivable) of
        one cell over `months` (months of one year that have reports)."""
        import numpy as np

        if not months:
            return 0, 0, 0
        order, projector, counts, tops, whole = self._plan(year, key)
        count = sum(counts[m] for m in months)
        if year.withheld:
            return count, None, 0
        exact = None
        if projector is not None:
            target = np.array([1.0 if m in months else 0.0 for m in order])
            if np.abs(projector @ target - target).max() < 1e-7:
                exact = count
        cell = whole.get(months)
        if cell is not None and cell.suppressed:
            top = int(cell.shown[1:]) - 1
        else:
            top = sum(tops[m] for m in months)
        return count, exact, top

    def range(self, first: str | None = None, last: str | None = None) -> list[Figure]:
        """The published rows for the months first..last (YYYY-MM, inclusive; default all),
        in the statistics CSV's order: total, one-way tables, then cross-tables."""
        found = self._ranges.get((first, last))
        if found is None:
            found = self._range(first, last)
            if len(self._ranges) >= 1024:  # a bounded memo: ranges are few (months²/2)
                self._ranges.pop(next(iter(self._ranges)))
            self._ranges[(first, last)] = found
        return list(found)

    def _range(self, first: str | None, last: str | None) -> list[Figure]:
        months = self.months
        if not months:
            return [Figure("total", "", "0", 0)]
        first, last = first or months[0], last or months[-1]
        chosen = {m for m in months if first <= m <= last}
        k = self.k
        if any(y.withheld and chosen & set(y.months) for y in self.years.values()):
            # the audit could not protect a year: only an upper bound of the total is shown
            n = sum(
                c.count
                for key, ys in self._index.items()
                if key[0] == "total"
                for c in (cell for y in ys.values() for cell in y)
                if len(c.months) == 1 and c.months <= chosen
            )
            return [Figure("total", "", f"<{_bound(n, k)}", 0)]
        out: list[Figure] = []
        order = ["total", *ONE_WAY, *[f"{a}{X}{b}" for a, b in CROSS]]
        keys = sorted(self._index, key=lambda key: (order.index(key[0]), key[1]))
        # the `month` table: each chosen month's total (a cell of the lattice)
        at = (
            next(i for i, key in enumerate(keys) if order.index(key[0]) > 2)
            if any(order.index(key[0]) > 2 for key in keys)
            else len(keys)
        )
        plan: list[tuple[tuple[str, str], frozenset[str] | None]] = [
            (key, None) for key in keys[:at]
        ]
        plan += [(("month", m), frozenset((m,))) for m in sorted(chosen)]
        plan += [(key, None) for key in keys[at:]]
        for (table, value), only in plan:
            key = ("total", "") if table == "month" else (table, value)
            count, top = 0, 0
            exact: int | None = 0
            for year in self.years.values():
                c, e, t = self._part(year, key, frozenset((only or chosen) & set(year.months)))
                count += c
                top += t if e is None else e
                exact = None if exact is None or e is None else exact + e
            if table == "total" and count == 0 and exact == 0:
                out.append(Figure("total", "", "0", 0))
                continue
            if count == 0 and exact == 0:
                continue  # absent: zero, and known to be
            if exact is not None and (exact == 0 or exact >= k):
                out.append(Figure(table, value, str(exact), exact))
            elif exact is not None:
                out.append(Figure(table, value, f"<{k}", 0))
            else:
                out.append(Figure(table, value, f"<{max(top + 1, k)}", 0))
        if out and out[0].dimension == "total" and out[0].count.startswith("<"):
            return out[:1]  # a withheld total: nothing else is broken down
        return out


@dataclass(frozen=True)
class Snapshot:
    """What the statistics page and the periodic report answer from: the canonical release,
    the casework counts of the same statistics rows (storage.statistics.casework_tallies),
    the generation of those rows and when they were counted."""

    release: Release
    casework: dict[tuple[str, str, str, str], int]
    generation: int
    counted_at: datetime


def build(
    profiles: dict[tuple[str, ...], int], multi: dict[tuple[str, str, str, str], int], k: int
) -> Release:
    """The canonical release of the counts: `profiles` {(month, report_type, country, status,
    place_type, victim_gender, victim_age_group): reports}, `multi` {(dimension, month,
    carrier value, value): reports} for the multiple-choice dimensions (carrier value: the
    report's answer to MULTI_CARRIER[dimension], or "" when it has none)."""
    release = Release(k)
    by_year: dict[str, dict[tuple[str, ...], int]] = defaultdict(dict)
    for p, n in profiles.items():
        if n > 0:
            by_year[p[0][:4]][p] = n
    multi_by_year: dict[str, dict[tuple[str, str, str, str], int]] = defaultdict(dict)
    for key, n in multi.items():
        if n > 0:
            multi_by_year[key[1][:4]][key] = n
    for year in sorted(by_year):
        audited = _Year(year, by_year[year], multi_by_year[year], k)
        release.years[year] = audited
        for cell in audited.cells:
            release._index.setdefault((cell.table, cell.value), {}).setdefault(year, []).append(
                cell
            )
    return release


def tallies(
    cases: Iterable[dict[str, Any]],
) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, str, str, str], int]]:
    """`build`'s input from per-report answers (tests and benchmarks): each case a dict with
    the PROFILE keys and lists for the multiple-choice dimensions."""
    profiles: dict[tuple[str, ...], int] = defaultdict(int)
    multi: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for case in cases:
        profiles[tuple(case.get(d, "none") for d in PROFILE)] += 1
        for dim, carrier in MULTI_CARRIER.items():
            for v in case.get(dim, []) or []:
                multi[(dim, case["month"], case.get(carrier, "none") if carrier else "", v)] += 1
    return dict(profiles), dict(multi)
