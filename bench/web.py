"""Benchmarks of the caseworker dashboard on PostgreSQL; prints a table.

    .venv/bin/python -m bench.web [--caseworkers 20] [--seconds 15] [--stat-reports 200000]
    .venv/bin/python -m bench.web --cases 1000000 [--runs 200] [--claimers 16] [--claims 4000]
    .venv/bin/python -m bench.web --stat-cases 1000000 [--runs 200]

The first (the default) is issue 14's: N caseworkers at once, each logged in with TOTP over
real HTTP to a `sanad web` process on 127.0.0.1, load the queue and case pages (a short
pause between pages) while, in a second run, another client loads the statistics page over
and over; p50/p99 per page kind, with and without that load (`bench/_web_concurrent.py`).

The second (`--cases`) measures the register at scale. Cases are bulk-inserted (metadata and
one wrapped-key row each, no sealed content: the queue
and claims never decrypt). Measured: the queue's first page (the query, and the whole HTTP
response through the ASGI app), claims per second with N concurrent claimers (and that no
case is claimed twice) both at the storage level and through the dashboard (which also writes
the hash-chained audit entry of each claim), and the statistics page (register-only
breakdowns, as an auditor).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "SANAD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _median_ms(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


FACILITIES = 5000


def _p99_ms(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


def _sealed_case(db: Any, home: Any, settings: Any) -> str:
    """One real case (sealed fields, the demo account a recipient) among the bulk rows."""
    from storage import accounts, cases, crypto

    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    consent = {k: "yes" for k in ("consent_store", "consent_followup", "consent_stats")}
    with db.transaction() as session:
        recipients = accounts.current_recipients(session, home.admin_public())
        case = cases.store_report(
            session,
            cases.ReportToStore(
                case_id=case_id,
                data_key=crypto.new_data_key(),
                fields={
                    **consent,
                    "report_type": "complaint",
                    "narrative": "A bench account of what happened. " * 20,
                    "incident_location": "facility2500",
                },
                files=[],
                consent={k: {"value": v, "at": now.isoformat()} for k, v in consent.items()},
                report_type="complaint",
                priority=1,
                reasons=("urgent_words",),
                channel="console",
                lang="en",
                flow_version="bench",
            ),
            recipients,
            crypto.new_receipt(crypto.TEST_KDF),
            now,
        )
        return str(case.case_ref)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        type=int,
        default=None,
        help="the register benchmark with this many cases (e.g. 100000)",
    )
    parser.add_argument(
        "--runs", type=int, default=200, help="requests per measured page (p99 of these)"
    )
    parser.add_argument("--claimers", type=int, default=16)
    parser.add_argument("--claims", type=int, default=4000)
    parser.add_argument("--caseworkers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each run")
    parser.add_argument(
        "--think-ms", type=int, default=100, help="each caseworker's pause between two pages"
    )
    parser.add_argument(
        "--sealed-cases", type=int, default=200, help="real sealed cases the caseworkers open"
    )
    parser.add_argument(
        "--stat-reports",
        type=int,
        default=200_000,
        help="reports in the statistics table (bulk-inserted rows)",
    )
    parser.add_argument(
        "--stat-cases",
        type=int,
        default=None,
        help="the statistics benchmark (issue 17) with this many consented "
        "reports' statistics rows, e.g. 1000000",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="with --cases: keep the seeded database and home, described in "
        "this JSON file, for a later --reuse",
    )
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="with --cases: measure the database and home a --keep run left "
        "(no seeding; claims assign more of its cases)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="with --cases: cProfile the case page requests into this file",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="run the server from another checkout (to measure before a change)",
    )
    args = parser.parse_args(argv)
    if args.stat_cases is not None:
        return statistics_scale(args)
    if args.cases is None:
        from bench._web_concurrent import run

        return run(PG_URL, args)
    return register(args)


def _seed(
    args: argparse.Namespace, db: Any, settings: Any, rows: list[tuple[str, str]]
) -> tuple[str, str, Any, Any]:
    """A fresh home and N bulk-inserted cases (metadata, one wrapped key, one blind-index
    place word each) and one real sealed case; returns its reference, the TOTP secret, the
    home and the demo user."""
    import pyotp

    from intake.home import Home, init_demo
    from storage.models import User

    settings.home.mkdir(parents=True)
    secret = pyotp.random_base32()
    init_demo(settings, db, "bench passphrase 1", secret)
    home = Home(settings.home)
    with db.transaction() as session:
        demo = session.scalars(select(User).where(User.name == "demo")).one()
    start = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO cases (id, case_ref, report_type, status, priority, reasons,
              received_at, updated_at, channel, lang, flow_version, consent,
              receipt_handle, receipt_verifier, incomplete)
            SELECT md5(i::text)::uuid::text, 'B' || lpad(i::text, 8, '0'),
              CASE WHEN i % 3 = 0 THEN 'reprisal' ELSE 'complaint' END,
              'allegation_pending_assessment', 1 + (i % 4), '["bench"]',
              now() - (i || ' seconds')::interval, now(), 'console', 'en', 'bench',
              '{"consent_stats": {"value": "yes"}}',
              decode(lpad(to_hex(i), 10, '0'), 'hex'), '\\x00'::bytea, false
            FROM generate_series(1, :n) AS i"""),
            {"n": args.cases},
        )
        conn.execute(
            text("""
            INSERT INTO wrapped_keys (case_id, seq, key_id, wrapped)
            SELECT id, 0, :kid, '\\x00'::bytea FROM cases"""),
            {"kid": demo.key_id},
        )
        # issue 16: one blind-index place word per case from a pool of 5,000 facility
        # names (so each name is on about n/5,000 cases), set-based like the cases
        from storage import search

        key = search.index_key(home.pepper())
        conn.execute(text("CREATE TEMP TABLE bench_words (n int PRIMARY KEY, term bytea)"))
        conn.execute(
            text("INSERT INTO bench_words VALUES (:n, :term)"),
            [
                {"n": n, "term": search.term(key, "place", f"facility{n}")}
                for n in range(FACILITIES)
            ],
        )
        conn.execute(
            text("""
            INSERT INTO case_terms (term, case_id, kind, source)
            SELECT w.term, md5(i::text)::uuid::text, 'place', 'bench'
            FROM generate_series(1, :n) AS i JOIN bench_words w ON w.n = i % :pool"""),
            {"n": args.cases, "pool": FACILITIES},
        )
        conn.execute(text("ANALYZE"))
    rows.append(("bulk insert of cases", f"{args.cases:,} in {time.perf_counter() - start:.1f} s"))
    sealed_ref = _sealed_case(db, home, settings)
    return sealed_ref, secret, home, demo


def _profile(client: Any, path: str, runs: int, out: Path) -> None:
    """cProfile `runs` loads of `path` with the whole request in this thread: the same app
    and session (the client's cookies), driven through httpx's ASGI transport with the
    app's worker-thread hops run inline (a profiler sees only its own thread)."""
    import asyncio
    import cProfile

    import httpx2

    import web.app as web_app

    async def inline(fn: Any, *a: Any, **k: Any) -> Any:
        return fn(*a, **k)

    async def go() -> None:
        transport = httpx2.ASGITransport(app=client.app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=client.cookies
        ) as inner:
            assert (await inner.get(path)).status_code == 200
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                await inner.get(path)
            profiler.disable()
            profiler.dump_stats(str(out))

    hop, web_app.run_in_threadpool = web_app.run_in_threadpool, inline  # type: ignore[assignment]
    try:
        asyncio.run(go())
    finally:
        web_app.run_in_threadpool = hop


def register(args: argparse.Namespace) -> int:
    import json

    import pyotp
    from starlette.testclient import TestClient

    from caseworker.dashboard import Dashboard, Principal
    from intake.home import Home
    from intake.settings import Settings
    from storage import casework, crypto
    from storage.db import Database
    from storage.models import Case, User
    from web import create_app

    kept = json.loads(args.reuse.read_text()) if args.reuse else None
    name = kept["database"] if kept else f"sanad_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not kept:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc}")
        return 2
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    root = Path(kept["root"]) if kept else Path(tempfile.mkdtemp(prefix="sanad-bench-web-"))
    db = Database(url)
    rows: list[tuple[str, str]] = []
    try:
        settings = Settings(
            home=root / "home",
            database_url=url,
            user_kdf=crypto.TEST_KDF,
            receipt_kdf=crypto.TEST_KDF,
            epoch_dir=root / "epochs",
        )
        if kept:
            secret, sealed_ref = kept["totp"], kept["sealed_ref"]
            home = Home(settings.home)
            with db.transaction() as session:
                demo = session.scalars(select(User).where(User.name == "demo")).one()
                n = session.scalar(select(func.count()).select_from(Case))
            rows.append(("reused database (no seeding)", f"{n:,} cases"))
        else:
            sealed_ref, secret, home, demo = _seed(args, db, settings, rows)
        if args.keep:  # the passphrase is the bench's own ("bench passphrase 1")
            args.keep.write_text(
                json.dumps(
                    {"database": name, "root": str(root), "totp": secret, "sealed_ref": sealed_ref}
                )
            )

        dashboard = Dashboard(db, home.admin_public(), settings.objects(), pepper=home.pepper())
        private = crypto.unlock_private_key(demo.private_key_blob, "bench passphrase 1", demo.id)
        me = Principal(demo.id, demo.name, demo.role, bytes(demo.key_id), private)
        med, p95 = _median_ms(lambda: dashboard.queue(me, limit=50), 30)
        rows.append(("queue first page (50 rows), query", f"median {med:.1f} ms, p95 {p95:.1f} ms"))
        client = TestClient(create_app(dashboard), follow_redirects=False)
        page = client.get("/login")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={
                "username": "demo",  # nosec B105 - throwaway home
                "passphrase": "bench passphrase 1",
                "totp": pyotp.TOTP(secret).now(),
                "csrf": token,
            },
        )
        med, p95 = _median_ms(lambda: client.get("/queue"), 30)
        rows.append(
            (
                "queue page over HTTP (render, 50 rows and the total)",
                f"median {med:.1f} ms, p95 {p95:.1f} ms",
            )
        )
        # issue 16: each under 100 ms p99 at 1,000,000 cases
        for label, path in (
            ("queue first page over HTTP (50 rows, total)", "/queue"),
            ("queue sorted by reference, descending", "/queue?sort=-ref"),
            ("search by a facility name over HTTP", f"/queue?q=facility{FACILITIES // 2}"),
            ("search by a case reference over HTTP", "/queue?q=" + "B00500000"),
            ("case page over HTTP (decrypted, sealed case)", f"/cases/{sealed_ref}"),
            # the live queue's poll (every 20 s per open queue): what changed in a minute
            (
                "live queue poll (/queue/changes, last minute)",
                "/queue/changes?"
                + urlencode({"since": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}),
            ),
        ):
            assert client.get(path).status_code == 200, path
            cpu = time.process_time()
            med, p99 = _p99_ms(lambda p=path: client.get(p), args.runs)  # type: ignore[misc]
            cpu_ms = (time.process_time() - cpu) * 1000 / args.runs
            if args.profile and path.startswith("/cases/"):
                _profile(client, path, args.runs, args.profile)
            rows.append(
                (
                    label,
                    f"median {med:.1f} ms, p99 {p99:.1f} ms, CPU {cpu_ms:.1f} ms "
                    f"per request ({args.runs} runs)",
                )
            )

        claim_db = Database(url, pool_size=args.claimers)  # one connection per claimer
        claim_dash = Dashboard(claim_db, home.admin_public(), settings.objects())
        per_claimer = args.claims // args.claimers

        def storage_claim() -> str | None:
            with claim_db.transaction() as session:
                return casework.claim_next(session, demo, datetime.now(UTC))

        def measure(label: str, claim: Any, before: int) -> None:
            wins: list[str] = []
            lock = threading.Lock()
            barrier = threading.Barrier(args.claimers)

            def claimer() -> None:
                barrier.wait()
                for _ in range(per_claimer):
                    won = claim()
                    if won:
                        with lock:
                            wins.append(won)

            threads = [threading.Thread(target=claimer) for _ in range(args.claimers)]
            start = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
            with db.transaction() as session:
                assigned = session.scalar(
                    select(func.count()).select_from(Case).where(Case.assigned_to.is_not(None))
                )
            doubles = len(wins) - len(set(wins))
            rows.append(
                (
                    f"{label}, {args.claimers} concurrent claimers",
                    f"{len(wins) / elapsed:,.0f} claims/s ({len(wins)} cases claimed "
                    f"next-most-urgent), double claims: {doubles}, newly assigned rows: "
                    f"{(assigned or 0) - before}",
                )
            )

        with db.transaction() as session:  # a reused database has earlier runs' claims
            before = (
                session.scalar(
                    select(func.count()).select_from(Case).where(Case.assigned_to.is_not(None))
                )
                or 0
            )
        measure("claims (storage: claim + history)", storage_claim, before)
        with db.transaction() as session:
            before = (
                session.scalar(
                    select(func.count()).select_from(Case).where(Case.assigned_to.is_not(None))
                )
                or 0
            )
        measure("claims (dashboard: + audit entry)", lambda: claim_dash.claim_next(me), before)
        claim_db.dispose()

        auditor = Principal("-", "bench-auditor", "auditor", b"\0" * 16, None)
        med, _ = _median_ms(lambda: dashboard.statistics(auditor), 3)
        rows.append(("statistics (register only, auditor)", f"median {med:.0f} ms"))
    finally:
        db.dispose()
        if not (args.keep or args.reuse):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    width = max(len(r[0]) for r in rows)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(
        f"Sanad dashboard benchmark on PostgreSQL ({os.cpu_count()} cores, load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end; CPU: this process, the "
        "app and its test client, PostgreSQL apart)"
    )
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


_HASH = """
CREATE FUNCTION h(i bigint, salt text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT abs(hashtext(i::text || salt)) $$
"""
_STAT_ROWS = """
INSERT INTO stat_values (row_key, dimension, value)
SELECT md5(i::text) || md5('s' || i::text), d.dim, CASE d.dim
  WHEN 'month' THEN to_char(date '2024-01-01' + (h(i, 'm') % 36) * interval '1 month',
                            'YYYY-MM')
  WHEN 'report_type' THEN (ARRAY['complaint','complaint','reprisal','none'])[1 + h(i, 'r') % 4]
  WHEN 'status' THEN (ARRAY['allegation_pending_assessment','under_assessment','referred',
                            'closed_resolved','written_back'])[1 + h(i, 's') % 5]
  WHEN 'country' THEN CASE WHEN h(i, 'k') % 40000 = 0 THEN 'KW'  -- a rare country: small cells
                      ELSE (ARRAY['SY','LB','IQ','EG','JO','YE','LY','none'])[1 + h(i, 'c') % 8]
                      END
  WHEN 'place_type' THEN (ARRAY['prison','police_station','military_site','home',
                                'none'])[1 + h(i, 'p') % 5]
  WHEN 'victim_gender' THEN (ARRAY['woman','man','man','none'])[1 + h(i, 'g') % 4]
  WHEN 'victim_age_group' THEN (ARRAY['child','adult','older','none'])[1 + h(i, 'a') % 4]
  END
FROM generate_series(1, :n) AS i,
     (VALUES ('month'), ('report_type'), ('status'), ('country'), ('place_type'),
             ('victim_gender'), ('victim_age_group')) AS d(dim)
"""
_STAT_MULTI = """
INSERT INTO stat_values (row_key, dimension, value)
SELECT md5(i::text) || md5('s' || i::text), m.dim, m.dim || '_' || j
FROM generate_series(1, :n) AS i,
     (VALUES ('violation_types', 8, 3), ('perpetrator_type', 6, 2), ('victim_groups', 5, 1))
       AS m(dim, n, share),
     generate_series(1, 8) AS j
WHERE j <= m.n AND h(i, m.dim || j) % (m.n * 2) < m.share
"""

_STAT_CASEWORK = """
INSERT INTO stat_values (row_key, dimension, value)
SELECT md5(i::text) || md5('s' || i::text), 'step', k.kind
FROM generate_series(1, :n) AS i,
     (VALUES ('raise_with_state', 3), ('interim_measures', 1), ('refer', 3), ('write_back', 4),
             ('publish', 1)) AS k(kind, share)
WHERE h(i, 'st' || k.kind) % 10 < k.share
UNION ALL
SELECT md5(i::text) || md5('s' || i::text), 'response.' || k.kind,
       (ARRAY['replied','measures_taken','refused','awaiting','due:2026-11'])
         [1 + h(i, 'an' || k.kind) % 5]
FROM generate_series(1, :n) AS i,
     (VALUES ('raise_with_state', 3), ('interim_measures', 1)) AS k(kind, share)
WHERE h(i, 'st' || k.kind) % 10 < k.share
UNION ALL
SELECT md5(i::text) || md5('s' || i::text), 'assessed_within',
       (ARRAY['h1','h6','h24','h72','h168','h720','over720'])[1 + h(i, 'as') % 7]
FROM generate_series(1, :n) AS i
WHERE h(i, 's') % 5 <> 0  -- not "allegation, pending assessment"
"""


def statistics_scale(args: argparse.Namespace) -> int:
    """Issue 17 item 7: the statistics page at N consented reports on PostgreSQL. The
    statistics rows are generated by set-based SQL (generate_series); measured: counting
    (the two tally queries), building and auditing the canonical release (linear programs),
    then the page, the CSV and a cross-table chart over HTTP through the ASGI app, for the
    default range and random chosen ranges, with the release cached (it is rebuilt only when
    the statistics rows change; a rebuild costs the tally queries plus the build, measured
    once above)."""
    import random as _random

    import pyotp
    from starlette.testclient import TestClient

    from caseworker.dashboard import Dashboard
    from caseworker.release import Snapshot, build
    from caseworker.users import add_user, load_admin_key
    from intake.home import Home, init_demo
    from intake.settings import Settings
    from storage import crypto
    from storage import statistics as stat_rows
    from storage.db import Database
    from web import create_app

    name = f"sanad_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc}")
        return 2
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    root = Path(tempfile.mkdtemp(prefix="sanad-bench-stats-"))
    db = Database(url)
    rows: list[tuple[str, str]] = []

    def note(label: str, value: str) -> None:  # printed as measured: a long run keeps them
        rows.append((label, value))
        print(f"  {label}: {value}", flush=True)

    def pct(times: list[float]) -> str:
        times = sorted(times)
        return (
            f"p50 {statistics.median(times):.1f} ms, p99 "
            f"{times[max(0, int(len(times) * 0.99) - 1)]:.1f} ms, max {times[-1]:.1f} ms"
        )

    try:
        settings = Settings(
            home=root / "home",
            database_url=url,
            user_kdf=crypto.TEST_KDF,
            receipt_kdf=crypto.TEST_KDF,
            epoch_dir=root / "epochs",
        )
        settings.home.mkdir(parents=True)
        secret = pyotp.random_base32()
        init_demo(settings, db, "bench passphrase 1", secret, "bench admin passphrase 1")
        home = Home(settings.home)
        start = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text(_HASH))  # a pseudo-random, reproducible answer per report
            conn.execute(text(_STAT_ROWS), {"n": args.stat_cases})
            conn.execute(text(_STAT_MULTI), {"n": args.stat_cases})
            conn.execute(text(_STAT_CASEWORK), {"n": args.stat_cases})
            total = conn.execute(text("SELECT count(*) FROM stat_values")).scalar()
            conn.execute(text("ANALYZE stat_values"))
        note(
            *(
                "statistics rows generated (set-based SQL)",
                f"{args.stat_cases:,} reports, {total:,} rows in "
                f"{time.perf_counter() - start:.1f} s",
            )
        )
        start = time.perf_counter()
        with db.transaction() as session:
            profiles, multi = stat_rows.tallies(session)
        note(
            *(
                "counting: the two tally queries",
                f"{time.perf_counter() - start:.1f} s"
                f" ({len(profiles):,} profiles, {len(multi):,} multi-choice cells)",
            )
        )
        start = time.perf_counter()
        release = build(profiles, multi, k=5)
        cells = sum(len(y.cells) for y in release.years.values())
        hidden = sum(1 for y in release.years.values() for c in y.cells if c.suppressed)
        ranges = [(a, b) for i, a in enumerate(release.months) for b in release.months[i:]]
        exact = sum(1 for a, b in ranges if release.range(a, b)[0].count.isdigit())
        note(
            *(
                "canonical release: build + LP audit",
                f"{time.perf_counter() - start:.1f} s"
                f" ({cells:,} cells of {len(release.months)} months, {hidden} suppressed; "
                f"{exact} of {len(ranges)} month ranges with an exact total)",
            )
        )

        start = time.perf_counter()
        with db.transaction() as session:
            casework = stat_rows.casework_tallies(session)
            gen = stat_rows.generation(session)
        note(
            *(
                "counting: the periodic report's casework query",
                f"{time.perf_counter() - start:.1f} s ({len(casework):,} cells)",
            )
        )

        dashboard = Dashboard(db, home.admin_public(), settings.objects(), pepper=home.pepper())
        # the snapshot just built is the cached one (as after the background rebuild)
        dashboard._snapshot = (5, Snapshot(release, casework, gen, dashboard.now()))
        app = create_app(dashboard)

        def signed_in(name: str, passphrase: str, code: str) -> TestClient:
            client = TestClient(app, follow_redirects=False)
            token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
            client.post(
                "/login",
                data={"username": name, "passphrase": passphrase, "totp": code, "csrf": token},
            )
            return client

        client = signed_in("demo", "bench passphrase 1", pyotp.TOTP(secret).now())
        sue_secret = pyotp.random_base32()
        admin_key = load_admin_key(
            (home.offline / "admin-signing.pem").read_bytes(), "bench admin passphrase 1"
        )
        add_user(
            db,
            "sue",
            "supervisor",
            "bench passphrase 2",
            crypto.TEST_KDF,
            home.admin_public(),
            sue_secret,
            admin_key,
        )
        sue = signed_in("sue", "bench passphrase 2", pyotp.TOTP(sue_secret).now())
        months = release.months
        rng = _random.Random(17)  # nosec B311 - which ranges to ask for, not a secret

        withheld = [0]

        def timed(path: str, who: TestClient = client) -> float:
            start = time.perf_counter()
            response = who.get(path)
            # a chart of a range whose total is withheld has nothing to draw: 404
            assert response.status_code in (200, 404), (path, response.status_code)
            withheld[0] += response.status_code == 404
            return (time.perf_counter() - start) * 1000

        def chosen() -> str:
            a, b = sorted(rng.sample(months, 2))
            return f"?from={a}&to={b}"

        for label, path in (
            ("/stats (all months), HTML", lambda: "/stats"),
            ("/stats?from&to (random range), HTML", lambda: "/stats" + chosen()),
            ("/stats?format=csv (random range)", lambda: "/stats" + chosen() + "&format=csv"),
            (
                "/stats/cross/victim_gender/violation_types.svg (random range)",
                lambda: "/stats/cross/victim_gender/violation_types.svg" + chosen(),
            ),
        ):
            timed(path())  # one untimed load first: the view's modules are imported once
            withheld[0] = 0
            times = [timed(path()) for _ in range(args.runs)]
            note(
                *(
                    f"{label}, {args.runs} loads",
                    pct(times)
                    + (f" ({withheld[0]} with nothing to draw: 404)" if withheld[0] else ""),
                )
            )
        years = sorted({m[:4] for m in months})

        def period() -> str:
            a, b = sorted(rng.choices(years, k=2))
            return f"?from={a}-01-01&to={b}-12-31"

        def months_period() -> str:
            a, b = sorted(rng.sample(months, 2))
            return f"?from={a}-01&to={b}-28"

        for label, path in (
            (
                "/reports/periodic (random whole years), HTML",
                lambda: "/reports/periodic" + period(),
            ),
            (
                "/reports/periodic (random whole years), CSV",
                lambda: "/reports/periodic" + period() + "&format=csv",
            ),
            (
                "/reports/periodic (random months), HTML",
                lambda: "/reports/periodic" + months_period(),
            ),
        ):
            timed(path(), sue)  # untimed: the first load imports the report's modules
            times = [timed(path(), sue) for _ in range(args.runs)]
            note(f"{label}, {args.runs} loads", pct(times))
        times = [
            timed(
                f"/reports/periodic?from={years[0]}-01-01&to={years[-1]}-12-31&format=pdf&lang=ar",
                sue,
            )
            for _ in range(max(3, args.runs // 10))
        ]
        note(f"/reports/periodic, all years, Arabic PDF, {len(times)} loads", pct(times))

        # a write to stat_values (a new report, a status change, a withdrawal): the views
        # go on with the last figures while the release is rebuilt in the background
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO stat_generation (id, generation) VALUES (1, 1) "
                    "ON CONFLICT (id) DO UPDATE "
                    "SET generation = stat_generation.generation + 1"
                )
            )
        start = time.perf_counter()
        times = [timed("/stats" + chosen()) for _ in range(args.runs)]
        note(f"/stats (random range) during the background rebuild, {args.runs} loads", pct(times))
        worker = dashboard._rebuild
        if worker is not None:
            worker.join()
        note(
            "background rebuild (tally queries + build + audit)",
            f"{time.perf_counter() - start:.1f} s",
        )
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    width = max(len(r[0]) for r in rows)
    print(f"Sanad statistics benchmark on PostgreSQL ({os.cpu_count()} cores)")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
