"""The README's promise, through the real command: report in the console, then list and open
the report as the demo caseworker; kill the process mid-conversation and lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.intake.test_conversations import (
    COMPLAINT_EN,
    COMPLAINT_EN_EXPECTED,
    REPRISAL_AR,
    REPRISAL_AR_EXPECTED,
)

from .conftest import ConsoleProcess, home_of, sanad

pytestmark = pytest.mark.slow


def _converse(
    env: dict[str, str], user: str, script: list[tuple[str, str]], photo: Path
) -> dict[str, object]:
    console = ConsoleProcess(env, user)
    msg = console.next_question()
    for field, line in script:
        msg = console.answer(field, line.format(photo=photo), msg)
    assert msg["kind"] == "receipt"
    assert console.close() == 0
    return msg


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "scan-of-wounds.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"pixels of a painful photo " * 3000)
    return path


def test_report_then_queue_then_show(home_env: dict[str, str], photo: Path) -> None:
    receipt = _converse(home_env, "amal", COMPLAINT_EN, photo)
    queue = json.loads(sanad(home_env, "queue", "--json").stdout)
    assert len(queue) == 1
    item = queue[0]
    assert item["case_ref"] == receipt["case_ref"]
    assert item["status"] == "allegation_pending_assessment"
    assert item["priority"] == 2 and "ongoing_detention_or_threat" in item["reasons"]
    assert item["report_type"] == "complaint" and item["received_at"]
    shown = json.loads(
        sanad(home_env, "show", str(receipt["case_ref"]), "--as", "demo", "--json").stdout
    )
    fields = shown["fields"]
    for key, value in COMPLAINT_EN_EXPECTED.items():
        assert fields[key] == value, key
    assert fields["incident_date"]["iso"] == "2024-03-15"
    assert shown["attachments"][0]["name"] == "scan-of-wounds.png"
    assert shown["attachments"][0]["size"] == photo.stat().st_size
    # Medical and legal help were asked for: the directory's matches were offered, recorded.
    assert [h["kind"] for h in shown["history"]] == ["received", "support_offered"]
    # People get readable tables too.
    table = sanad(home_env, "queue").stdout
    assert str(receipt["case_ref"]) in table and "ongoing detention or threat" in table  # words
    readable = sanad(home_env, "show", str(receipt["case_ref"]), "--as", "demo").stdout
    assert "Central station, Al-Hamra district" in readable


def test_arabic_reprisal_through_the_console(home_env: dict[str, str], photo: Path) -> None:
    receipt = _converse(home_env, "rami", REPRISAL_AR, photo)
    assert receipt["lang"] == "ar"
    shown = json.loads(
        sanad(home_env, "show", str(receipt["case_ref"]), "--as", "demo", "--json").stdout
    )
    for key, value in REPRISAL_AR_EXPECTED.items():
        assert shown["fields"][key] == value, key


def test_show_refuses_clearly_with_exit_code_2(home_env: dict[str, str], photo: Path) -> None:
    receipt = _converse(home_env, "amal", COMPLAINT_EN, photo)
    wrong = dict(home_env, SANAD_PASSPHRASE="not the passphrase")
    proc = sanad(wrong, "show", str(receipt["case_ref"]), "--as", "demo", "--json", check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "passphrase" in proc.stderr
    proc = sanad(home_env, "show", "AAA-AAA", "--as", "demo", "--json", check=False)
    assert proc.returncode == 2 and "AAA-AAA" in proc.stderr
    proc = sanad(home_env, "show", str(receipt["case_ref"]), "--as", "nobody", check=False)
    assert proc.returncode == 2 and "nobody" in proc.stderr


def test_init_twice_changes_nothing_and_says_so(home_env: dict[str, str]) -> None:
    home = home_of(home_env)
    before = {p: p.read_bytes() for p in (home / "keys").iterdir()}
    proc = sanad(home_env, "init", "--demo")
    assert "already" in proc.stdout
    assert {p: p.read_bytes() for p in (home / "keys").iterdir()} == before


def test_commands_without_a_home_say_what_to_do(cli_env: dict[str, str]) -> None:
    proc = sanad(cli_env, "queue", "--json", check=False)
    assert proc.returncode == 2 and "sanad init --demo" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_killed_mid_conversation_loses_no_confirmed_answer(
    home_env: dict[str, str], photo: Path
) -> None:
    script = [(f, line.format(photo=photo)) for f, line in COMPLAINT_EN]
    # Answer the first twelve questions, killing the process after every fourth reply.
    done = 0
    while done < 12:
        console = ConsoleProcess(home_env, "amal")
        msg = console.next_question()
        if msg["field"] == "resume":
            msg = console.answer("resume", "yes", msg)
        for field, line in script[done : done + 4]:
            msg = console.answer(field, line, msg)
        done += 4
        console.kill()  # SIGKILL: no chance to clean up
    console = ConsoleProcess(home_env, "amal")
    msg = console.answer("resume", "yes", console.next_question())
    assert msg["field"] == script[12][0]
    for field, line in script[12:]:
        msg = console.answer(field, line, msg)
    assert msg["kind"] == "receipt"
    console.kill()  # killed right after the receipt: the report must still be there once
    queue = json.loads(sanad(home_env, "queue", "--json").stdout)
    assert [q["case_ref"] for q in queue] == [msg["case_ref"]]
    shown = json.loads(
        sanad(home_env, "show", str(msg["case_ref"]), "--as", "demo", "--json").stdout
    )
    for key, value in COMPLAINT_EN_EXPECTED.items():
        assert shown["fields"][key] == value, key
    # Coming back after the submission starts a new conversation, not a second report.
    again = ConsoleProcess(home_env, "amal")
    assert again.next_question()["field"] == "language"
    again.close()
    assert len(json.loads(sanad(home_env, "queue", "--json").stdout)) == 1


def test_end_of_input_keeps_the_draft_for_later(home_env: dict[str, str]) -> None:
    proc = sanad(home_env, "chat", "--jsonl", "--user", "x", "--lang", "en", stdin="yes\n")
    assert proc.returncode == 0
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[-1]["field"] == "consent_followup"
    proc = sanad(home_env, "chat", "--jsonl", "--user", "x", stdin="yes\n")
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["field"] == "resume" and lines[-1]["field"] == "consent_followup"
