"""Retention jobs that delete for real: expired drafts and abandoned sealed files."""

from __future__ import annotations

import shutil

from sqlalchemy import update

from intake.service import IntakeService
from storage import drafts, inbox
from storage.models import Case, ProcessedEvent


def purge_drafts(service: IntakeService) -> tuple[int, int]:
    """Delete expired drafts, then any attachment folder that belongs to no case or draft."""
    now = int(service.clock())
    with service.db.transaction() as session:
        expired = drafts.purge_expired(session, now)
        # Answers kept for re-sending after a crash live no longer than a draft.
        session.execute(update(ProcessedEvent).where(ProcessedEvent.expires_at <= now)
                        .values(sealed_replies=None, expires_at=None))
        # Updates held for a channel that never came back to them live no longer either.
        inbox.purge_expired(session, now)
        live = drafts.live_case_ids(session)
        folders = [p for p in service.settings.attachments_dir.glob("*") if p.is_dir()]
        orphans = [p for p in folders
                   if p.name not in live and session.get(Case, p.name) is None]
    for folder in orphans:
        shutil.rmtree(folder, ignore_errors=True)
    return len(expired), len(orphans)
