"""One chat at a time across workers: a lock per chat tag (webhook mode).

On PostgreSQL a session-level advisory lock, taken with `pg_try_advisory_lock` in short steps
(no thread blocks on the server while it waits) on a connection of the lock's own small pool,
held while the chat's updates are answered and released after. If the worker dies, PostgreSQL
ends its connection and so frees the lock. On SQLite (one process) an in-process lock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

__all__ = ["ChatLocks"]

# A namespace for Sanad's advisory locks: the first 32 bits of the 64-bit key.
_SPACE = int.from_bytes(hashlib.sha256(b"sanad/v1/chat-lock").digest()[:4], "big")


def lock_key(tag: str) -> int:
    """A signed 64-bit advisory-lock key for this chat tag."""
    low = int.from_bytes(hashlib.sha256(tag.encode()).digest()[:4], "big")
    value = (_SPACE << 32) | low
    return value - (1 << 64) if value >= 1 << 63 else value


class ChatLocks:
    def __init__(self, url: str, is_sqlite: bool, size: int = 8, step: float = 0.02) -> None:
        self.step = step
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._engine: Engine | None = None
        if not is_sqlite:
            self._engine = create_engine(url, pool_size=size, max_overflow=size, pool_pre_ping=True)

    @asynccontextmanager
    async def hold(self, tag: str) -> AsyncIterator[None]:
        """Hold the chat's lock: first against the other tasks of this process, then (on
        PostgreSQL) against the other workers."""
        lock, users = self._local.get(tag) or (asyncio.Lock(), 0)
        self._local[tag] = (lock, users + 1)
        try:
            async with lock:
                if self._engine is None:
                    yield
                    return
                key = lock_key(tag)
                conn = await asyncio.to_thread(self._engine.connect)
                try:
                    while not await asyncio.to_thread(self._try, conn, key):
                        await asyncio.sleep(self.step)
                except BaseException:
                    await asyncio.to_thread(conn.close)
                    raise
                try:
                    yield
                finally:
                    await asyncio.to_thread(self._release, conn, key)
        finally:
            lock, users = self._local[tag]
            if users <= 1:
                del self._local[tag]
            else:
                self._local[tag] = (lock, users - 1)

    @staticmethod
    def _try(conn: Any, key: int) -> bool:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        return got

    @staticmethod
    def _release(conn: Any, key: int) -> None:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
        finally:
            conn.close()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
