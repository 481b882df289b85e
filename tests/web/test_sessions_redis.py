"""Dashboard sessions on several instances (issue 15 item 5): sealed in Redis under a key only
the cookie holds. Real HTTP (uvicorn on loopback), the real database, crypto and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing

import httpx
import pytest
from sqlalchemy import select

from storage.models import AuditEntry
from tests.conftest import REDIS_URL, redis_skip_reason
from tests.support import PASSPHRASE
from tests.web.conftest import DEMO_TOTP, Site, totp_code
from tests.web.live import login, serve, wait_until
from web import security
from web._redis_sessions import RedisSessionStore, _unb64
from web.app import WebApp


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def namespace() -> Iterator[str]:
    reason = redis_skip_reason()
    if reason:
        pytest.skip(reason)
    import redis

    ns = f"sanad-test-{uuid.uuid4().hex[:8]}"
    yield ns
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.keys(f"{ns}:*"):
        client.delete(key)


def _app(site: Site, ns: str, clock: Clock) -> WebApp:
    return WebApp(
        site.dashboard,
        clock=clock,
        sweep_seconds=0.05,
        session_store_url=REDIS_URL,
        session_namespace=ns,
    )


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=False, timeout=20)


def _redis_values(store: RedisSessionStore, ns: str) -> list[bytes]:
    r = store.redis
    out: list[bytes] = []
    for key in r.keys(f"{ns}:*"):
        kind = r.type(key)
        if kind == b"string":
            out.append(r.get(key))
        elif kind == b"hash":
            out += [k + b"=" + v for k, v in r.hgetall(key).items()]
        elif kind == b"zset":
            out += [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
        out.append(key)
    return out


def test_a_session_moves_between_instances_survives_restarts_and_opens_only_with_its_cookie(
    site: Site, namespace: str
) -> None:
    clock = Clock()
    a, b = _app(site, namespace, clock), _app(site, namespace, clock)
    assert isinstance(a.sessions, RedisSessionStore)
    with ExitStack() as stack:
        base_a = stack.enter_context(serve(a.build()))
        base_b = stack.enter_context(serve(b.build()))
        client = stack.enter_context(closing(_client(base_a)))
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303
        cookie = client.cookies[security.COOKIE]
        assert client.get("/queue").status_code == 200  # instance A
        on_b = stack.enter_context(closing(_client(base_b)))
        on_b.cookies.set(security.COOKIE, cookie)
        assert on_b.get("/queue").status_code == 200  # the next request, on instance B
        assert on_b.get("/stats").status_code == 200
    # Both instances restarted (new processes' worth of objects): the session still works.
    c, d = _app(site, namespace, clock), _app(site, namespace, clock)
    with ExitStack() as stack:
        base_c = stack.enter_context(serve(c.build()))
        base_d = stack.enter_context(serve(d.build()))
        on_c = stack.enter_context(closing(_client(base_c)))
        on_c.cookies.set(security.COOKIE, cookie)
        assert on_c.get("/queue").status_code == 200
        # What Redis holds opens nothing without the cookie.
        store = c.sessions
        assert isinstance(store, RedisSessionStore)
        sid, _, raw_key = cookie.partition(".")
        session_key = _unb64(raw_key)
        name = store._name(sid)
        blob = store.redis.get(name)
        assert blob is not None
        everything = b"".join(_redis_values(store, namespace))
        assert session_key not in everything and raw_key.encode() not in everything
        assert sid.encode() not in everything  # only its hash names the blob
        opened = store.get(cookie)
        assert opened is not None and opened.principal is not None
        private = opened.principal.private_key.private_bytes_raw()
        assert private not in everything  # the unlocked key is nowhere in clear
        for guess in [
            name.encode()[:32],
            bytes(32),
            blob[1:33],
            *(v[:32].ljust(32, b"\0") for v in _redis_values(store, namespace)),
        ]:
            assert store._open(blob, guess, name) is None
        assert store._open(blob, session_key, name) is not None
        # A cookie with the right id and a wrong key is no session either.
        forged = _client(base_d)
        with closing(forged):
            forged.cookies.set(security.COOKIE, f"{sid}.{'A' * 43}")
            assert forged.get("/queue").status_code == 303
        # Logging out on D deletes the sealed session: C does not know it any more.
        on_d = stack.enter_context(closing(_client(base_d)))
        on_d.cookies.set(security.COOKIE, cookie)
        page = on_d.get("/queue")
        assert page.status_code == 200
        from tests.web.live import csrf_of

        assert on_d.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
        assert store.redis.get(name) is None and len(store) == 0
        assert store.redis.hlen(store.owners) == 0
        assert on_c.get("/queue").status_code == 303


def test_redis_sessions_expire_idle_and_absolute_and_the_sweeper_audits(
    site: Site, namespace: str
) -> None:
    clock = Clock()
    a, b = _app(site, namespace, clock), _app(site, namespace, clock)
    with ExitStack() as stack:
        base_a = stack.enter_context(serve(a.build()))
        base_b = stack.enter_context(serve(b.build()))
        client = stack.enter_context(closing(_client(base_a)))
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303
        cookie = client.cookies[security.COOKIE]
        store = a.sessions
        assert isinstance(store, RedisSessionStore)
        name = store._name(cookie.partition(".")[0])
        ttl = store.redis.pttl(name)
        assert 0 < ttl <= security.IDLE_SECONDS * 1000  # Redis forgets it at the deadline
        on_b = stack.enter_context(closing(_client(base_b)))
        on_b.cookies.set(security.COOKIE, cookie)
        for _ in range(47):  # active for 7 h 50 min, alternating instances
            clock.now += 10 * 60
            assert (on_b if int(clock.now) % 2 else client).get("/queue").status_code == 200
        clock.now += 11 * 60  # past the absolute limit
        assert wait_until(lambda: len(store) == 0), "no instance swept it"
        assert store.redis.get(name) is None
        with site.db.transaction() as session:
            reasons = [
                (e.actor, (e.detail or {}).get("reason"))
                for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "logout"))
            ]
        assert reasons.count(("demo", "expired")) == 1  # audited once, by one instance
        assert client.get("/queue").headers["location"] == "/login?ended=1"
        # Idle: 16 minutes without a request.
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP, 1)).status_code == 303
        assert len(store) == 1
        clock.now += 16 * 60
        assert wait_until(lambda: len(store) == 0)


def test_a_disabled_account_loses_its_redis_sessions_everywhere(site: Site, namespace: str) -> None:
    clock = Clock()
    a, b = _app(site, namespace, clock), _app(site, namespace, clock)
    with ExitStack() as stack:
        base_a = stack.enter_context(serve(a.build()))
        client = stack.enter_context(closing(_client(base_a)))
        assert login(client, "demo", PASSPHRASE, totp_code(DEMO_TOTP)).status_code == 303
        assert b.end_sessions_of("demo") == 1  # ended from the other instance
        assert len(a.sessions) == 0
        assert client.get("/queue").status_code == 303
