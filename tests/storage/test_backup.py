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
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE, RECOVERY_PASSPHRASE


def _recovery(service: IntakeService) -> tuple[object, bytes]:
    pem = (service.settings.home / "offline" / "recovery.pem").read_bytes()
    private = crypto.import_private_key_encrypted(pem, RECOVERY_PASSPHRASE)
    return private, crypto.public_bytes(private)  # type: ignore[arg-type]


def test_backup_and_restore(
    make_service: Callable[..., IntakeService], database_url: str, tmp_path: Path
) -> None:
    source = make_service()
    refs = [
        quick_report(source, f"u{i}", narrative=f"Narrative number {i} of the backup")
        for i in range(3)
    ]
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
        assert [i.case_ref for i in list_queue(db)] == [i.case_ref for i in list_queue(source.db)]
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


def test_a_tampered_backup_or_wrong_key_is_refused(service: IntakeService, tmp_path: Path) -> None:
    quick_report(service, "u")
    private, public = _recovery(service)
    archive = tmp_path / "b"
    make_backup(service.settings, service.db, public, archive)
    target = replace(
        service.settings, home=tmp_path / "r", database_url=f"sqlite:///{tmp_path / 'r.db'}"
    )
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


def _admin(service: IntakeService) -> object:
    from caseworker.users import load_admin_key

    pem = (service.settings.home / "offline" / "admin-signing.pem").read_bytes()
    return load_admin_key(pem, ADMIN_PASSPHRASE)


def test_forged_backups_are_refused(
    make_service: Callable[..., IntakeService], tmp_path: Path
) -> None:
    """Review finding 7: with only the recovery *public* key, an attacker built a backup
    holding their own pinned administrator key, and restore installed it. Now a backup must
    be signed by a key the administrator named at restore certified, and pin that key."""
    from intake.backup import backup_signer

    victim = make_service()
    quick_report(victim, "u")
    private, public = _recovery(victim)
    real_admin = Home(victim.settings.home).admin_public()
    legit = tmp_path / "legit.backup"
    make_backup(
        victim.settings,
        victim.db,
        public,
        legit,
        backup_signer(victim.settings.home / "keys", _admin(victim)),
    )

    # The forger's own home: their admin key, their caseworker; the victim's recovery key.
    forger_settings = replace(
        victim.settings,
        home=tmp_path / "forger",
        database_url=f"sqlite:///{tmp_path / 'forger.db'}",
    )
    forger = make_service(database_url=forger_settings.database_url, home=forger_settings.home)
    unsigned = tmp_path / "unsigned.backup"
    make_backup(forger.settings, forger.db, public, unsigned)
    self_signed = tmp_path / "self-signed.backup"
    make_backup(
        forger.settings,
        forger.db,
        public,
        self_signed,
        backup_signer(forger.settings.home / "keys", _admin(forger)),
    )

    for n, (archive, problem) in enumerate(
        ((unsigned, "not signed"), (self_signed, "not signed by a key of that"))
    ):
        target = replace(
            victim.settings,
            home=tmp_path / f"r{n}",
            database_url=f"sqlite:///{tmp_path / f'r{n}.db'}",
        )
        db = Database(target.database_url)
        try:
            with pytest.raises(BackupError, match=problem):
                restore_backup(archive, private, target, db, real_admin)
            assert not (target.home / "keys" / "admin-signing.pub").exists()
        finally:
            db.dispose()

    # A byte changed anywhere in a signed backup, or the signature cut off: refused.
    for n, mutate in enumerate(
        (lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:], lambda b: b[:-72])
    ):
        bad = tmp_path / f"bad{n}.backup"
        bad.write_bytes(mutate(legit.read_bytes()))
        target = replace(
            victim.settings,
            home=tmp_path / f"b{n}",
            database_url=f"sqlite:///{tmp_path / f'b{n}.db'}",
        )
        db = Database(target.database_url)
        try:
            with pytest.raises(BackupError):
                restore_backup(bad, private, target, db, real_admin)
        finally:
            db.dispose()

    target = replace(
        victim.settings, home=tmp_path / "ok", database_url=f"sqlite:///{tmp_path / 'ok.db'}"
    )
    db = Database(target.database_url)
    try:  # the real one restores, and pins the administrator key that was named
        assert restore_backup(legit, private, target, db, real_admin)["cases"] == 1
        assert Home(target.home).admin_public() == real_admin
    finally:
        db.dispose()
