"""Issue 14 item 6: does one slow page (statistics) hold up every caseworker?

A fresh PostgreSQL database and home; `--caseworkers` accounts (and one supervisor who reads
the statistics), each with its own TOTP secret; `--sealed-cases` real sealed reports (stored
through storage.cases, sealed to every account) and `--stat-reports` reports' worth of
statistics rows (bulk-inserted, so the statistics page has real work to do). The server is
`sanad web` itself in its own process (`python -m cli.main web`), so the clients' CPU is not
the server's. Every client logs in over HTTP with the login form's CSRF token and a TOTP
code; accounts use the test KDF, since login time is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess  # nosec B404 - starts our own server
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PASSPHRASE = "bench caseworker passphrase"  # nosec B105 - a throwaway home
ADMIN = "bench administrator passphrase"  # nosec B105
RECOVERY = "bench recovery passphrase"  # nosec B105
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Timings:
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind.setdefault(kind, []).append(seconds * 1000)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _prepare(url: str, root: Path, args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    """The home, the accounts (name -> TOTP secret) and the sealed cases' references."""
    import pyotp

    from caseworker.users import add_user, load_admin_key
    from intake.home import Home, init_demo
    from intake.settings import Settings
    from storage import accounts, cases, crypto
    from storage import statistics as stat_rows
    from storage.db import Database

    settings = Settings(
        home=root / "home",
        database_url=url,
        user_kdf=crypto.TEST_KDF,
        receipt_kdf=crypto.TEST_KDF,
        epoch_dir=root / "epochs",
    )
    settings.home.mkdir(parents=True)
    db = Database(url)
    try:
        init_demo(settings, db, PASSPHRASE, pyotp.random_base32(), ADMIN, RECOVERY)
        home = Home(settings.home)
        admin = load_admin_key((home.offline / "admin-signing.pem").read_bytes(), ADMIN)
        pin = accounts.ManifestPin(home.keys / "manifest-version")
        users: dict[str, str] = {}
        names = [f"cw{n:02d}" for n in range(args.caseworkers)] + ["stats-sup"]
        for name in names:
            secret = pyotp.random_base32()
            add_user(
                db,
                name,
                "supervisor" if name == "stats-sup" else "caseworker",
                PASSPHRASE,
                settings.user_kdf,
                home.admin_public(),
                secret,
                admin,
                pin=pin,
            )
            users[name] = secret
        refs = []
        now = datetime.now(UTC)
        with db.transaction() as session:
            recipients = accounts.current_recipients(session, home.admin_public())
            for n in range(args.sealed_cases):
                answers = {
                    "report_type": "complaint",
                    "consent_store": "yes",
                    "consent_stats": "yes",
                    "place_type": "prison",
                    "narrative": f"Bench account number {n}: held and beaten.",
                }
                consent = {
                    "consent_store": {"value": "yes", "at": now.isoformat()},
                    "consent_stats": {"value": "yes", "at": now.isoformat()},
                }
                case = cases.store_report(
                    session,
                    cases.ReportToStore(
                        case_id=str(uuid.uuid4()),
                        data_key=crypto.new_data_key(),
                        fields=answers,
                        files=[],
                        consent=consent,
                        report_type="complaint",
                        priority=1 + n % 4,
                        reasons=("bench",),
                        channel="console",
                        lang="en",
                        flow_version="bench",
                    ),
                    recipients,
                    crypto.new_receipt(crypto.TEST_KDF),
                    now,
                )
                stat_rows.record_case(session, home.pepper(), case, answers)
                refs.append(case.case_ref)
        with db.engine.begin() as conn:  # statistics rows of many more (register-only) reports
            conn.execute(
                text("""
                INSERT INTO stat_values (row_key, dimension, value)
                SELECT md5('bench' || i), d.dim,
                  CASE d.dim WHEN 'month' THEN '2026-' || lpad((1 + i % 12)::text, 2, '0')
                    WHEN 'report_type' THEN (ARRAY['complaint','reprisal'])[1 + i % 2]
                    WHEN 'status' THEN 'allegation_pending_assessment'
                    ELSE (ARRAY['prison','police_station','other','none'])[1 + i % 4] END
                FROM generate_series(1, :n) AS i,
                  (VALUES ('month'), ('report_type'), ('status'), ('place_type'),
                          ('perpetrator_type'), ('victim_gender')) AS d(dim)"""),
                {"n": args.stat_reports},
            )
            conn.execute(text("ANALYZE"))
        return users, refs
    finally:
        db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(url: str, root: Path, source: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env.update(
        {
            "SANAD_HOME": str(root / "home"),
            "SANAD_DATABASE_URL": url,
            "SANAD_EPOCH_DIR": str(root / "epochs"),
        }
    )
    where = source.resolve() if source else ROOT
    env["PYTHONPATH"] = str(where)
    proc = subprocess.Popen(  # nosec B603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=where,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                "sanad web exited: " + (proc.stderr.read().decode() if proc.stderr else "")
            )
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("sanad web did not answer within a minute")


async def _login(client: Any, name: str, secret: str) -> None:
    import pyotp

    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    done = await client.post(
        "/login",
        data={
            "username": name,
            "passphrase": PASSPHRASE,
            "totp": pyotp.TOTP(secret).now(),
            "csrf": token.group(1),
        },
    )
    if done.status_code != 303:
        raise RuntimeError(f"{name} could not log in: HTTP {done.status_code}")


async def _phase(
    base: str,
    clients: dict[str, Any],
    refs: list[str],
    seconds: float,
    think: float,
    with_stats: bool,
) -> Timings:
    timings = Timings()
    stop = time.perf_counter() + seconds

    async def timed(client: Any, kind: str, path: str) -> None:
        started = time.perf_counter()
        response = await client.get(path)
        if response.status_code != 200:
            timings.errors += 1
        timings.add(kind, time.perf_counter() - started)

    async def caseworker(client: Any, rng: random.Random) -> None:
        await asyncio.sleep(rng.random() * think)  # not all in step
        while time.perf_counter() < stop:
            await timed(client, "queue", "/queue")
            await asyncio.sleep(think)
            await timed(client, "case", f"/cases/{rng.choice(refs)}")
            await asyncio.sleep(think)

    async def statistics_reader(client: Any) -> None:
        while time.perf_counter() < stop:
            await timed(client, "statistics", "/stats")

    # which page a simulated caseworker loads next: not security-relevant
    tasks = [
        caseworker(c, random.Random(n))  # nosec B311
        for n, (name, c) in enumerate(clients.items())
        if name != "stats-sup"
    ]
    if with_stats:
        tasks.append(statistics_reader(clients["stats-sup"]))
    await asyncio.gather(*tasks)
    return timings


async def _measure(
    base: str, users: dict[str, str], refs: list[str], args: argparse.Namespace
) -> tuple[Timings, Timings, float]:
    import httpx

    limits = httpx.Limits(max_connections=2)
    clients = {
        name: httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=120, limits=limits)
        for name in users
    }
    try:
        started = time.perf_counter()
        await asyncio.gather(*(_login(clients[n], n, s) for n, s in users.items()))
        login_s = time.perf_counter() - started
        quiet = await _phase(base, clients, refs, args.seconds, args.think_ms / 1000, False)
        loaded = await _phase(base, clients, refs, args.seconds, args.think_ms / 1000, True)
        return quiet, loaded, login_s
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))


def run(pg_url: str, args: argparse.Namespace) -> int:
    name = f"sanad_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # say why and stop: no database, no benchmark
        print(f"PostgreSQL not reachable at {make_url(pg_url).render_as_string()}: {exc}")
        return 2
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    root = Path(tempfile.mkdtemp(prefix="sanad-bench-web-"))
    proc = None
    try:
        t0 = time.perf_counter()
        users, refs = _prepare(url, root, args)
        prepared = time.perf_counter() - t0
        proc, base = _start_server(url, root, args.source)
        quiet, loaded, login_s = asyncio.run(_measure(base, users, refs, args))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    n = args.caseworkers
    print(
        f"Sanad dashboard: {n} concurrent caseworkers, real HTTP to `sanad web` on 127.0.0.1, "
        f"PostgreSQL ({os.cpu_count()} cores; {args.seconds:g} s per run, "
        f"{args.think_ms} ms between pages)"
    )
    print(
        f"  set-up: {len(refs)} sealed cases, {args.stat_reports:,} reports in the statistics "
        f"table, {n + 1} accounts ({prepared:.1f} s); {n + 1} logins with TOTP in "
        f"{login_s:.1f} s; server from {args.source or 'this checkout'}"
    )
    header = (
        f"  {'page':<11} {'alone p50':>10} {'p99':>9} {'n':>6}   "
        f"{'with stats p50':>14} {'p99':>9} {'n':>6}"
    )
    print(header)
    for kind in ("queue", "case", "statistics"):
        a, b = quiet.by_kind.get(kind, []), loaded.by_kind.get(kind, [])
        alone = (
            f"{_pct(a, 0.5):>8.1f}ms {_pct(a, 0.99):>7.1f}ms {len(a):>6}"
            if a
            else f"{'-':>10} {'-':>9} {'-':>6}"
        )
        print(f"  {kind:<11} {alone}   {_pct(b, 0.5):>12.1f}ms {_pct(b, 0.99):>7.1f}ms {len(b):>6}")
    if quiet.errors or loaded.errors:
        print(f"  non-200 responses: {quiet.errors} alone, {loaded.errors} with statistics")
    return 1 if quiet.errors or loaded.errors else 0


__all__ = ["run"]
