"""Migration 0014 (outbox lease, heartbeats, health alerts) goes down and up again on SQLite
and PostgreSQL; a message leased when it goes down is simply pending for the older code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from storage.db import Database
from tests.storage.test_migration_identity import _run


def test_0014_downgrades_and_upgrades(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    db = Database(database_url)
    try:
        db.migrate()
        tables = set(inspect(db.engine).get_table_names())
        assert {"worker_heartbeats", "health_alerts"} <= tables
        assert "lease_until" in {c["name"] for c in inspect(db.engine).get_columns("outbox")}
        _run(db, "downgrade", "0013")
        assert not {"worker_heartbeats", "health_alerts"} & set(
            inspect(db.engine).get_table_names()
        )
        assert "lease_until" not in {c["name"] for c in inspect(db.engine).get_columns("outbox")}
        _run(db, "upgrade", "head")
        assert db.is_current()
    finally:
        db.dispose()
