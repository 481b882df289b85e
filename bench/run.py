"""Benchmarks for the core intake; prints a table.

    .venv/bin/python -m bench.run [--messages 2000] [--reports 200] [--no-postgres]

Per-message handling = language understanding + engine step + sealed draft read and write in
one committed transaction (what every channel pays per incoming message). Runs on one core
(one thread). PostgreSQL is measured when SANAD_BENCH_POSTGRES_URL (default the local server)
answers.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.console import dispatch
from flows import load_flowset
from intake.home import Home, init_demo
from intake.service import Incoming, IntakeService
from intake.settings import Settings
from nlu import build_interpreter
from storage import accounts, cases, crypto
from storage.db import Database

PG_URL = os.environ.get(
    "SANAD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A conversation that never submits: each message is one answer, cycling through the
# questions that carry free text, choices, dates and natural yes/no in both languages.
OPENING = ["en", "yes", "yes", "no", "yes", "yes", "no", "complaint", "victim", "no", "no", "yes"]
LOOP = ["/back", "yes", "/lang ar", "ايوه", "/lang en", "no"]


@contextmanager
def _service(url: str | None, root: Path) -> Iterator[IntakeService]:
    home = root / f"home-{uuid.uuid4().hex[:6]}"
    home.mkdir(parents=True)
    # Key derivation is off the message path; it is measured on its own below.
    settings = Settings(
        home=home,
        database_url=url or f"sqlite:///{home / 'sanad.db'}",
        epoch_dir=root / "epochs",
        user_kdf=crypto.TEST_KDF,
        receipt_kdf=crypto.TEST_KDF,
    )
    db = Database(settings.database_url)
    init_demo(settings, db, "bench passphrase 1")
    h = Home(home)
    svc = IntakeService(
        settings,
        db,
        load_flowset(),
        build_interpreter(),
        h.pepper(),
        h.admin_public(),
        crypto.DraftKeyring(settings.epoch_dir, settings.epoch_seconds),
    )
    try:
        yield svc
    finally:
        db.dispose()


def _messages(svc: IntakeService, n: int) -> list[float]:
    times: list[float] = []
    users = 20
    for u in range(users):  # warm up and open the conversations
        src = Incoming("console", f"bench-{u}")
        svc.open(src)
        for line in OPENING:
            dispatch(svc, src, line)
    i = 0
    while len(times) < n:
        src = Incoming("console", f"bench-{i % users}")
        line = LOOP[(i // users) % len(LOOP)]
        start = time.perf_counter()
        dispatch(svc, src, line)
        times.append(time.perf_counter() - start)
        i += 1
    return times


def _seal_open(svc: IntakeService, reports: int) -> tuple[list[float], list[float]]:
    fields = {
        "narrative": "x" * 2000,
        "incident_location": "somewhere",
        "country": "LB",
        "violation_types": ["beating", "threats"],
        "current_danger": "no",
        "incident_date": {"raw": "last week", "iso": "2026-11-16", "precision": "day"},
    }
    seal_t, open_t = [], []
    with svc.db.transaction() as session:
        recipients = accounts.current_recipients(session, svc._admin_public)
        demo = accounts.get_user(session, "demo")
        assert demo is not None
        private = crypto.unlock_private_key(demo.private_key_blob, "bench passphrase 1", demo.id)
    params = crypto.KdfParams(8, 1, 1)  # the receipt hash is measured apart (Argon2id)
    for _ in range(reports):
        draft_key = crypto.new_data_key()
        case_id = str(uuid.uuid4())
        start = time.perf_counter()
        with svc.db.transaction() as session:
            case = cases.store_report(
                session,
                cases.ReportToStore(
                    case_id=case_id,
                    data_key=draft_key,
                    fields=fields,
                    files=[],
                    consent={},
                    report_type="complaint",
                    priority=4,
                    reasons=[],
                    channel="bench",
                    lang="en",
                    flow_version="bench",
                ),
                recipients,
                crypto.new_receipt(params),
                datetime.now(UTC),
            )
        seal_t.append(time.perf_counter() - start)
        with svc.db.transaction() as session:
            start = time.perf_counter()
            opened = cases.open_case(session, case, private, demo.key_id)
            open_t.append(time.perf_counter() - start)
            assert opened.fields["narrative"] == fields["narrative"]
    return seal_t, open_t


def _pg_database() -> str | None:
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"sanad_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:  # a missing server only drops that column
        print(f"(PostgreSQL not measured: {str(exc).splitlines()[0]})", file=sys.stderr)
        return None


def _drop(url: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str | None]] = [("SQLite", None)]
        pg = None if args.no_postgres else _pg_database()
        if pg:
            targets.append(("PostgreSQL", pg))
        for name, url in targets:
            print(
                f"measuring {name}: {args.messages} messages, {args.reports} reports…",
                file=sys.stderr,
            )
            with _service(url, Path(tmp)) as svc:
                t = _messages(svc, args.messages)
                rows.append(
                    (
                        name,
                        "message: median ms",
                        f"{statistics.median(t) * 1000:.2f}",
                        "target <= 5 ms p99",
                    )
                )
                rows.append((name, "message: p99 ms", _ms(t, 0.99), ""))
                rows.append(
                    (
                        name,
                        "messages per second (1 core)",
                        f"{len(t) / sum(t):.0f}",
                        "target >= 500 (SQLite)",
                    )
                )
                seal_t, open_t = _seal_open(svc, args.reports)
                rows.append(
                    (
                        name,
                        "seal + store a report: median ms",
                        f"{statistics.median(seal_t) * 1000:.2f}",
                        "6 fields, 2 recipients",
                    )
                )
                rows.append(
                    (
                        name,
                        "open a report: median ms",
                        f"{statistics.median(open_t) * 1000:.2f}",
                        "key already unlocked",
                    )
                )
            if url:
                _drop(url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(
        (
            "-",
            "peak memory of the process MiB",
            f"{peak:.0f}",
            "messages and reports, both databases",
        )
    )
    start = time.perf_counter()
    crypto.new_receipt(crypto.PRODUCTION_RECEIPT_KDF)
    rows.append(
        (
            "-",
            "receipt hash (Argon2id 64 MiB, t=3) ms",
            f"{(time.perf_counter() - start) * 1000:.0f}",
            "once per report, by design",
        )
    )
    start = time.perf_counter()
    crypto.unlock_private_key(
        crypto.lock_private_key(
            crypto.generate_keypair()[0], "p" * 12, "u", crypto.PRODUCTION_USER_KDF
        ),
        "p" * 12,
        "u",
    )
    rows.append(
        (
            "-",
            "caseworker key lock+unlock (256 MiB, t=3) ms",
            f"{(time.perf_counter() - start) * 1000:.0f}",
            "at login, by design",
        )
    )
    width = max(len(r[1]) for r in rows)
    print(f"{'database':<11} {'measure':<{width}} {'value':>9}  note")
    for db, measure, value, note in rows:
        print(f"{db:<11} {measure:<{width}} {value:>9}  {note}")


if __name__ == "__main__":
    main()
