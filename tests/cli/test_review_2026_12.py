"""The December 2026 security review's console findings (../shared/reviews/security-2026-12.md),
driven through the real `sanad` command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from tests.cli.conftest import TIMEOUT, sanad


def test_invalid_utf8_on_stdin_does_not_crash_the_console(home_env: dict[str, str]) -> None:
    """Finding 22: `printf 'yes\\n…Aleppo \\xff…' | sanad chat --jsonl` ended with a
    UnicodeDecodeError and dropped the valid lines in the same read buffer."""
    stdin = b"yes\nAleppo \xff\xfe street\nyes\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "chat",
            "--jsonl",
            "--user",
            "finding-22",
            "--lang",
            "en",
        ],
        env=home_env,
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in proc.stderr and b"UnicodeDecodeError" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    fields = [m["field"] for m in lines if m["kind"] != "info"]
    # consent_store answered, the broken line re-asks consent_followup, and the valid line
    # after it in the same buffer answers it: the conversation moved on.
    assert fields[-1] not in ("consent_store", "consent_followup"), fields


def _db_of(env: dict[str, str]) -> Any:
    from storage.db import Database

    return Database(f"sqlite:///{Path(env['SANAD_HOME']) / 'sanad.db'}")


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (WAL included)."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _rechain(db: Any) -> None:
    """What an attacker with the database does after editing: recompute every hash."""
    from storage import audit_chain
    from storage.models import AuditEntry

    with db.transaction() as session:
        prev = audit_chain.GENESIS
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            entry.prev_hash = prev
            entry.entry_hash = audit_chain.entry_hash(prev, audit_chain._as_row(entry))
            prev = entry.entry_hash


def test_audit_checkpoint_detects_truncation_and_rechained_rewrites(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    """Finding 8: deleting the newest audit entries, or rewriting one and re-chaining,
    still verified as "intact". A signed checkpoint kept elsewhere now catches both."""
    from storage import accounts
    from storage.models import AuditEntry

    env = dict(home_env)
    db = _db_of(env)
    try:
        with db.transaction() as session:
            for i in range(12):
                accounts.audit(
                    session, "demo", "case.read", f"AAA-{i:03d}", "granted", datetime.now(UTC)
                )
        sanad(env, "backup", str(tmp_path / "first.backup"))  # certifies the signing key
        point = tmp_path / "checkpoint.json"
        sanad(env, "audit", "checkpoint", "--out", str(point))
        assert sanad(env, "audit", "verify", "--checkpoint", str(point)).returncode == 0
        live = Path(env["SANAD_HOME"]) / "sanad.db"
        pristine = tmp_path / "pristine.db"
        _copy(live, pristine)

        with db.transaction() as session:  # the 5 newest entries go
            newest = list(
                session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(5))
            )
            session.execute(delete(AuditEntry).where(AuditEntry.id.in_(newest)))
        assert sanad(env, "audit", "verify").returncode == 0  # the chain alone: "intact"
        cut = sanad(env, "audit", "verify", "--checkpoint", str(point), check=False)
        assert cut.returncode == 1 and "cut back" in cut.stderr

        db.dispose()
        _copy(pristine, live)
        with db.transaction() as session:  # entry 1 rewritten to blame someone else
            first = session.scalar(select(AuditEntry).order_by(AuditEntry.id).limit(1))
            assert first is not None
            first.actor = "sup1"
        _rechain(db)
        assert sanad(env, "audit", "verify").returncode == 0
        rewritten = sanad(env, "audit", "verify", "--checkpoint", str(point), check=False)
        assert rewritten.returncode == 1 and "rewritten" in rewritten.stderr

        forged = json.loads(point.read_text())  # and the checkpoint itself cannot be redone
        forged["entries"] = 3
        point.write_text(json.dumps(forged))
        refused = sanad(env, "audit", "verify", "--checkpoint", str(point), check=False)
        assert refused.returncode != 0 and "not valid" in refused.stderr
    finally:
        db.dispose()


def test_show_reports_tampering_as_tampering(home_env: dict[str, str]) -> None:
    """Findings 20 and 25 through `sanad show`: a deleted answer is listed under
    "integrity" with a warning in both languages; a flipped bit says "tampered with" (exit
    2), no longer "has no access"."""
    from storage.models import Case, CaseField

    sanad(
        home_env,
        "chat",
        "--jsonl",
        "--user",
        "u",
        "--lang",
        "en",
        stdin="yes\n" + "/skip\n" * 40 + "yes\n",
    )
    ref = json.loads(sanad(home_env, "queue", "--json").stdout)[0]["case_ref"]
    db = _db_of(home_env)
    try:
        with db.transaction() as session:
            case_id = session.scalar(select(Case.id).where(Case.case_ref == ref))
            rows = list(
                session.scalars(
                    select(CaseField).where(CaseField.case_id == case_id, CaseField.seq == 0)
                )
            )
            victim = next(r for r in rows if not r.field_id.startswith("_"))
            session.delete(victim)
        shown = sanad(home_env, "show", ref, "--as", "demo", "--json")
        assert json.loads(shown.stdout)["integrity"] == [f"missing:{victim.field_id}"]
        assert "tampered with" in shown.stderr and "عُبِث بالقضية" in shown.stderr
        with db.transaction() as session:
            row = session.scalar(
                select(CaseField).where(CaseField.case_id == case_id, CaseField.seq == 0).limit(1)
            )
            assert row is not None
            row.sealed = bytes(row.sealed[:-1]) + bytes([row.sealed[-1] ^ 1])
        flipped = sanad(home_env, "show", ref, "--as", "demo", "--json", check=False)
        assert flipped.returncode == 2
        assert "tampered with" in flipped.stderr and "no access" not in flipped.stderr
    finally:
        db.dispose()
