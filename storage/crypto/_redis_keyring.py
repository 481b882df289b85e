"""Draft and inbox keys shared by several hosts, in Redis memory (``SANAD_KEYRING_URL``).

The same keys as `DraftKeyring` keeps in its tmpfs folder (an epoch key per epoch, an item key
per draft or inbox row), for deployments where a conversation may reach any of several bot
hosts, and where a host's reboot must lose nothing. Every key is set with an expiry (two
epochs after it was last used), so Redis drops what a tmpfs keyring would drop; epoch keys are
made with ``SET NX`` so that hosts racing at an epoch's start agree on one. Keys never reach
the database; run Redis without persistence (no RDB snapshots, no AOF) so they never reach a
disk either: `persistence()` says whether the server keeps any, and `sanad config check`
flags it.

Key names: ``sanad:<namespace>:epoch:<n>`` and ``sanad:<namespace>:item:<sha-256 of the
item's name>``. The namespace comes from the home's pepper, so hosts of one deployment
share keys and two deployments on one Redis never do.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import CryptoError

__all__ = ["KeyringUnavailable", "RedisKeyring", "keyring_namespace"]


class KeyringUnavailable(CryptoError):
    """The shared keyring did not answer (one line, no traceback, no key material)."""


class RedisKeyring:
    """`DraftKeyring`'s interface over Redis; retention by epoch as there."""

    path = None  # no file

    def __init__(
        self,
        url: str,
        epoch_seconds: int,
        namespace: str,
        clock: Callable[[], float] = time.time,
        client: Any = None,
    ) -> None:
        if isinstance(epoch_seconds, bool) or not isinstance(epoch_seconds, int):
            raise TypeError("epoch_seconds must be int")
        if epoch_seconds <= 0:
            raise ValueError("epoch_seconds must be positive")
        # The official client, imported only when a Redis keyring is chosen (~0.2 s).
        import redis
        from redis.exceptions import RedisError

        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError)
        self._redis = client
        self._url = url.split("@")[-1]  # never a password in a repr or an error
        self._epoch_seconds = epoch_seconds
        self._clock = clock
        self._prefix = f"sanad:{namespace}:"
        self._epochs: dict[int, bytes] = {}  # epoch keys never change once made: cached
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisKeyring({self._url}, epoch_seconds={self._epoch_seconds})"

    # ---- epochs -------------------------------------------------------------------------

    def current(self) -> int:
        return int(self._clock() // self._epoch_seconds)

    def rotate(self) -> tuple[int, ...]:
        """Retention is Redis's expiry; this forgets cached keys older than the previous epoch
        and returns the epochs held."""
        now = self.current()
        self._sealing_key()
        with self._lock:
            self._epochs = {e: k for e, k in self._epochs.items() if now - 1 <= e <= now}
        held = [e for e in (now - 1, now) if self._key_for(e) is not None]
        return tuple(held)

    def epochs(self) -> tuple[int, ...]:
        return self.rotate()

    def _ttl(self, epoch: int) -> int:
        """Seconds until the end of the epoch after this one (at least one)."""
        return max(1, int((epoch + 2) * self._epoch_seconds - self._clock()))

    def _sealing_key(self) -> tuple[int, bytes]:
        epoch = self.current()
        with self._lock:
            cached = self._epochs.get(epoch)
        if cached is not None:
            return epoch, cached
        name = f"{self._prefix}epoch:{epoch}"
        fresh = AESGCM.generate_key(bit_length=256)
        try:
            self._redis.set(name, fresh, nx=True, ex=self._ttl(epoch))
            key = self._redis.get(name)  # ours, or the one another host made first
        except Exception as exc:
            raise KeyringUnavailable(
                f"the keyring at {self._url} did not answer: {type(exc).__name__}"
            ) from None
        if not isinstance(key, bytes) or len(key) != 32:
            raise KeyringUnavailable(f"the keyring at {self._url} lost the current epoch key")
        with self._lock:
            self._epochs[epoch] = key
        return epoch, key

    def _key_for(self, epoch: int) -> bytes | None:
        now = self.current()
        if not now - 1 <= epoch <= now:
            return None  # retention, as in the tmpfs keyring, whatever Redis still holds
        with self._lock:
            cached = self._epochs.get(epoch)
        if cached is not None:
            return cached
        key = self._get(f"{self._prefix}epoch:{epoch}")
        if key is not None:
            with self._lock:
                self._epochs[epoch] = key
        return key

    # ---- item keys ----------------------------------------------------------------------

    def _item(self, name: str) -> str:
        return self._prefix + "item:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]

    def item_key(self, name: str, create: bool = False) -> bytes | None:
        """As `DraftKeyring.item_key`. The value is the key and the epoch it was last used
        in, so retention follows the keyring's clock exactly as in the tmpfs folder; Redis's
        own expiry (two epochs after the last use) is the backstop."""
        redis_name = self._item(name)
        now = self.current()
        ttl = self._ttl(now)
        try:
            raw = self._redis.get(redis_name)
            held = _item_value(raw, now)
            if not create:
                return held
            if held is not None:
                if _STAMP.unpack(raw[32:])[0] < now:  # used now: kept two more epochs
                    self._redis.set(redis_name, held + _STAMP.pack(now), xx=True, ex=ttl)
                return held
            fresh = AESGCM.generate_key(bit_length=256)
            if raw is None:  # another host may be making it at the same moment: one wins
                self._redis.set(redis_name, fresh + _STAMP.pack(now), nx=True, ex=ttl)
                made = _item_value(self._redis.get(redis_name), now)
            else:  # stale (its epoch key is gone, nothing it sealed opens): a new one
                self._redis.set(redis_name, fresh + _STAMP.pack(now), ex=ttl)
                made = fresh
        except self._errors as exc:
            raise KeyringUnavailable(
                f"the keyring at {self._url} did not answer: {type(exc).__name__}"
            ) from None
        if made is None:
            raise KeyringUnavailable(f"the keyring at {self._url} lost an item key")
        return made

    def forget(self, names: Iterable[str]) -> int:
        keys = [self._item(n) for n in names]
        if not keys:
            return 0
        try:
            return int(self._redis.delete(*keys))
        except Exception as exc:
            raise KeyringUnavailable(
                f"the keyring at {self._url} did not answer: {type(exc).__name__}"
            ) from None

    def _get(self, name: str) -> bytes | None:
        try:
            value = self._redis.get(name)
        except Exception as exc:
            raise KeyringUnavailable(
                f"the keyring at {self._url} did not answer: {type(exc).__name__}"
            ) from None
        return value if isinstance(value, bytes) and len(value) == 32 else None

    # ---- the server ---------------------------------------------------------------------

    def persistence(self) -> list[str]:
        """What the Redis server would write to disk (empty: keys stay in memory only)."""
        out = []
        try:
            save = self._redis.config_get("save").get("save", "")
            aof = self._redis.config_get("appendonly").get("appendonly", "no")
        except Exception:
            return ["the server does not say whether it persists (CONFIG is disabled)"]
        if save:
            out.append(f"RDB snapshots are on (save {save!r})")
        if str(aof).lower() == "yes":
            out.append("the append-only file is on (appendonly yes)")
        return out


_STAMP = struct.Struct(">Q")


def _item_value(raw: object, now: int) -> bytes | None:
    """The key of a stored item value, or None when missing, malformed or stale."""
    if not isinstance(raw, bytes) or len(raw) != 32 + _STAMP.size:
        return None
    (used,) = _STAMP.unpack(raw[32:])
    return raw[:32] if used >= now - 1 else None


def keyring_namespace(pepper: bytes) -> str:
    """A deployment's name in a shared keyring: from its pepper (copied to every host), so
    hosts of one deployment meet and two deployments never do. Reveals nothing of it."""
    return hashlib.sha256(b"sanad/v1/keyring-namespace|" + pepper).hexdigest()[:16]
