"""Crypto-design property 1: after full conversations, no answer and no receipt is in the
database file, its WAL/journal, the logs or the attachment folder, in any common encoding."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from intake.app import setup_logging
from intake.service import IntakeService
from tests.support import Chat

from .test_conversations import COMPLAINT_EN, REPRISAL_AR

pytestmark = pytest.mark.privacy


def _encodings(secret: str) -> list[bytes]:
    raw = secret.encode("utf-8")
    forms = [
        raw,
        secret.encode("utf-16-le"),
        secret.encode("utf-16-be"),
        json.dumps(secret).encode("ascii")[1:-1],
        base64.b64encode(raw),
    ]
    return [f for f in forms if len(f) >= 6]


def _scan(root: Path, secrets: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for secret in secrets:
            for form in _encodings(secret):
                if form in data:
                    hits.append(f"{path.name}: {secret[:20]!r}")
    return hits


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "bruises-photo.jpg"
    path.parent.mkdir()
    path.write_bytes(b"UNIQUE-PHOTO-CONTENT-7f3a9 " * 4000)
    return path


def test_nothing_written_reaches_disk_or_logs_in_clear(
    service: IntakeService, photo: Path, tmp_path: Path
) -> None:
    """Crypto property 1 (crypto-design.md)."""
    setup_logging(service.settings, verbose=True)
    receipts = []
    try:
        for user, script in (("en-user", COMPLAINT_EN), ("ar-user", REPRISAL_AR)):
            chat = Chat(service, user=user)
            lines = [(f, line.format(photo=photo)) for f, line in script]
            replies = chat.run(lines)
            receipts.append(next(r for r in replies if r.kind == "receipt").extra["receipt"])
        # A third reporter stops halfway: the live draft must be sealed too.
        chat = Chat(service, user="halfway", lang="en")
        chat.run(
            [
                ("consent_store", "yes"),
                ("consent_followup", "yes"),
                ("consent_share_identity", "no"),
                ("consent_refer", "no"),
                ("consent_stats", "no"),
                ("consent_publish", "no"),
                ("report_type", "complaint"),
                ("reporter_role", "victim"),
                ("reporter_is_child", "no"),
                ("current_danger", "no"),
                ("ongoing", "no"),
                ("incident_date", "last winter near the river"),
                ("place_type", "prison"),
                ("arrest_date", "/skip"),
                ("arrest_time", "/skip"),
                ("place_official", "/skip"),
                ("place_name", "/skip"),
                ("safeguards_denied", "/skip"),
                ("interrogated", "/skip"),
                ("incident_location", "Sednaya wing B, cell 14"),
            ]
        )
    finally:
        for handler in logging.getLogger("sanad").handlers[:]:
            handler.close()
            logging.getLogger("sanad").removeHandler(handler)
    # Option ids (e.g. report_type "complaint") are queue metadata by design; every answer
    # written in the reporter's own words must be absent.
    option_ids = {o for spec in service.flows.fields.values() for o in spec.options}
    answers = [
        line
        for script in (COMPLAINT_EN, REPRISAL_AR)
        for field, line in script
        if field in service.flows.fields
        and len(line) >= 6
        and not line.startswith("/")
        and line not in option_ids
        and service.flows.fields[field].type in ("text", "date")
    ]
    answers += [
        "Sednaya wing B, cell 14",
        "last winter near the river",
        "UNIQUE-PHOTO-CONTENT",
        "bruises-photo.jpg",
        "en-user",
        "ar-user",
        "halfway",
        *receipts,
        *[r.replace("-", "") for r in receipts],
    ]
    # The database and its WAL are still open here, as on a live server.
    home = service.settings.home
    assert (home / "logs" / "sanad.log").stat().st_size > 0
    assert list(home.glob("sanad.db*"))
    assert _scan(home, answers) == []
    assert _scan(service.settings.epoch_dir or home, answers) == []


def test_receipt_pasted_into_a_new_conversation_is_not_kept(service: IntakeService) -> None:
    chat = Chat(service, lang="en")
    chat.run(
        [
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
            ("incident_date", "/skip"),
            ("place_type", "/skip"),
        ]
    )
    code = "ABCD-EFGH-2345-6723-ABCD-EFGH-JKMN-PQRS"
    replies = chat.answer("incident_location", code)
    assert replies[0].kind == "info"
    assert chat.question.field == "incident_location"  # not taken as the answer
    chat.answer("incident_location", "Tripoli")
    assert chat.question.field == "country"
