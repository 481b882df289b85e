"""The channel inbox on SQLite and PostgreSQL: updates held sealed between receiving and
answering them, handed back after a crash, dropped once answered or expired."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from intake.service import IntakeService
from tests.support import Clock

UPDATE = (
    b'{"update_id":41,"message":{"text":"They took my brother Zaytoun","chat":{"id":700555111}}}'
)


@pytest.fixture
def svc(make_service: Callable[..., IntakeService], database_url: str) -> IntakeService:
    return make_service(database_url)


def test_held_updates_come_back_until_done(svc: IntakeService) -> None:
    assert svc.inbox_put("telegram", [("41", UPDATE), ("42", b"{}")]) == 2
    assert svc.inbox_put("telegram", [("41", UPDATE)]) == 0  # already held: kept once
    assert svc.inbox_pending("signal") == []  # per channel
    assert svc.inbox_pending("telegram") == [("41", UPDATE), ("42", b"{}")]
    svc.inbox_done("telegram", ["41"])
    assert svc.inbox_pending("telegram") == [("42", b"{}")]
    svc.inbox_done("telegram", ["42", "43"])  # unknown ids are fine
    assert svc.inbox_pending("telegram") == []


def test_an_expired_update_is_dropped_not_replayed(svc: IntakeService, clock: Clock) -> None:
    svc.inbox_put("telegram", [("41", UPDATE)])
    clock.advance(svc.settings.epoch_seconds + 1)
    assert svc.inbox_pending("telegram") == []
    clock.advance(-svc.settings.epoch_seconds - 1)
    assert svc.inbox_pending("telegram") == []  # deleted, not only skipped


@pytest.mark.privacy
def test_held_updates_are_sealed_on_disk(
    make_service: Callable[..., IntakeService], tmp_path: Path
) -> None:
    svc = make_service()
    svc.inbox_put("telegram", [("41", UPDATE)])
    files = [p for p in (tmp_path / "home").glob("sanad.db*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"Zaytoun" not in data and b"700555111" not in data
    assert svc.inbox_pending("telegram") == [("41", UPDATE)]


def test_purge_deletes_expired_held_updates(svc: IntakeService, clock: Clock) -> None:
    from intake.retention import purge_drafts
    from storage.models import InboxUpdate

    svc.inbox_put("telegram", [("41", UPDATE)])
    purge_drafts(svc)
    with svc.db.transaction() as session:
        assert session.query(InboxUpdate).count() == 1  # still live
    clock.advance(svc.settings.epoch_seconds + 1)
    purge_drafts(svc)
    with svc.db.transaction() as session:
        assert session.query(InboxUpdate).count() == 0


def test_an_update_whose_key_is_lost_is_kept_and_counted_not_deleted(
    make_service: Callable[..., IntakeService], database_url: str
) -> None:
    """A host reboot takes the tmpfs keyring with it: the update was already confirmed to
    Telegram, so deleting it would lose the reporter's words without a trace. It is kept
    until it expires, and the loss of the key is counted in the audit log."""
    import shutil

    from storage import accounts

    svc = make_service(database_url)
    svc.inbox_put("telegram", [("41", UPDATE)])
    assert svc.settings.epoch_dir is not None
    shutil.rmtree(svc.settings.epoch_dir)
    rebooted = make_service(database_url)
    assert rebooted.inbox_pending("telegram") == []
    assert rebooted.inbox_pending("telegram") == []
    with rebooted.db.transaction() as session:
        from sqlalchemy import func, select

        from storage.models import InboxUpdate

        assert session.scalar(select(func.count()).select_from(InboxUpdate)) == 1
        misses = [e for e in accounts.audit_log(session) if e.action == "inbox_key_missing"]
    assert len(misses) == 2
