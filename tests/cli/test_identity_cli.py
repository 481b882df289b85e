"""`sanad identity` and `sanad show` through the real command: the names of a report made in
the console are "protected — request access" for the demo caseworker until a custodian
(added with `sanad users add --role custodian`) approves; a refusal is told to the requester;
wrong hands get one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.intake.test_conversations import COMPLAINT_EN, COMPLAINT_EN_IDENTITY

from .conftest import ConsoleProcess, sanad

pytestmark = pytest.mark.slow


def test_request_approve_then_show(home_env: dict[str, str], tmp_path: Path) -> None:
    env = {**home_env, "SANAD_TOTP_SECRET": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
    added = sanad(env, "users", "add", "keeper", "--role", "custodian", "--yes")
    assert "custodian" in added.stdout
    photo = tmp_path / "p.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"pixels " * 500)
    console = ConsoleProcess(home_env, "amal")
    msg = console.next_question()
    for field, line in COMPLAINT_EN:
        msg = console.answer(field, line.format(photo=photo), msg)
    assert console.close() == 0
    ref = str(msg["case_ref"])

    shown = json.loads(sanad(home_env, "show", ref, "--as", "demo", "--json").stdout)
    assert shown["identity"]["protected"] == sorted(COMPLAINT_EN_IDENTITY)
    assert "reporter_name" not in shown["fields"]
    readable = sanad(home_env, "show", ref, "--as", "demo").stdout
    assert "protected — request access" in readable
    assert COMPLAINT_EN_IDENTITY["reporter_name"] not in readable
    assert (
        "محميّ — اطلب الاطلاع" in sanad(home_env, "show", ref, "--as", "demo", "--lang", "ar").stdout
    )

    state = sanad(
        home_env,
        "identity",
        "request",
        ref,
        "--as",
        "demo",
        "--purpose",
        "raise_with_state",
        check=False,
    )  # the reporter said no to that
    assert state.returncode == 2 and "did not consent" in state.stderr
    made = sanad(
        home_env, "identity", "request", ref, "--as", "demo", "--purpose", "contact_reporter"
    )
    request_id = made.stdout.split()[0]
    assert "waiting for a custodian" in made.stdout and "بانتظار" in made.stdout
    listed = json.loads(sanad(home_env, "identity", "list", "--as", "keeper", "--json").stdout)
    assert [(r["id"], r["requester"], r["status"]) for r in listed] == [
        (request_id, "demo", "pending")
    ]
    not_custodian = sanad(home_env, "identity", "approve", request_id, "--as", "demo", check=False)
    assert not_custodian.returncode == 2 and "only a custodian" in not_custodian.stderr
    sanad(home_env, "identity", "approve", request_id, "--as", "keeper")
    shown = json.loads(sanad(home_env, "show", ref, "--as", "demo", "--json").stdout)
    assert shown["identity"]["access"] == "granted"
    for fid, value in COMPLAINT_EN_IDENTITY.items():
        assert shown["fields"][fid] == value
    mine = json.loads(sanad(home_env, "identity", "list", "--as", "demo", "--json").stdout)
    assert mine[0]["status"] == "approved" and mine[0]["decided_by"] == "keeper"
    audit = sanad(home_env, "audit", "verify", check=False)
    assert audit.returncode == 0, audit.stderr
