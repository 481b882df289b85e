"""Backups are encrypted to the organisation recovery key; after a restore (SQLite or
PostgreSQL) the recovery key opens every case and caseworkers work as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from caseworker.cases import list_queue, show_case
from intake.backup import BackupError, make_backup, restore_backup
from intake.home import Home
from intake.service import IntakeService
from storage import accounts, cases, crypto
from storage.db import Database
from tests.storage.test_store_and_queue import quick_report
from tests.support import PASSPHRASE, RECOVERY_PASSPHRASE


def _recovery(service: IntakeService) -> tuple[object, bytes]:
    pem = (service.settings.home / "offline" / "recovery.pem").read_bytes()
    private = crypto.import_private_key_encrypted(pem, RECOVERY_PASSPHRASE)
    return private, crypto.public_bytes(private)  # type: ignore[arg-type]


def test_backup_and_restore(make_service: Callable[..., IntakeService], database_url: str,
                            tmp_path: Path) -> None:
    source = make_service()
    refs = [quick_report(source, f"u{i}", narrative=f"Narrative number {i} of the backup")
            for i in range(3)]
    private, public = _recovery(source)
    archive = tmp_path / "sanad.backup"
    counts = make_backup(source.settings, source.db, public, archive)
    assert counts["cases"] == 3
    data = archive.read_bytes()
    assert b"Narrative number" not in data and b"case_fields" not in data
    target = replace(source.settings, home=tmp_path / "restored", database_url=database_url)
    if database_url.startswith("sqlite"):
        target = replace(target, database_url=f"sqlite:///{tmp_path / 'restored.db'}")
    db = Database(target.database_url)
    try:
        restored = restore_backup(archive, private, target, db)
        assert restored["cases"] == 3
        assert [i.case_ref for i in list_queue(db)] == [i.case_ref for i in
                                                        list_queue(source.db)]
        with db.transaction() as session:  # the recovery key opens every case
            for ref in refs:
                case = cases.by_ref(session, ref)
                assert case is not None
                opened = cases.open_case(session, case, private, crypto.key_id(public))
                assert opened.fields["narrative"].startswith("Narrative number")
        shown = show_case(db, refs[0], "demo", PASSPHRASE)  # caseworkers too
        assert shown["fields"]["narrative"] == "Narrative number 0 of the backup"
        assert Home(target.home).is_initialised()
        with db.transaction() as session:  # and new reports can be sealed again
            accounts.current_recipients(session, Home(target.home).admin_public())
    finally:
        db.dispose()


def test_a_tampered_backup_or_wrong_key_is_refused(service: IntakeService,
                                                   tmp_path: Path) -> None:
    quick_report(service, "u")
    private, public = _recovery(service)
    archive = tmp_path / "b"
    make_backup(service.settings, service.db, public, archive)
    target = replace(service.settings, home=tmp_path / "r",
                     database_url=f"sqlite:///{tmp_path / 'r.db'}")
    other, _ = crypto.generate_keypair()
    db = Database(target.database_url)
    try:
        with pytest.raises(BackupError, match="recovery key"):
            restore_backup(archive, other, target, db)
        data = bytearray(archive.read_bytes())
        data[-100] ^= 1
        archive.write_bytes(bytes(data))
        with pytest.raises(crypto.CryptoError):
            restore_backup(archive, private, target, db)
    finally:
        db.dispose()
