"""Server-side sessions (the unlocked private key lives only here, in memory), CSRF tokens,
login rate limiting and the security headers of every response."""

from __future__ import annotations

import hmac
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
    """In-memory only: a restart logs everyone out, and nothing secret reaches the disk."""

    def __init__(self, clock: Callable[[], float] = time.time,
                 on_expire: Callable[[Principal], None] | None = None) -> None:
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self._on_expire = on_expire

    def new(self, lang: str | None = None) -> WebSession:
        now = self._clock()
        s = WebSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, lang)
        with self._lock:
            self._sessions[s.id] = s
        return s

    def get(self, sid: str | None) -> WebSession | None:
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return None
            if now - s.seen > IDLE_SECONDS or now - s.created > ABSOLUTE_SECONDS:
                self._sessions.pop(sid, None)
                expired = s.principal
                s.drop_key()
            else:
                s.seen = now
                return s
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

    def sweep(self) -> None:
        for sid in list(self._sessions):
            self.get(sid)


def csrf_ok(session: WebSession, token: Any) -> bool:
    return isinstance(token, str) and hmac.compare_digest(session.csrf.encode(), token.encode())


class LoginLimiter:
    """At most `limit` failed logins per user name and per client address in `window`
    seconds; checked before the slow passphrase derivation runs."""

    def __init__(self, limit: int = 5, window: float = 15 * 60,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> list[float]:
        cutoff = self._clock() - self.window
        items = [t for t in self._failures.get(key, []) if t > cutoff]
        self._failures[key] = items
        return items

    def allowed(self, *keys: str) -> bool:
        with self._lock:
            return all(len(self._recent(k)) < self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._recent(k).append(self._clock())

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._failures.pop(user_key, None)
