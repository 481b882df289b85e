"""Two bot hosts, one PostgreSQL, one shared keyring in Redis (`SANAD_KEYRING_URL`).

A second host is a copy of the home's keys and configuration with its own epoch folder
(`../shared/contracts.md`, Several hosts). A conversation may reach either host at any
message, and a host's reboot (its epoch folder wiped) must lose no draft.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from caseworker.cases import list_queue
from intake.service import IntakeService
from storage.models import Draft
from tests.support import Chat, open_report


def _two_hosts(
    make_service: Callable[..., IntakeService], postgres_url: str, redis_url: str, tmp_path: Path
) -> tuple[IntakeService, IntakeService]:
    first = make_service(postgres_url, keyring_url=redis_url, epoch_dir=tmp_path / "epochs-a")
    copy = tmp_path / "home-b"  # keys and configuration, as an operator copies them
    shutil.copytree(first.settings.home, copy)
    second = make_service(
        postgres_url, keyring_url=redis_url, home=copy, epoch_dir=tmp_path / "epochs-b"
    )
    return first, second


class Roaming(Chat):
    """One reporter whose every message reaches the other host (no stickiness)."""

    def __init__(self, hosts: tuple[IntakeService, IntakeService], user: str) -> None:
        self.hosts, self.n = hosts, 0
        super().__init__(hosts[0], user=user, lang="en")

    def say(self, line: str) -> list:  # type: ignore[type-arg]
        self.n += 1
        self.service = self.hosts[self.n % 2]
        return super().say(line)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_conversation_alternating_between_hosts_completes_with_one_case(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    redis_keyring_url: str,
    tmp_path: Path,
) -> None:
    hosts = _two_hosts(make_service, postgres_url, redis_keyring_url, tmp_path)
    chat = Roaming(hosts, "roaming-reporter")
    for line in ["yes", "yes", "no", "no", "no", "no", "complaint", "self"]:
        chat.say(line)
    for _ in range(60):  # a lost draft starts again at "language" and never gets there
        if chat.question.field == "confirm_submit":
            break
        chat.say(
            "They took my brother from the market in Homs"
            if chat.question.field == "narrative"
            else "/skip"
        )
    assert chat.question.field == "confirm_submit"
    chat.say("yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    queue = list_queue(hosts[0].db)
    assert [c.case_ref for c in queue] == [receipt.extra["case_ref"]]  # one case, not two
    shown = open_report(hosts[1], receipt.extra["case_ref"])
    assert "market in Homs" in str(shown["fields"]["narrative"])
    assert shown["fields"]["report_type"] == "complaint"
    # Neither host's epoch folder ever held a key: they live in Redis only.
    for folder in (tmp_path / "epochs-a", tmp_path / "epochs-b"):
        assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


@pytest.mark.postgres
@pytest.mark.redis
def test_a_host_reboot_loses_no_draft(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    redis_keyring_url: str,
    tmp_path: Path,
) -> None:
    first, second = _two_hosts(make_service, postgres_url, redis_keyring_url, tmp_path)
    chat = Chat(first, user="rebooted-host", lang="en")
    for line in ["yes", "yes", "no", "no", "no", "no", "complaint"]:
        chat.say(line)
    asked = chat.question.field
    shutil.rmtree(tmp_path / "epochs-a", ignore_errors=True)  # the host's tmpfs is gone
    rebooted = make_service(
        postgres_url,
        keyring_url=redis_keyring_url,
        home=first.settings.home,
        epoch_dir=tmp_path / "epochs-a",
    )
    chat.service = rebooted
    chat.say("/back")  # the conversation is still there: one step back, not a new start
    assert chat.question.field != "language"
    with rebooted.db.transaction() as session:
        assert len(list(session.scalars(select(Draft)))) == 1
    chat.service = second
    chat.say("self" if asked == "victim_relation" else "/skip")
    assert chat.question.field != "language"


def test_a_missing_key_is_said_and_counted_never_a_silent_delete(
    make_service: Callable[..., IntakeService], tmp_path: Path
) -> None:
    """One host, the default tmpfs keyring, rebooted mid-conversation (its epoch folder is
    gone): the draft is kept, the reporter is told in their language, the event is counted in
    the audit log; it is erased only when the reporter sends /exit. (SQLite: no shared
    keyring is needed to show it.)"""
    from storage import accounts

    service = make_service()
    chat = Chat(service, user="lost-keys", lang="ar")
    for line in ["1", "1", "2", "2", "2", "2"]:
        chat.say(line)
    assert service.settings.epoch_dir is not None
    shutil.rmtree(service.settings.epoch_dir)
    rebooted = make_service()
    chat.service = rebooted
    said = " ".join(r.text for r in chat.say("نعم"))
    assert "لم يُحذف شيء" in said and "/exit" in said
    with rebooted.db.transaction() as session:
        assert len(list(session.scalars(select(Draft)))) == 1  # kept
        misses = [e for e in accounts.audit_log(session) if e.action == "draft_key_missing"]
    assert len(misses) == 1 and misses[0].outcome == "error"
    chat.say("/exit")
    with rebooted.db.transaction() as session:
        assert list(session.scalars(select(Draft))) == []  # erased because they asked
