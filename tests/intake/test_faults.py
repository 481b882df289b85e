"""Faults: the database connection dropped mid-submission, a full disk while sealing a file.
After each: every acknowledged answer is there, no report is stored twice, nothing is
half-written, no plaintext was left on disk."""

from __future__ import annotations

import resource
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from caseworker.cases import list_queue
from intake.service import IntakeService
from storage.models import Case, CaseField
from tests.support import Chat, open_report

pytestmark = pytest.mark.chaos

SCRIPT = [
    ("consent_store", "yes"),
    ("consent_followup", "no"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
    ("ongoing", "no"),
    ("incident_date", "last spring"),
    ("place_type", "prison"),
    # the detention questions (issue 18), skipped
    ("arrest_date", "/skip"),
    ("arrest_time", "/skip"),
    ("place_official", "/skip"),
    ("place_name", "/skip"),
    ("safeguards_denied", "/skip"),
    ("interrogated", "/skip"),
    ("incident_location", "Block C, third floor"),
]


def _to_confirm(chat: Chat) -> None:
    chat.run(SCRIPT)
    while chat.question.field != "confirm_submit":
        chat.say("/skip")


def test_connection_killed_mid_submission(
    make_service: Callable[..., IntakeService], postgres_url: str
) -> None:
    service = make_service(postgres_url)
    chat = Chat(service, lang="en")
    _to_confirm(chat)
    fired = {"done": False}

    def kill_self(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO WRAPPED_KEYS") and not fired["done"]:
            fired["done"] = True
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(service.db.engine, "before_cursor_execute", kill_self)
    try:
        with pytest.raises(OperationalError):  # the driver reports the lost connection
            chat.say("yes")
    finally:
        event.remove(service.db.engine, "before_cursor_execute", kill_self)
    assert fired["done"]
    with service.db.transaction() as session:  # nothing half-written
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(CaseField)) == 0
        session.execute(text("select 1"))  # the pool recovers
    back = Chat(service, user=chat.src.user_id)  # every acknowledged answer is still there
    back.answer("resume", "yes")
    back.answer("confirm_submit", "yes")
    queue = list_queue(service.db)
    assert len(queue) == 1
    shown = open_report(service, queue[0].case_ref)
    assert shown["fields"]["incident_location"] == "Block C, third floor"


@contextmanager
def _disk_full_after(limit: int) -> Iterator[None]:
    """Files this process writes may not grow past `limit` bytes (as on a full disk)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_disk_full_while_sealing_a_file(service: IntakeService, tmp_path: Path) -> None:
    chat = Chat(service, lang="en")
    _to_confirm(chat)
    chat.say("no")
    chat.answer("after_review", "edit")
    while chat.question.field != "evidence":
        chat.say("/back")
    video = tmp_path / "video.mp4"
    video.write_bytes(b"SECRET-VIDEO-FRAME " * 200_000)  # 3.8 MB
    with _disk_full_after(1_000_000):
        replies = chat.say(f"/attach {video}")
    assert replies[0].kind == "info" and "try again" in replies[0].text
    assert not list(service.settings.attachments_dir.rglob("*.partial"))
    assert not list(service.settings.attachments_dir.rglob("*.sealed"))
    for path in service.settings.home.rglob("*"):
        if path.is_file():
            assert b"SECRET-VIDEO-FRAME" not in path.read_bytes()
    # The conversation is intact: the same question, and a smaller file goes through.
    back = Chat(service, user=chat.src.user_id)
    back.answer("resume", "yes")
    assert back.question.field == "evidence"
    small = tmp_path / "photo.jpg"
    small.write_bytes(b"jpeg" * 100)
    back.say(f"/attach {small}")
    back.say("done")
    while back.question.field != "confirm_submit":
        back.say("/skip")
    back.say("yes")
    shown = open_report(service, list_queue(service.db)[0].case_ref)
    assert [a["name"] for a in shown["attachments"]] == ["photo.jpg"]
