"""Dashboard sessions shared by several instances through Redis, with no usable key at rest.

`SANAD_SESSION_STORE_URL=redis://host:port/db` (default: the in-memory `SessionStore`). At
login a session gets an id and a fresh random 256-bit session key; the cookie carries both
(`<id>.<key>`) and nothing else holds the key. Redis holds, under `sanad:session:<sha256 of
the id>`, the session sealed with AES-256-GCM under that key (the Redis key name as
associated data): the caseworker's unlocked private key, the CSRF token, the times, the
language, what was revealed, pending notices. Redis alone, a copy of its memory or a dump,
opens nothing; an instance that gets the cookie opens it, whichever instance made it.

Next to the sealed blobs, in clear, only what ending sessions needs without a cookie: each
session's deadline (a sorted set, for the sweeper's audited expiry), and its account (user id,
name, role, key id: no secret) so that `end_sessions_of` (a disabled account) and the sweeper
can end every session of an account and audit it.

Expiry: a blob's Redis TTL is its deadline (idle time from the last request, capped by the
absolute lifetime), renewed on every request; the same checks as in memory run on every
read, and the sweeper (any instance; ZREM decides which one audits) logs each expiry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseworker import Principal
from web.security import ABSOLUTE_SECONDS, IDLE_SECONDS, SWEEP_SECONDS, WebSession

__all__ = ["RedisSessionStore"]

NAMESPACE = "sanad"  # keys: <ns>:session:<sha256 of id>, <ns>:sessions:deadline, …:owner
_VERSION = b"\x01"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_bytes(key: Any) -> str:
    if isinstance(key, X25519PrivateKey):
        return _b64(key.private_bytes_raw())
    raise TypeError("only X25519 account keys can be kept in a shared session")


class RedisSessionStore:
    """The `web.security.SessionStore` interface over Redis (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        clock: Callable[[], float] = time.time,
        on_expire: Callable[[Principal], None] | None = None,
        idle_seconds: float = IDLE_SECONDS,
        absolute_seconds: float = ABSOLUTE_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        client: Any = None,
        namespace: str = NAMESPACE,
    ) -> None:
        if client is None:
            import redis

            client = redis.Redis.from_url(url)
        self.redis = client
        self.prefix = f"{namespace}:session:"
        self.deadlines = f"{namespace}:sessions:deadline"  # sorted set: name → deadline
        self.owners = f"{namespace}:sessions:owner"  # hash: name → account (no secret)
        self._clock = clock
        self._on_expire = on_expire
        self.idle_seconds, self.absolute_seconds = idle_seconds, absolute_seconds
        self.sweep_seconds = sweep_seconds
        self._last_sweep = clock()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.redis.zcard(self.deadlines))

    def now(self) -> float:
        return self._clock()

    def _name(self, sid: str) -> str:
        return self.prefix + hashlib.sha256(sid.encode()).hexdigest()

    # ---- sealing ---------------------------------------------------------------------------

    def _seal(self, s: WebSession, key: bytes, name: str) -> bytes:
        p = s.principal
        body = {
            "csrf": s.csrf,
            "created": s.created,
            "seen": s.seen,
            "lang": s.lang,
            "revealed": sorted(s.revealed),
            "flash": [list(f) for f in s.flash],
            "principal": None
            if p is None
            else {
                "user_id": p.user_id,
                "name": p.name,
                "role": p.role,
                "key_id": p.key_id.hex(),
                "key": _key_bytes(p.private_key),
            },
        }
        nonce = secrets.token_bytes(12)
        plain = json.dumps(body).encode()
        return _VERSION + nonce + AESGCM(key).encrypt(nonce, plain, name.encode())

    @staticmethod
    def _open(blob: bytes, key: bytes, name: str) -> dict[str, Any] | None:
        if len(blob) < 13 or blob[:1] != _VERSION:
            return None
        try:
            plain = AESGCM(key).decrypt(blob[1:13], blob[13:], name.encode())
        except InvalidTag:
            return None
        data: dict[str, Any] = json.loads(plain)
        return data

    def _deadline(self, s: WebSession) -> float:
        return min(s.seen + self.idle_seconds, s.created + self.absolute_seconds)

    def _write(self, s: WebSession, key: bytes, sid: str) -> None:
        name = self._name(sid)
        deadline = self._deadline(s)
        ttl_ms = max(1, int((deadline - self._clock()) * 1000))
        pipe = self.redis.pipeline()
        pipe.set(name, self._seal(s, key, name), px=ttl_ms)
        pipe.zadd(self.deadlines, {name: deadline})
        if s.principal is not None:
            p = s.principal
            pipe.hset(
                self.owners,
                name,
                json.dumps(
                    {"user_id": p.user_id, "name": p.name, "role": p.role, "key_id": p.key_id.hex()}
                ),
            )
        pipe.execute()

    @staticmethod
    def _split(cookie: str | None) -> tuple[str, bytes] | None:
        if not cookie or len(cookie) > 200 or cookie.count(".") != 1:
            return None
        sid, _, raw = cookie.partition(".")
        try:
            key = _unb64(raw)
        except ValueError:
            return None
        return (sid, key) if len(key) == 32 and sid else None

    # ---- the SessionStore interface --------------------------------------------------------

    def new(self, lang: str | None = None, principal: Principal | None = None) -> WebSession:
        self.maybe_sweep()
        now = self._clock()
        sid, key = secrets.token_urlsafe(32), secrets.token_bytes(32)
        s = WebSession(f"{sid}.{_b64(key)}", secrets.token_urlsafe(32), now, now, lang, principal)
        self._write(s, key, sid)
        return s

    def get(self, cookie: str | None, touch: bool = True) -> WebSession | None:
        """As the memory store's `get` (`touch=False`: not counted as activity)."""
        self.maybe_sweep()
        parts = self._split(cookie)
        if parts is None:
            return None
        sid, key = parts
        name = self._name(sid)
        blob = self.redis.get(name)
        data = self._open(bytes(blob), key, name) if blob is not None else None
        if data is None:
            return None
        principal = None
        if data["principal"] is not None:
            p = data["principal"]
            principal = Principal(
                p["user_id"],
                p["name"],
                p["role"],
                bytes.fromhex(p["key_id"]),
                X25519PrivateKey.from_private_bytes(_unb64(p["key"])),
            )
        s = WebSession(
            str(cookie),
            data["csrf"],
            float(data["created"]),
            float(data["seen"]),
            data["lang"],
            principal,
            set(data["revealed"]),
            [(a, b, dict(c)) for a, b, c in data["flash"]],
        )
        now = self._clock()
        if now - s.seen > self.idle_seconds or now - s.created > self.absolute_seconds:
            self._end(name, audit=True)
            s.drop_key()
            return None
        if touch:
            s.seen = now
            self._write(s, key, sid)
        return s

    def save(self, s: WebSession) -> None:
        """Keep what this request changed (language, notices, revealed attachments)."""
        parts = self._split(s.id) if s.stored else None
        if parts is not None and s.principal is not None:
            self._write(s, parts[1], parts[0])

    def rotate(self, old: WebSession) -> WebSession:
        fresh = self.new(old.lang)
        self.drop(old)
        return fresh

    def drop(self, s: WebSession) -> None:
        s.drop_key()
        parts = self._split(s.id)
        if parts is not None:
            self._end(self._name(parts[0]), audit=False)

    def _end(self, name: str, audit: bool) -> Principal | None:
        """Delete one session everywhere; its account (no key) if this call ended it."""
        pipe = self.redis.pipeline()
        pipe.delete(name)
        pipe.zrem(self.deadlines, name)
        pipe.hget(self.owners, name)
        pipe.hdel(self.owners, name)
        _, removed, owner, _ = pipe.execute()
        if not removed or owner is None:
            return None
        o = json.loads(owner)
        principal = Principal(o["user_id"], o["name"], o["role"], bytes.fromhex(o["key_id"]), None)
        if audit and self._on_expire is not None:
            self._on_expire(principal)
        return principal

    def principals(self) -> list[Principal]:
        """Who is logged in now (one entry per session), without their keys."""
        out = []
        for raw in self.redis.hvals(self.owners):
            o = json.loads(raw)
            out.append(
                Principal(o["user_id"], o["name"], o["role"], bytes.fromhex(o["key_id"]), None)
            )
        return out

    def end_sessions_of(self, username: str) -> list[Principal]:
        ended = []
        for name, raw in self.redis.hgetall(self.owners).items():
            if json.loads(raw)["name"] == username:
                principal = self._end(
                    name.decode() if isinstance(name, bytes) else name, audit=False
                )
                if principal is not None:
                    ended.append(principal)
        return ended

    def maybe_sweep(self) -> None:
        if self._clock() - self._last_sweep >= self.sweep_seconds:
            self.sweep()

    def sweep(self) -> int:
        """End (and audit) every session past its deadline; any instance may run it."""
        now = self._clock()
        self._last_sweep = now
        gone = 0
        for name in self.redis.zrangebyscore(self.deadlines, "-inf", now):
            text = name.decode() if isinstance(name, bytes) else name
            if self._end(text, audit=True) is not None:
                gone += 1
        return gone
