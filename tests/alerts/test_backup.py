"""A backup keeps the alert history, so a restored register still knows who was told."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

import alerts
from intake.backup import make_backup, restore_backup
from intake.service import IntakeService
from storage import crypto
from storage.alert_models import Alert
from storage.db import Database
from tests.alerts.conftest import Servers, now_of
from tests.support import RECOVERY_PASSPHRASE, Clock


def test_alerts_survive_backup_and_restore(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    pem = (svc.settings.home / "offline" / "recovery.pem").read_bytes()
    private = crypto.import_private_key_encrypted(pem, RECOVERY_PASSPHRASE)
    archive = tmp_path / "sanad.backup"
    counts = make_backup(svc.settings, svc.db, crypto.public_bytes(private), archive)
    assert counts["alerts"] == 4
    target = replace(
        svc.settings,
        home=tmp_path / "restored",
        database_url=f"sqlite:///{tmp_path / 'restored.db'}",
    )
    db = Database(target.database_url)
    try:
        restore_backup(archive, private, target, db)  # type: ignore[arg-type]
        with db.transaction() as session:
            rows = sorted((a.route, a.status) for a in session.scalars(select(Alert)))
        assert rows == [
            ("*", "sent"),
            ("case-hook", "sent"),
            ("duty-signal", "sent"),
            ("duty-telegram", "sent"),
        ]
    finally:
        db.dispose()
