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

from caseworker import Principal

__all__ = [
    "ABSOLUTE_SECONDS",
    "COOKIE",
    "CSP",
    "IDLE_SECONDS",
    "LANG_COOKIE",
    "LOGIN_COOKIE",
    "LOGIN_FORM_SECONDS",
    "MAX_ANONYMOUS",
    "SWEEP_SECONDS",
    "LoginForms",
    "LoginLimiter",
    "SessionStore",
    "WebSession",
    "client_address",
    "csrf_ok",
]

COOKIE = "sanad_session"
LOGIN_COOKIE = "sanad_login"  # signed pre-login CSRF cookie: nothing stored on the server
LANG_COOKIE = "sanad_lang"  # the language chosen before logging in
IDLE_SECONDS = 15 * 60  # defaults of Settings.session_idle_seconds / _absolute_seconds
ABSOLUTE_SECONDS = 8 * 3600
SWEEP_SECONDS = 60
LOGIN_FORM_SECONDS = 3600  # how long a login form's CSRF token stays valid
MAX_ANONYMOUS = 2000  # stored sessions nobody logged into (only `SessionStore.new` makes them)
# Scripts: only the dashboard's own files under /static (web/static/app.js, keyboard
# shortcuts), never inline, never from elsewhere (issue 16 item 6).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


@dataclass
class WebSession:
    """A logged-in session (stored, `id` set), or a visitor who is not logged in: then `id`
    is empty, nothing is kept on the server and `csrf` is derived from the signed
    `LOGIN_COOKIE` (`preauth`), a double-submit token (finding 15)."""

    id: str
    csrf: str
    created: float
    seen: float
    lang: str | None = None
    principal: Principal | None = field(default=None, repr=False)
    revealed: set[str] = field(default_factory=set)
    flash: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    preauth: str | None = field(default=None, repr=False)  # LOGIN_COOKIE value to send
    ended: bool = False  # the request carried a session cookie that no longer works

    @property
    def stored(self) -> bool:
        return bool(self.id)

    def drop_key(self) -> None:
        """Forget the unlocked key and everything decrypted for this session. The Principal
        held the only reference to the key object, and OpenSSL clears an X25519 key's bytes
        when it is freed; clearing the attribute also disarms any other holder of the
        Principal (a request still running when the session was ended)."""
        if isinstance(self.principal, Principal):
            self.principal.private_key = None
        self.principal = None
        self.revealed.clear()


class LoginForms:
    """CSRF for the login form without a server-side session: the cookie is
    `nonce.issued.mac` (HMAC under a per-process key), the form's token is an HMAC of that
    cookie. A cross-site page can neither read the cookie (HttpOnly, SameSite=Strict) nor
    forge a pair; a restart invalidates open login forms, as it ends every session."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        max_age: float = LOGIN_FORM_SECONDS,
        key: bytes | None = None,
    ) -> None:
        self._clock, self.max_age = clock, max_age
        self._key = key or secrets.token_bytes(32)

    def _mac(self, label: str, text: str) -> str:
        return hmac.new(self._key, f"{label}:{text}".encode(), "sha256").hexdigest()

    def issue(self) -> str:
        body = f"{secrets.token_urlsafe(18)}.{int(self._clock())}"
        return f"{body}.{self._mac('cookie', body)}"

    def valid(self, cookie: str | None) -> bool:
        if not cookie or len(cookie) > 200 or cookie.count(".") != 2:
            return False
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._mac("cookie", body).encode()):
            return False
        issued = body.rpartition(".")[2]
        if not issued.isdigit():
            return False
        age = self._clock() - int(issued)
        return -60 <= age <= self.max_age

    def token(self, cookie: str) -> str:
        return self._mac("form", cookie)

    def visitor(self, cookie: str | None, lang: str | None, now: float) -> WebSession:
        """The not-logged-in visitor of this request (kept nowhere)."""
        preauth = cookie if cookie is not None and self.valid(cookie) else self.issue()
        return WebSession("", self.token(preauth), now, now, lang, preauth=preauth)


class SessionStore:
    """In-memory only: a restart logs everyone out, and nothing secret reaches the disk.

    Only logged-in sessions are stored (the web app makes none for visitors). Expired ones
    (idle longer than `idle_seconds`, or older than `absolute_seconds` however active) are
    swept, their unlocked key dropped and the expiry audited through `on_expire`, by the
    app's background task every `sweep_seconds` whether or not any cookie comes back, and at
    most that often on any access (finding 15).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        on_expire: Callable[[Principal], None] | None = None,
        max_anonymous: int = MAX_ANONYMOUS,
        idle_seconds: float = IDLE_SECONDS,
        absolute_seconds: float = ABSOLUTE_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self._on_expire = on_expire
        self.max_anonymous = max_anonymous
        self.idle_seconds, self.absolute_seconds = idle_seconds, absolute_seconds
        self.sweep_seconds = sweep_seconds
        self._last_sweep = clock()

    def __len__(self) -> int:
        return len(self._sessions)

    def now(self) -> float:
        return self._clock()

    def new(self, lang: str | None = None, principal: Principal | None = None) -> WebSession:
        """A stored session; with `principal`, the one a successful login starts (a new id
        and CSRF token each time: no session fixation)."""
        self.maybe_sweep()
        now = self._clock()
        s = WebSession(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, lang, principal
        )
        with self._lock:
            anonymous = [k for k, v in self._sessions.items() if v.principal is None]
            for sid in anonymous[: max(0, len(anonymous) - self.max_anonymous + 1)]:
                self._sessions.pop(sid, None)
            self._sessions[s.id] = s
        return s

    def _expired(self, s: WebSession, now: float) -> bool:
        return now - s.seen > self.idle_seconds or now - s.created > self.absolute_seconds

    def get(self, sid: str | None, touch: bool = True) -> WebSession | None:
        """The live session `sid`; `touch=False` (the live queue's polling) does not count as
        activity, so a dashboard left open still ends after `idle_seconds`."""
        self.maybe_sweep()
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return None
            if not self._expired(s, now):
                if touch:
                    s.seen = now
                return s
            self._sessions.pop(sid, None)
            expired = s.principal
            s.drop_key()
        if expired is not None and self._on_expire:
            self._on_expire(expired)
        return None

    def save(self, s: WebSession) -> None:
        """Nothing to do in memory: the request changed the stored object itself (the Redis
        store, web._redis_sessions, seals it again)."""

    def rotate(self, old: WebSession) -> WebSession:
        """A new id and CSRF token at login (no session fixation)."""
        fresh = self.new(old.lang)
        self.drop(old)
        return fresh

    def drop(self, s: WebSession) -> None:
        s.drop_key()
        with self._lock:
            self._sessions.pop(s.id, None)

    def principals(self) -> list[Principal]:
        """Who is logged in now (one entry per session)."""
        with self._lock:
            return [s.principal for s in self._sessions.values() if s.principal is not None]

    def end_sessions_of(self, username: str) -> list[Principal]:
        """End every session of this account at once (disabled, or its key changed): each
        key is dropped; the ended principals (key already wiped) are returned for the
        audit log."""
        with self._lock:
            gone = [
                s
                for s in self._sessions.values()
                if s.principal is not None and s.principal.name == username
            ]
            ended = []
            for s in gone:
                self._sessions.pop(s.id, None)
                assert s.principal is not None
                ended.append(s.principal)
                s.drop_key()
        return ended

    def maybe_sweep(self) -> None:
        if self._clock() - self._last_sweep >= self.sweep_seconds:
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

    def __init__(
        self,
        limit: int = 5,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.time,
        base: float = 2.0,
        cap: float = 60.0,
        max_keys: int = 100_000,
    ) -> None:
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

    def wait_all(self, *keys: str) -> float:
        """Seconds until every one of `keys` may try again (what the refusal tells)."""
        return max((self.wait(k) for k in keys), default=0.0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            if len(self._failures) >= self.max_keys:  # bounded memory under a flood
                for k in [k for k in self._failures if not self._recent(k)]:
                    self._failures.pop(k, None)
            for k in keys:
                items = self._recent(k)
                items.append(self._clock())
                self._failures[k] = items[-(self.limit + 32) :]

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._failures.pop(user_key, None)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
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
