"""Engine creation, schema migration and the one place that owns transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core import UnavailableError

__all__ = ["DEFAULT_POOL", "MIGRATIONS", "Database", "DatabaseUnavailable"]

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_POOL = 12


class DatabaseUnavailable(UnavailableError):
    """The database cannot be reached or opened; the message says which and why."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA secure_delete=ON")  # deleted drafts are overwritten, not left in pages
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN so two processes never deadlock upgrading a read lock.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the SQLAlchemy engine; `transaction()` is the only way code gets a session."""

    def __init__(self, url: str, pool_size: int | None = None) -> None:
        """`pool_size`: connections kept open (server databases), for as many threads as
        will use the database at once; more than the pool would open and close a connection
        per transaction. The default covers a bot's worker threads (asyncio's default
        executor: up to 32) and its background jobs."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"isolation_level": None, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
            size = pool_size if pool_size is not None else DEFAULT_POOL
            kwargs["pool_size"] = size
            kwargs["max_overflow"] = size
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._local_writer: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error.

        On SQLite every transaction writes (BEGIN IMMEDIATE) and SQLite lets one writer in at a
        time; threads of this process queue on a lock here instead of in SQLite's busy
        handler, which sleeps in growing steps (up to 100 ms) and made replies slow under
        load. Other processes on the same file still wait in the busy handler."""
        with self._local_writer:
            session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        from alembic import command  # only when migrating: a command that reads starts faster
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
        except OperationalError as exc:
            raise DatabaseUnavailable(_describe(self.url, exc)) from exc

    def is_current(self) -> bool:
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision() == head
        except OperationalError as exc:
            raise DatabaseUnavailable(_describe(self.url, exc)) from exc

    def truncate_wal(self) -> bool:
        """SQLite: checkpoint the WAL into the database file and truncate it to zero bytes
        (until then it holds pages as they were before a deletion, e.g. an erased draft).
        False if another connection kept it busy (the next call retries). PostgreSQL: nothing
        to do here; deleted rows stay in table files and pg_wal until VACUUM FULL (`sanad
        purge --vacuum`) and WAL recycling, sealed under keys that expire."""
        if not self.is_sqlite:
            return True
        with self._local_writer:  # no writer of this process is in the middle of a txn
            raw = self.engine.raw_connection()  # autocommit (no BEGIN): no txn needed
            try:
                cursor = raw.cursor()
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                cursor.close()
            finally:
                raw.close()
        return not busy

    def dispose(self) -> None:
        self.engine.dispose()


def _describe(url: str, exc: OperationalError) -> str:
    safe = url.split("@")[-1] if "@" in url else url
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
    return f"cannot open the database {safe}: {reason}"
