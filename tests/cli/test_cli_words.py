"""Issue 16: `sanad queue` and `sanad show` print words, not codes, in the chosen language
(the dashboard's catalogue, one source), while `--json` keeps the codes contracts.md names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Case
from tests.cli.conftest import sanad

CODES = (
    "allegation_pending_assessment",
    "urgent_words",
    "ongoing_detention",
    "console",
    "received",
)


@pytest.fixture
def one_case(home_env: dict[str, str]) -> str:
    # consent, then every question skipped and submitted: an incomplete console report
    sanad(
        home_env,
        "chat",
        "--jsonl",
        "--user",
        "u",
        "--lang",
        "ar",
        stdin="yes\n" + "/skip\n" * 40 + "yes\n",
    )
    items = json.loads(sanad(home_env, "queue", "--json").stdout)
    assert len(items) == 1
    ref = str(items[0]["case_ref"])
    # the two triage reasons the December walkthrough saw as raw codes (a skipped report
    # has none of its own); the register holds them as the triage rules write them
    db = Database(f"sqlite:///{Path(home_env['SANAD_HOME']) / 'sanad.db'}")
    try:
        with db.transaction() as session:
            case = session.scalars(select(Case).where(Case.case_ref == ref)).one()
            case.reasons = ["urgent_words", "ongoing_detention_or_threat"]
    finally:
        db.dispose()
    return ref


def test_queue_table_in_both_languages_json_unchanged(
    home_env: dict[str, str], one_case: str
) -> None:
    (item,) = json.loads(sanad(home_env, "queue", "--json").stdout)
    # the machine form: the keys of contracts.md, with codes
    assert {"case_ref", "status", "priority", "report_type", "received_at", "reasons"} <= set(item)
    assert item["status"] == "allegation_pending_assessment"
    assert item["reasons"] == ["urgent_words", "ongoing_detention_or_threat"]

    english = sanad(home_env, "queue").stdout
    assert one_case in english
    assert "Allegation, pending assessment" in english
    assert "urgent in their words; ongoing detention or threat" in english
    assert "console" in english and "Why this priority" in english and "1 case" in english
    assert "allegation_pending_assessment" not in english

    arabic = sanad(home_env, "queue", "--lang", "ar").stdout
    assert one_case in arabic
    assert "ادعاء بانتظار التقييم" in arabic
    assert "عاجل بحسب كلماته، احتجاز أو تهديد مستمر" in arabic
    assert "الطرفية" in arabic and "سبب هذه الأولوية" in arabic
    for code in CODES:
        assert code not in arabic, code


def test_show_prints_words_in_both_languages(home_env: dict[str, str], one_case: str) -> None:
    shown = json.loads(sanad(home_env, "show", one_case, "--as", "demo", "--json").stdout)
    assert shown["status"] == "allegation_pending_assessment"  # codes in the machine form

    english = sanad(home_env, "show", one_case, "--as", "demo").stdout
    assert f"Case {one_case}" in english
    assert "Allegation, pending assessment" in english
    assert "urgent in their words; ongoing detention or threat" in english
    assert "Reporter's language: Arabic" in english and "Channel: console" in english
    assert "Report received" in english
    assert "allegation_pending_assessment" not in english

    arabic = sanad(home_env, "show", one_case, "--as", "demo", "--lang", "ar").stdout
    assert f"الحالة {one_case}" in arabic
    assert "ادعاء بانتظار التقييم" in arabic
    assert "عاجل بحسب كلماته، احتجاز أو تهديد مستمر" in arabic
    assert "العربية" in arabic and "الطرفية" in arabic and "استُلم البلاغ" in arabic
    assert "السجل" in arabic and "History" not in arabic
    for code in CODES:
        assert code not in arabic, code
