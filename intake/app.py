"""Build the running pieces from settings: the composition root shared by every command."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from logging.handlers import RotatingFileHandler
from typing import TYPE_CHECKING

from intake.home import Home, HomeError
from intake.settings import Settings
from storage import Database, crypto

if TYPE_CHECKING:  # the service, the flows and the NLU load only where one is built
    from sqlalchemy.orm import Session

    from intake.service import IntakeService
    from storage import Case

__all__ = ["build_intake", "open_database", "open_keyring", "setup_logging"]


def setup_logging(settings: Settings, verbose: bool = False) -> None:
    """Operational log in the home. Messages name event kinds and counts, never content."""
    root = logging.getLogger("sanad")
    if root.handlers:
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if settings.logs_dir.parent.exists():
        settings.logs_dir.mkdir(mode=0o700, exist_ok=True)
        handler = RotatingFileHandler(
            settings.logs_dir / "sanad.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)


def open_database(settings: Settings) -> Database:
    return Database(settings.database_url)


def open_keyring(
    settings: Settings, pepper: bytes, clock: Callable[[], float] = time.time
) -> crypto.Keyring:
    """Where draft and inbox keys live (`SANAD_KEYRING_URL`): the epoch folder on this host
    by default; ``redis://`` (or ``rediss://``, ``unix://``) shares them between hosts."""
    url = settings.keyring_url
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise HomeError(
                f"SANAD_KEYRING_URL must be a redis://, rediss:// or unix:// URL, "
                f"not {url.split('://')[0]}://…"
            )
        return crypto.RedisKeyring(
            url, settings.epoch_seconds, crypto.keyring_namespace(pepper), clock
        )
    epoch_dir = settings.epoch_dir or crypto.default_epoch_dir(settings.home)
    try:
        return crypto.DraftKeyring(epoch_dir, settings.epoch_seconds, clock)
    except PermissionError as exc:  # one line, not a traceback (review finding 24)
        raise HomeError(str(exc)) from None


def build_intake(settings: Settings, db: Database | None = None) -> IntakeService:
    from flows import load_flowset
    from intake.service import IntakeService
    from nlu import build_interpreter

    home = Home(settings.home)
    home.require()
    db = db or open_database(settings)
    if not db.is_current():
        db.migrate()
    service = IntakeService(
        settings,
        db,
        load_flowset(),
        build_interpreter(),
        home.pepper(),
        home.admin_public(),
        open_keyring(settings, home.pepper()),
    )
    service.priority_one_hooks.append(_queue_oncall_alert)
    return service


def _queue_oncall_alert(session: Session, case: Case, now: datetime) -> None:
    """On-call alerts: queued in the transaction that makes a priority-1 case (one INSERT)."""
    import alerts

    alerts.enqueue_for_case(session, case, now)
