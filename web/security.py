"""Server-side sessions (the unlocked private key lives only here, in memory), CSRF tokens,
login rate limiting and the security headers of every response."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from caseworker.dashboard import Principal

COOKIE = "sanad_session"
IDLE_SECONDS = 15 * 60
ABSOLUTE_SECONDS = 8 * 3600
SWEEP_SECONDS = 60
MAX_ANONYMOUS = 2000  # sessions that only hold a login form's CSRF token
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass
class WebSession:
    id: str
    csrf: str
    created: float
    seen: float
    lang: str | None = None
    principal: Principal | None = field(default=None, repr=False)
    revealed: set[str] = field(default_factory=set)
    flash: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def drop_key(self) -> None:
        """Forget the unlocked key and everything decrypted for this session."""
        self.principal = None
        self.revealed.clear()


class SessionStore:
    """In-memory only: a restart logs everyone out, and nothing secret reaches the disk.

    Expired sessions are swept (their unlocked key dropped and the expiry audited through
    `on_expire`) at most every `SWEEP_SECONDS` on any request, and by the app's background
    task when none come; sessions nobody logged into are capped at `max_anonymous`, the oldest
    going first, so cookie-less requests cannot grow memory without limit (finding 15).
    """

    def __init__(self, clock: Callable[[], float] = time.time,
                 on_expire: Callable[[Principal], None] | None = None,
                 max_anonymous: int = MAX_ANONYMOUS) -> None:
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self._on_expire = on_expire
        self.max_anonymous = max_anonymous
        self._last_sweep = clock()

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self, lang: str | None = None) -> WebSession:
        self.maybe_sweep()
        now = self._clock()
        s = WebSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, lang)
        with self._lock:
            anonymous = [k for k, v in self._sessions.items() if v.principal is None]
            for sid in anonymous[:max(0, len(anonymous) - self.max_anonymous + 1)]:
                self._sessions.pop(sid, None)
            self._sessions[s.id] = s
        return s

    def _expired(self, s: WebSession, now: float) -> bool:
        return now - s.seen > IDLE_SECONDS or now - s.created > ABSOLUTE_SECONDS

    def get(self, sid: str | None) -> WebSession | None:
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return None
            if not self._expired(s, now):
                s.seen = now
                return s
            self._sessions.pop(sid, None)
            expired = s.principal
            s.drop_key()
        if expired is not None and self._on_expire:
            self._on_expire(expired)
        return None

    def rotate(self, old: WebSession) -> WebSession:
        """A new id and CSRF token at login (no session fixation)."""
        fresh = self.new(old.lang)
        self.drop(old)
        return fresh

    def drop(self, s: WebSession) -> None:
        s.drop_key()
        with self._lock:
            self._sessions.pop(s.id, None)

    def maybe_sweep(self) -> None:
        if self._clock() - self._last_sweep >= SWEEP_SECONDS:
            self.sweep()

    def sweep(self) -> int:
        """Drop every expired session without touching the live ones; the number dropped."""
        now = self._clock()
        self._last_sweep = now
        with self._lock:
            gone = [s for s in self._sessions.values() if self._expired(s, now)]
            principals = []
            for s in gone:
                self._sessions.pop(s.id, None)
                if s.principal is not None:
                    principals.append(s.principal)
                s.drop_key()
        for principal in principals:
            if self._on_expire:
                self._on_expire(principal)
        return len(gone)


def csrf_ok(session: WebSession, token: Any) -> bool:
    return isinstance(token, str) and hmac.compare_digest(session.csrf.encode(), token.encode())


class LoginLimiter:
    """Backoff per key (an account name, a client address), not a hard lock (finding 11).

    The first `limit` failures in `window` seconds cost nothing; after that each further
    attempt must wait `base * 2**(extra failures)` seconds (at most `cap`) after the last
    failure, and is refused with 429 before the slow passphrase derivation runs. Someone who
    keeps guessing a colleague's name delays that account by at most `cap` seconds, never
    locks it for long; a success clears the account's record.
    """

    def __init__(self, limit: int = 5, window: float = 15 * 60,
                 clock: Callable[[], float] = time.time, base: float = 2.0,
                 cap: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self.base, self.cap, self.max_keys = base, cap, max_keys
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> list[float]:
        cutoff = self._clock() - self.window
        items = [t for t in self._failures.get(key, []) if t > cutoff]
        if items:
            self._failures[key] = items
        else:
            self._failures.pop(key, None)
        return items

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        with self._lock:
            items = self._recent(key)
            extra = len(items) - self.limit
            if extra < 0:
                return 0.0
            delay = min(self.cap, self.base * 2 ** min(extra, 30))
            return max(0.0, items[-1] + delay - self._clock())

    def allowed(self, *keys: str) -> bool:
        return all(self.wait(k) <= 0 for k in keys)

    def failed(self, *keys: str) -> None:
        with self._lock:
            if len(self._failures) >= self.max_keys:  # bounded memory under a flood
                for k in [k for k in self._failures if not self._recent(k)]:
                    self._failures.pop(k, None)
            for k in keys:
                items = self._recent(k)
                items.append(self._clock())
                self._failures[k] = items[-(self.limit + 32):]

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._failures.pop(user_key, None)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: tuple[str, ...]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    right-most address of X-Forwarded-For that is not itself a trusted proxy (finding 11).
    A header from anyone else is ignored, so it cannot be used to dodge the limiter."""
    peer = peer or "?"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a malformed chain: count it against the proxy, never trust it
        if not _trusted(address, trusted):
            return address
    return peer


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address in trusted  # e.g. "testclient", a unix socket name
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
