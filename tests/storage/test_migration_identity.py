"""Migration 0012 (protected identity section) goes down and up again on SQLite and
PostgreSQL: down drops its tables and the identity rows that could no longer be opened, so
the code before it still opens every case."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from storage.db import MIGRATIONS, Database


def _run(db: Database, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
        conn.commit()


def test_0012_downgrades_and_upgrades(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    db = Database(database_url)
    try:
        db.migrate()
        tables = set(inspect(db.engine).get_table_names())
        assert {"identity_keys", "identity_requests"} <= tables
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cases (id, case_ref, status, priority, reasons, received_at, "
                    "updated_at, channel, lang, flow_version, consent, receipt_handle, "
                    "receipt_verifier, incomplete) VALUES ('c1', 'AAA-AAA', 's', 3, '[]', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'console', 'en', 'v', '{}', :h, :v, "
                    "false)"
                ),
                {"h": b"12345", "v": b"v"},
            )
            for fid in ("narrative", "identity:reporter_name"):
                conn.execute(
                    text(
                        "INSERT INTO case_fields (case_id, field_id, seq, sealed) "
                        "VALUES ('c1', :f, 0, :s)"
                    ),
                    {"f": fid, "s": b"x"},
                )
        _run(db, "downgrade", "0012")
        tables = set(inspect(db.engine).get_table_names())
        assert not {"identity_keys", "identity_requests"} & tables
        with db.engine.connect() as conn:
            left = [r[0] for r in conn.execute(text("SELECT field_id FROM case_fields"))]
        assert left == ["narrative"]
        _run(db, "upgrade", "head")
        assert db.is_current()
        assert {"identity_keys", "identity_requests"} <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
