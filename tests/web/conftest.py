"""Dashboard fixtures: a real home (keys, manifest, demo account with a known TOTP secret),
cases stored through the real storage and crypto, and logged-in HTTP clients."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from starlette.testclient import TestClient

from caseworker.dashboard import Dashboard
from caseworker.users import add_user, load_admin_key
from intake.home import Home, init_demo
from intake.settings import Settings
from storage import accounts, cases, crypto
from storage import statistics as stat_rows
from storage.db import Database
from tests.conftest import TestDatabases
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE, RECOVERY_PASSPHRASE
from web import create_app

DEMO_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_PASSPHRASE = "another long passphrase"

CONSENT_ALL = {
    k: "yes"
    for k in (
        "consent_store",
        "consent_followup",
        "consent_share_identity",
        "consent_refer",
        "consent_stats",
        "consent_publish",
    )
}
CONSENT_NONE = {
    "consent_store": "yes",
    "consent_followup": "no",
    "consent_share_identity": "no",
    "consent_refer": "unknown",
    "consent_stats": "no",
    "consent_publish": "no",
}


def totp_code(secret: str, step_offset: int = 0) -> str:
    return str(pyotp.TOTP(secret).at(time.time() + 30 * step_offset))


@dataclass
class Site:
    settings: Settings
    db: Database
    home: Home
    dashboard: Dashboard
    secrets: dict[str, str]

    def add_user(self, name: str, role: str) -> str:
        secret = pyotp.random_base32()
        admin = load_admin_key(
            (self.home.offline / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE
        )
        add_user(
            self.db,
            name,
            role,
            OTHER_PASSPHRASE,
            self.settings.user_kdf,
            self.home.admin_public(),
            secret,
            admin,
        )
        self.secrets[name] = secret
        return secret

    def make_case(
        self,
        fields: dict[str, Any] | None = None,
        consent: dict[str, str] | None = None,
        priority: int = 3,
        report_type: str = "complaint",
        reasons: tuple[str, ...] = ("default",),
        files: list[tuple[str, str, bytes]] | None = None,
    ) -> str:
        case_id = str(uuid.uuid4())
        key = crypto.new_data_key()
        metas = []
        for name, ctype, content in files or []:
            att_id = str(uuid.uuid4())
            rel = Path(case_id) / f"{att_id}.bin"
            path = self.settings.attachments_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                size, digest = crypto.seal_attachment(key, case_id, att_id, [content], out)
            metas.append(
                {
                    "id": att_id,
                    "name": name,
                    "content_type": ctype,
                    "sha256": digest,
                    "field": "evidence",
                    "size": size,
                    "path": str(rel),
                }
            )
        now = datetime.now(UTC)
        consent_rec = {
            k: {"value": v, "at": now.isoformat()} for k, v in (consent or CONSENT_ALL).items()
        }
        with self.db.transaction() as session:
            recipients = accounts.current_recipients(session, self.home.admin_public())
            case = cases.store_report(
                session,
                cases.ReportToStore(
                    case_id=case_id,
                    data_key=key,
                    # the consent answers are sealed with the report, as the intake stores them
                    fields={
                        **(consent or CONSENT_ALL),
                        **(fields or {"report_type": report_type, "narrative": "A short account."}),
                    },
                    files=metas,
                    consent=consent_rec,
                    report_type=report_type,
                    priority=priority,
                    reasons=reasons,
                    channel="console",
                    lang="en",
                    flow_version="test",
                ),
                recipients,
                crypto.new_receipt(crypto.TEST_KDF),
                now,
            )
            # what the intake does after storing a report (intake.service._submit)
            stat_rows.record_case(
                session, self.home.pepper(), case, fields or {"report_type": report_type}
            )
            return case.case_ref

    def client(self, lang: str | None = None) -> TestClient:
        app = create_app(self.dashboard)
        headers = {"Accept-Language": lang} if lang else {}
        return TestClient(app, headers=headers, follow_redirects=False)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, user: str, passphrase: str, secret: str, step_offset: int = 0) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": user,
            "passphrase": passphrase,
            "totp": totp_code(secret, step_offset),
            "csrf": csrf_of(page.text),
        },
    )


def post(
    client: TestClient, url: str, data: dict[str, str] | None = None, page: str = "/queue"
) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf": token})


def make_site(
    settings: Settings, database_url: str | None = None, databases: TestDatabases | None = None
) -> Site:
    """A demo home and its dashboard; `databases` gives a new database the migrated schema
    by copy (init_demo migrates it anyway)."""
    cfg = replace(settings, database_url=database_url) if database_url else settings
    cfg.home.mkdir(parents=True, exist_ok=True)
    if databases is not None and not Home(cfg.home).is_initialised():
        databases.seed(cfg.database_url)
    db = Database(cfg.database_url)
    init_demo(cfg, db, PASSPHRASE, DEMO_TOTP, ADMIN_PASSPHRASE, RECOVERY_PASSPHRASE)
    home = Home(cfg.home)
    dashboard = Dashboard(
        db, home.admin_public(), cfg.attachments_dir, pepper=home.pepper(), user_kdf=cfg.user_kdf
    )
    # figures are asserted right after each write, on a loaded CI machine: a view waits for
    # the rebuild (the previous figures served meanwhile are tested in test_statistics.py)
    dashboard.stats_wait = 60.0
    return Site(cfg, db, home, dashboard, {"demo": DEMO_TOTP})


@pytest.fixture
def site(settings: Settings, test_databases: TestDatabases) -> Iterator[Site]:
    s = make_site(settings, databases=test_databases)
    yield s
    s.db.dispose()


@pytest.fixture
def any_site(
    settings: Settings, database_url: str, test_databases: TestDatabases
) -> Iterator[Site]:
    """The same site on SQLite and on PostgreSQL."""
    s = make_site(settings, database_url, test_databases)
    yield s
    s.db.dispose()


@pytest.fixture
def demo(site: Site) -> TestClient:
    client = site.client()
    assert login(client, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    return client


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Any]:
    """One Playwright driver and one Chromium for a module's browser tests: starting them
    cost about a second of both cores for every test. Not for longer: while Playwright's sync
    API is open it holds this thread's event loop, so another module's `asyncio.run` would
    fail. Each test gets fresh contexts (their own cookies, storage and cache, as a new
    browser profile has), closed when it ends."""
    from playwright.sync_api import sync_playwright

    from tests.web.test_browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def browser(_chromium: Any) -> Iterator[Any]:
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()
