"""Sessions that really expire, no session for visitors, login limits, and no request
blocking another (issue 14, items 5 and 6; review findings 11 and 15). Everything runs
against the dashboard served by uvicorn on 127.0.0.1, over real HTTP, with the real database
and crypto; only the sessions' clock is injected, so hours pass in milliseconds."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text, update

from intake.settings import Settings
from storage.models import AuditEntry, User
from tests.support import PASSPHRASE
from tests.web.conftest import DEMO_TOTP, OTHER_PASSPHRASE, Site, make_site, totp_code
from tests.web.live import csrf_of, login, serve, wait_until
from web import security
from web.app import WebApp


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(site: Site, clock: Clock) -> WebApp:
    """The app with the shipped limits (15 min idle, 8 h absolute) and a fast sweeper."""
    return WebApp(site.dashboard, clock=clock, sweep_seconds=0.05, trusted_proxies=("127.0.0.1",))


@pytest.fixture
def base(web: WebApp) -> Iterator[str]:
    with serve(web.build()) as url:
        yield url


def _client(base: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=False, headers=headers, timeout=20)


def _audit(site: Site, action: str) -> list[tuple[str, str | None]]:
    with site.db.transaction() as session:
        return [
            (e.actor, (e.detail or {}).get("reason"))
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ]


def _logged_in(
    base: str,
    web: WebApp,
    user: str = "demo",
    passphrase: str = PASSPHRASE,
    secret: str = DEMO_TOTP,
    step: int = 0,
) -> tuple[httpx.Client, Any]:
    client = _client(base)
    assert login(client, user, passphrase, totp_code(secret, step)).status_code == 303
    assert client.get("/queue").status_code == 200
    principal = next(p for p in web.sessions.principals() if p.name == user)
    assert principal.private_key is not None
    return client, principal


def test_idle_session_is_swept_without_its_cookie_coming_back(
    site: Site, web: WebApp, base: str, clock: Clock
) -> None:
    """Finding 15."""
    client, principal = _logged_in(base, web)
    with closing(client):
        clock.now += 14 * 60  # still inside the idle limit: the sweeper leaves it alone
        time.sleep(0.2)
        assert len(web.sessions) == 1 and principal.private_key is not None
        clock.now += 2 * 60  # 16 minutes without a request; no request comes
        assert wait_until(lambda: len(web.sessions) == 0), "the sweeper did not run"
        assert principal.private_key is None, "the unlocked key outlived its session"
        del principal
        gc.collect()
        assert not web.sessions.principals()
        assert ("demo", "expired") in _audit(site, "logout")
        # when the cookie does come back, it is told why
        back = client.get("/queue")
        assert back.status_code == 303 and back.headers["location"] == "/login?ended=1"
        assert "Your session ended" in client.get(back.headers["location"]).text


def test_absolute_limit_holds_even_while_active(
    site: Site, web: WebApp, base: str, clock: Clock
) -> None:
    """Finding 15."""
    client, principal = _logged_in(base, web)
    with closing(client):
        for _ in range(47):  # a request every 10 minutes for 7 h 50 min
            clock.now += 10 * 60
            assert client.get("/queue").status_code == 200
        clock.now += 11 * 60  # 8 h 1 min after login, 11 minutes after the last request
        assert wait_until(lambda: len(web.sessions) == 0)
        assert principal.private_key is None
        assert client.get("/queue").headers["location"] == "/login?ended=1"


def test_cookie_less_requests_store_nothing_and_login_still_needs_csrf(
    site: Site, web: WebApp, base: str
) -> None:
    """Finding 15."""
    before = len(web.sessions)
    with _client(base) as probe:
        for n in range(1000):
            probe.cookies.clear()
            path = ("/login", "/queue", "/", "/stats")[n % 4]
            assert probe.get(path).status_code in (200, 303)
    assert len(web.sessions) == before == 0
    with _client(base) as forger:  # a token without the cookie it was made for
        token = csrf_of(forger.get("/login").text)
        forger.cookies.clear()
        refused = forger.post(
            "/login",
            data={
                "username": "demo",
                "passphrase": PASSPHRASE,
                "totp": totp_code(DEMO_TOTP),
                "csrf": token,
            },
        )
        assert refused.status_code == 403
    with _client(base) as other, _client(base) as victim:  # another visitor's token
        token = csrf_of(other.get("/login").text)
        victim.get("/login")
        assert (
            victim.post(
                "/login",
                data={
                    "username": "demo",
                    "passphrase": PASSPHRASE,
                    "totp": totp_code(DEMO_TOTP),
                    "csrf": token,
                },
            ).status_code
            == 403
        )
    with _client(base) as client:
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303
        assert client.get("/queue").status_code == 200
    assert len(web.sessions) == 1


def test_language_chosen_before_login_is_kept_without_a_session(web: WebApp, base: str) -> None:
    with _client(base) as client:
        assert 'dir="rtl"' in client.get("/login?lang=ar").text
        assert 'dir="rtl"' in client.get("/login").text
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303
        assert 'dir="rtl"' in client.get("/queue").text
    assert len(web.sessions) == 1


def test_logout_wipes_the_key(site: Site, web: WebApp, base: str) -> None:
    """Finding 15."""
    client, principal = _logged_in(base, web)
    with closing(client):
        token = csrf_of(client.get("/queue").text)
        out = client.post("/logout", data={"csrf": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert principal.private_key is None and len(web.sessions) == 0
        assert client.get("/queue").headers["location"].startswith("/login")
    assert ("demo", "logout") in _audit(site, "logout")


def test_disabled_account_loses_its_sessions_at_once(
    site: Site, web: WebApp, base: str, clock: Clock
) -> None:
    """Finding 15."""
    secret = site.add_user("dana", "caseworker")
    dana, dana_key = _logged_in(base, web, "dana", OTHER_PASSPHRASE, secret)
    demo, demo_key = _logged_in(base, web)
    with closing(dana), closing(demo):
        # what the account-disable code calls in this process
        assert web.end_sessions_of("dana") == 1
        assert dana_key.private_key is None
        assert dana.get("/queue").headers["location"] == "/login?ended=1"
        assert demo_key.private_key is not None and len(web.sessions) == 1
        # `sanad users disable` from another process: the next request ends the session
        with site.db.transaction() as session:
            session.execute(
                update(User).where(User.name == "demo").values(disabled_at=datetime.now(UTC))
            )
        assert demo.get("/queue").headers["location"] == "/login?ended=1"
        assert demo_key.private_key is None and len(web.sessions) == 0
    assert _audit(site, "logout").count(("dana", "disabled")) == 1
    assert ("demo", "disabled") in _audit(site, "logout")


def test_disabled_account_is_ended_by_the_sweeper_alone(site: Site, web: WebApp, base: str) -> None:
    client, principal = _logged_in(base, web)
    with closing(client):
        with site.db.transaction() as session:
            session.execute(
                update(User).where(User.name == "demo").values(disabled_at=datetime.now(UTC))
            )
        assert wait_until(lambda: len(web.sessions) == 0)
        assert principal.private_key is None


def _fail(client: httpx.Client, name: str) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": name,
            "passphrase": "wrong passphrase!",
            "totp": "123456",
            "csrf": csrf_of(page.text),
        },
    )


def test_login_is_limited_per_account_in_both_languages(site: Site, base: str) -> None:
    """Finding 11: five failures for one account, from one address: the account waits,
    from any address, and is told how long in the page's language (Retry-After too)."""
    with _client(base, **{"X-Forwarded-For": "203.0.113.9"}) as attacker:
        for _ in range(5):
            assert _fail(attacker, "demo").status_code == 401
    with _client(base, **{"X-Forwarded-For": "198.51.100.7", "Accept-Language": "ar"}) as elsewhere:
        limited = login(elsewhere, "demo", PASSPHRASE, totp_code(DEMO_TOTP))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "محاولات دخول كثيرة لهذا الحساب أو من هذا العنوان" in limited.text
        assert "ثانية" in limited.text or "ثوانٍ" in limited.text
    with _client(base, **{"X-Forwarded-For": "198.51.100.8"}) as english:
        limited = login(english, "demo", PASSPHRASE, totp_code(DEMO_TOTP))
        assert limited.status_code == 429
        assert (
            "Too many attempts to sign in to this account or from this address" in limited.text
            and "second" in limited.text
        )
        time.sleep(int(limited.headers["retry-after"]) + 0.1)  # a backoff, not a lock
        assert login(english, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303


def test_login_is_limited_per_address(site: Site, base: str) -> None:
    """Finding 11. Failures with many names from one address hold back that address only."""
    with _client(base, **{"X-Forwarded-For": "203.0.113.9"}) as guesser:
        for n in range(5):
            assert _fail(guesser, f"nobody{n}").status_code == 401
        assert _fail(guesser, "someone-else").status_code == 429
        limited = login(guesser, "demo", PASSPHRASE, totp_code(DEMO_TOTP))
        assert limited.status_code == 429 and "Wait" in limited.text
    with _client(base, **{"X-Forwarded-For": "198.51.100.7"}) as colleague:
        assert login(colleague, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303


@pytest.fixture
def pg_site(settings: Settings, postgres_url: str) -> Iterator[Site]:
    s = make_site(settings, postgres_url)
    yield s
    s.db.dispose()


@pytest.mark.postgres
def test_a_slow_statistics_page_does_not_block_the_queue(pg_site: Site, postgres_url: str) -> None:
    """Finding 11 and issue 14: the statistics query is made slow for real (another
    transaction holds a lock on the statistics table, so the real statistics code waits in
    PostgreSQL). Meanwhile a colleague's queue and case pages must answer."""
    site = pg_site
    ref = site.make_case()
    secret = site.add_user("sami", "supervisor")
    web = WebApp(site.dashboard)
    blocker = create_engine(postgres_url)
    with serve(web.build()) as base:
        stats_client, _ = _logged_in(base, web, "sami", OTHER_PASSPHRASE, secret)
        queue_client, _ = _logged_in(base, web)
        results: dict[str, Any] = {}

        def load(name: str, path: str) -> None:
            started = time.perf_counter()
            results[name] = (stats_client.get(path).status_code, time.perf_counter() - started)

        with closing(stats_client), closing(queue_client), blocker.connect() as conn:
            conn.execute(text("LOCK TABLE stat_values IN ACCESS EXCLUSIVE MODE"))
            slow = [
                threading.Thread(target=load, args=("stats", "/stats")),
                threading.Thread(target=load, args=("chart", "/stats/chart/total.svg")),
            ]
            for th in slow:
                th.start()
            time.sleep(0.3)  # both statistics requests are now waiting in the database
            started = time.perf_counter()
            assert queue_client.get("/queue").status_code == 200
            assert queue_client.get(f"/cases/{ref}").status_code == 200
            assert queue_client.get("/static/app.css").status_code == 200
            answered = time.perf_counter() - started
            assert not results, "the statistics finished early: nothing was slow"
            time.sleep(max(0.0, 1.5 - answered))
            conn.rollback()  # the lock goes; the statistics can finish
            for th in slow:
                th.join(timeout=20)
        blocker.dispose()
    assert answered < 1.0, answered
    assert results["stats"][0] == 200 and results["chart"][0] == 200
    assert min(results["stats"][1], results["chart"][1]) >= 1.5


def test_session_limits_are_settings_with_the_shipped_defaults(tmp_path: Any) -> None:
    shipped = Settings.from_env({"SANAD_HOME": str(tmp_path)})
    assert (
        (shipped.session_idle_seconds, shipped.session_absolute_seconds)
        == (security.IDLE_SECONDS, security.ABSOLUTE_SECONDS)
        == (15 * 60, 8 * 3600)
    )
    tuned = Settings.from_env(
        {
            "SANAD_HOME": str(tmp_path),
            "SANAD_SESSION_IDLE_SECONDS": "300",
            "SANAD_SESSION_ABSOLUTE_SECONDS": "3600",
        }
    )
    assert (tuned.session_idle_seconds, tuned.session_absolute_seconds) == (300, 3600)
    from intake.settings import SettingsError

    with pytest.raises(SettingsError, match="SANAD_SESSION_IDLE_SECONDS"):
        Settings.from_env({"SANAD_HOME": str(tmp_path), "SANAD_SESSION_IDLE_SECONDS": "ten"})
