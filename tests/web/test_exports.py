"""Exports for partner systems (issue 17 item 5): only consented cases, identity only with
consent to share it, a flipped plaintext consent flag refused as tampering, audit per case,
cases this reader cannot open skipped and counted, and the CLI's private file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.models import AuditEntry, Case
from tests.cli.conftest import sanad
from tests.web.conftest import CONSENT_ALL, OTHER_PASSPHRASE, Site, login, post

REFER_ONLY = {**CONSENT_ALL, "consent_share_identity": "no", "consent_publish": "no"}
NOTHING = {
    **CONSENT_ALL,
    "consent_refer": "no",
    "consent_publish": "no",
    "consent_share_identity": "no",
}


def _complaint(**extra: Any) -> dict[str, Any]:
    return {
        "report_type": "complaint",
        "narrative": "They beat me in the cell.",
        "country": "SY",
        "place_type": "prison",
        "violation_types": ["beating", "threats"],
        "perpetrator_type": ["police"],
        "victim_gender": "woman",
        "incident_date": {"raw": "last March", "iso": "2026-03-01"},
        "contact_safety": "after 9pm only",
        **extra,
    }


def _supervisor(site: Site) -> Any:
    site.add_user("sue", "supervisor")
    client = site.client()
    assert login(client, "sue", OTHER_PASSPHRASE, site.secrets["sue"]).status_code == 303
    return client


def _audit(site: Site, action: str) -> list[AuditEntry]:
    with site.db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_uwazi_has_only_consented_cases_and_identity_only_with_consent(site: Site) -> None:
    sue = _supervisor(site)  # added before the cases: new reports are sealed to her too
    shared = site.make_case(fields=_complaint())
    private = site.make_case(fields=_complaint(), consent=REFER_ONLY)
    site.make_case(fields=_complaint(), consent=NOTHING)
    response = post(sue, "/reports/export/uwazi", page="/reports/periodic")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-sanad-exported"] == "2"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["case_ref"] for r in rows] == sorted([shared, private], key=[shared, private].index)
    by_ref = {r["case_ref"]: r for r in rows}
    assert by_ref[shared]["contact_safety"] == "after 9pm only"
    assert by_ref[private]["contact_safety"] == "" and by_ref[private]["identity_shared"] == "no"
    assert by_ref[shared]["violation_types"] == "beating|threats"
    assert by_ref[shared]["incident_date"] == "2026-03-01"
    assert by_ref[shared]["title"].startswith(shared)
    audited = _audit(site, "export.uwazi")
    assert {e.case_ref for e in audited if e.case_ref} == {shared, private}
    assert all(e.actor == "sue" and e.outcome == "granted" for e in audited)


def test_openevsys_who_did_what_to_whom(site: Site) -> None:
    sue = _supervisor(site)
    ref = site.make_case(fields=_complaint())
    doc = json.loads(post(sue, "/reports/export/openevsys", page="/reports/periodic").text)
    [event] = doc["events"]
    assert event["event_id"] == ref and event["geographical_term"] == "SY"
    assert [a["type_of_act"] for a in event["acts"]] == ["beating", "threats"]
    assert event["perpetrators"] == [{"person_id": f"{ref}-P1", "perpetrator_type": "police"}]
    assert event["victims"][0]["sex"] == "woman"
    assert {(i["act"], i["perpetrator"]) for i in event["involvements"]} == {
        (f"{ref}-A1", f"{ref}-P1"),
        (f"{ref}-A2", f"{ref}-P1"),
    }


def test_a_flipped_plaintext_consent_is_refused_as_tampering(site: Site) -> None:
    sue = _supervisor(site)
    ref = site.make_case(fields=_complaint(), consent=NOTHING)
    with site.db.transaction() as session:  # a database writer says "yes" for the reporter
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        case.consent = {**case.consent, "consent_refer": {"value": "yes", "at": "x"}}
    response = post(sue, "/reports/export/uwazi", page="/reports/periodic")
    assert response.headers["x-sanad-exported"] == "0"
    assert response.headers["x-sanad-refused"] == "1"
    assert ref not in response.text
    refused = [e for e in _audit(site, "export.uwazi") if e.case_ref == ref]
    assert [(e.outcome, e.detail["reason"]) for e in refused] == [("refused", "consent_tampered")]


def test_cases_this_reader_cannot_open_are_skipped_and_counted(site: Site) -> None:
    site.make_case(fields=_complaint())  # sealed before sue existed: she is no reader
    sue = _supervisor(site)
    mine = site.make_case(fields=_complaint())
    response = post(sue, "/reports/export/uwazi", page="/reports/periodic")
    assert response.headers["x-sanad-exported"] == "1"
    assert response.headers["x-sanad-skipped"] == "1" and mine in response.text


def test_a_caseworker_may_not_export(site: Site, demo: Any) -> None:
    site.make_case(fields=_complaint())
    response = post(demo, "/reports/export/uwazi")
    assert response.status_code == 403
    assert [e.outcome for e in _audit(site, "export.uwazi")] == ["refused"]


def test_the_cli_export_writes_0600_and_says_what_was_skipped(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    sanad(cli_env, "init", "--demo")
    sanad(
        {**cli_env, "SANAD_PASSPHRASE": "a supervisor passphrase"},
        "users",
        "add",
        "sue",
        "--role",
        "supervisor",
        "--yes",
    )
    out = tmp_path / "uwazi.csv"
    done = sanad(
        {**cli_env, "SANAD_PASSPHRASE": "a supervisor passphrase"},
        "export",
        "uwazi",
        "--as",
        "sue",
        "--out",
        str(out),
        "--from",
        "2026-01-01",
    )
    assert "0 case(s) exported" in done.stdout and "skipped" in done.stdout
    assert out.read_text().startswith("title,case_ref,")
    assert out.stat().st_mode & 0o777 == 0o600
    refused = sanad(cli_env, "export", "openevsys", "--as", "demo", "--out", str(out), check=False)
    assert refused.returncode == 2 and "may not export" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0
    wrong = sanad(
        {**cli_env, "SANAD_PASSPHRASE": "nope"},
        "export",
        "uwazi",
        "--as",
        "sue",
        "--out",
        str(out),
        check=False,
    )
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
