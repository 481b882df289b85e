"""How much the canonical statistics release withholds, and how long it takes to build, on
generated data in memory (no database): the benchmark for a better complementary choice.

    .venv/bin/python -m bench.release [--reports 20000] [--rare 800] [--seed 7]

The answers are drawn as `bench.web --stat-cases` draws them (36 months, 4 report types,
5 statuses, 8 countries and, one in `--rare` reports, a rare one; 5 place types, 3 genders,
4 age groups; multiple violations, perpetrators and groups), then `caseworker.release.build`
is timed and the table says how many cells are suppressed, how many totals, how many of the
month ranges a reader may choose keep an exact total, and which years are withheld whole.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time


def generate(
    reports: int, rare: int, seed: int
) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, str, str, str], int]]:
    rng = random.Random(seed)  # nosec B311 - generated test data, not a secret
    profiles: collections.Counter[tuple[str, ...]] = collections.Counter()
    multi: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
    months = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
    for _ in range(reports):
        month = rng.choice(months)
        country = (
            "KW"
            if rare and rng.randrange(rare) == 0
            else rng.choice(["SY", "LB", "IQ", "EG", "JO", "YE", "LY", "none"])
        )
        gender = rng.choice(["woman", "man", "man", "none"])
        profiles[
            (
                month,
                rng.choice(["complaint", "complaint", "reprisal", "none"]),
                country,
                rng.choice(
                    [
                        "allegation_pending_assessment",
                        "under_assessment",
                        "referred",
                        "closed_resolved",
                        "written_back",
                    ]
                ),
                rng.choice(["prison", "police_station", "military_site", "home", "none"]),
                gender,
                rng.choice(["child", "adult", "older", "none"]),
            )
        ] += 1
        for dim, n, share in (
            ("violation_types", 8, 3),
            ("perpetrator_type", 6, 2),
            ("victim_groups", 5, 1),
        ):
            carrier = (
                country if dim == "perpetrator_type" else gender if dim == "violation_types" else ""
            )
            for j in range(1, n + 1):
                if rng.randrange(n * 2) < share:
                    multi[(dim, month, carrier, f"{dim}_{j}")] += 1
    return dict(profiles), dict(multi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument(
        "--rare",
        type=int,
        default=800,
        help="one report in RARE is from the rare country (0: none)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", type=int, default=5, help="the threshold")
    args = parser.parse_args(argv)
    from caseworker.release import build

    profiles, multi = generate(args.reports, args.rare, args.seed)
    start = time.perf_counter()
    release = build(profiles, multi, k=args.k)
    took = time.perf_counter() - start
    cells = [c for y in release.years.values() for c in y.cells]
    ranges = [(a, b) for i, a in enumerate(release.months) for b in release.months[i:]]
    exact = sum(1 for a, b in ranges if release.range(a, b)[0].count.isdigit())
    rows = [
        ("reports (rare country: 1 in)", f"{args.reports:,} ({args.rare or 'none'})"),
        ("build + audit", f"{took:.1f} s"),
        ("cells suppressed", f"{sum(c.suppressed for c in cells):,} of {len(cells):,}"),
        (
            "totals suppressed",
            f"{sum(c.suppressed for c in cells if c.table == 'total')}"
            f" of {sum(c.table == 'total' for c in cells)}",
        ),
        ("month ranges with an exact total", f"{exact} of {len(ranges)}"),
        ("years withheld", ", ".join(y for y, v in release.years.items() if v.withheld) or "none"),
    ]
    width = max(len(r[0]) for r in rows)
    print("Sanad statistics release (in memory)")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
