"""Teams, routing and the account lifecycle through the real `sanad` command (issue 14):
a reprisal routed to the reprisals team opens for its members only; a disabled member opens
nothing, even what they opened before, and gets nothing new; after `users passwd` only the
new passphrase works; a bad routing.yaml is reported with its file and line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .conftest import ConsoleProcess, home_of, sanad

RITA = "rita's own long passphrase"
COLIN = "colin's own long passphrase"
ROUTING = """\
default_team: complaints
rules:
  - when: {report_type: reprisal}
    teams: [reprisals]
"""


def report(env: dict[str, str], user: str, report_type: str) -> str:
    """A report through the console: consent, the report type, everything else skipped."""
    console = ConsoleProcess(env, user, lang="en")
    msg = console.next_question()
    while msg["kind"] != "receipt":
        answer = {"consent_store": "yes", "report_type": report_type, "confirm_submit": "yes"}.get(
            msg["field"] or "", "/skip"
        )
        if msg["kind"] == "bool" and answer == "/skip" and msg["field"] == "resume":
            answer = "no"
        console.send(answer)
        msg = console.next_question()
    assert console.close() == 0
    return str(msg["case_ref"])


def show(env: dict[str, str], case_ref: str, user: str, passphrase: str) -> object:
    return sanad(
        dict(env, SANAD_PASSPHRASE=passphrase),
        "show",
        case_ref,
        "--as",
        user,
        "--json",
        check=False,
    )


def wrapped_to(env: dict[str, str], case_ref: str, user: str) -> int:
    with sqlite3.connect(home_of(env) / "sanad.db") as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM wrapped_keys w JOIN cases c ON c.id = w.case_id "
                "JOIN users u ON u.key_id = w.key_id WHERE c.case_ref = ? AND u.name = ?",
                (case_ref, user),
            ).fetchone()[0]
        )


def test_reprisal_team_disable_and_passwd(home_env: dict[str, str]) -> None:
    env = home_env
    sanad(env, "teams", "add", "reprisals", "--yes")
    sanad(env, "teams", "add", "complaints", "--yes")
    added = sanad(
        dict(env, SANAD_PASSPHRASE=RITA),
        "users",
        "add",
        "rita",
        "--role",
        "caseworker",
        "--team",
        "reprisals",
        "--yes",
    ).stdout
    assert "teams: reprisals" in added  # the confirmation shows each key's teams
    sanad(
        dict(env, SANAD_PASSPHRASE=COLIN),
        "users",
        "add",
        "colin",
        "--role",
        "caseworker",
        "--team",
        "complaints",
        "--yes",
    )
    (home_of(env) / "config" / "routing.yaml").write_text(ROUTING, encoding="utf-8")
    assert sanad(env, "config", "check").returncode == 0

    assert json.loads(sanad(env, "teams", "list", "--json").stdout) == [
        {"name": "complaints", "members": ["colin"]},
        {"name": "reprisals", "members": ["rita"]},
    ]
    users = {u["name"]: u for u in json.loads(sanad(env, "users", "list", "--json").stdout)}
    assert users["rita"] == {
        "name": "rita",
        "role": "caseworker",
        "teams": ["reprisals"],
        "disabled": False,
    }
    assert users["demo"]["teams"] == []

    case = report(env, "r1", "reprisal")
    opened = show(env, case, "rita", RITA)
    assert opened.returncode == 0, opened.stderr  # type: ignore[attr-defined]
    assert json.loads(opened.stdout)["fields"]["report_type"] == "reprisal"  # type: ignore[attr-defined]
    for outsider, passphrase in (("colin", COLIN), ("demo", env["SANAD_PASSPHRASE"])):
        refused = show(env, case, outsider, passphrase)
        assert refused.returncode == 2 and refused.stdout == ""  # type: ignore[attr-defined]
        assert len(refused.stderr.strip().splitlines()) == 1  # type: ignore[attr-defined]
    complaint = report(env, "c1", "complaint")
    assert show(env, complaint, "colin", COLIN).returncode == 0  # type: ignore[attr-defined]
    assert show(env, complaint, "rita", RITA).returncode == 2  # type: ignore[attr-defined]

    # With no terminal and no --yes nothing changes.
    refused = sanad(env, "users", "disable", "rita", check=False)
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr
    assert show(env, case, "rita", RITA).returncode == 0  # type: ignore[attr-defined]

    out = sanad(env, "users", "disable", "rita", "--yes").stdout
    assert "user:rita" not in out.split("Disabled")[0]  # not in the list that was signed
    assert case in out  # only the recovery key can open it now: said so
    gone = show(env, case, "rita", RITA)
    assert gone.returncode == 2 and len(gone.stderr.strip().splitlines()) == 1  # type: ignore[attr-defined]
    assert wrapped_to(env, case, "rita") == 0
    users = {u["name"]: u for u in json.loads(sanad(env, "users", "list", "--json").stdout)}
    assert users["rita"]["disabled"] is True and users["rita"]["teams"] == []
    later = report(env, "r2", "reprisal")
    assert wrapped_to(env, later, "rita") == 0  # not a recipient of new reports
    # the reprisals team has no active member now: the default team gets it, not nobody
    assert show(env, later, "colin", COLIN).returncode == 0  # type: ignore[attr-defined]

    # A new passphrase: only it works from now on.
    sanad(
        dict(env, SANAD_PASSPHRASE=COLIN, SANAD_NEW_PASSPHRASE="colin's brand new one"),
        "users",
        "passwd",
        "colin",
    )
    assert show(env, complaint, "colin", COLIN).returncode == 2  # type: ignore[attr-defined]
    assert show(env, complaint, "colin", "colin's brand new one").returncode == 0  # type: ignore[attr-defined]
    wrong = sanad(
        dict(env, SANAD_PASSPHRASE="not it", SANAD_NEW_PASSPHRASE="whatever long"),
        "users",
        "passwd",
        "colin",
        check=False,
    )
    assert wrong.returncode == 2 and "wrong current passphrase" in wrong.stderr

    actions = audit_actions(env)
    assert {"team.add", "user.add", "user.disable", "user.passwd"} <= actions


def audit_actions(env: dict[str, str]) -> set[str]:
    with sqlite3.connect(home_of(env) / "sanad.db") as conn:
        return {row[0] for row in conn.execute("SELECT action FROM audit_log")}


def test_users_set_moves_a_caseworker_between_teams(home_env: dict[str, str]) -> None:
    env = home_env
    for team in ("reprisals", "complaints"):
        sanad(env, "teams", "add", team, "--yes")
    sanad(
        dict(env, SANAD_PASSPHRASE=COLIN),
        "users",
        "add",
        "colin",
        "--role",
        "caseworker",
        "--team",
        "complaints",
        "--yes",
    )
    sanad(
        env,
        "users",
        "set",
        "colin",
        "--role",
        "supervisor",
        "--team",
        "reprisals",
        "--team",
        "complaints",
        "--yes",
    )
    users = {u["name"]: u for u in json.loads(sanad(env, "users", "list", "--json").stdout)}
    assert users["colin"]["role"] == "supervisor"
    assert users["colin"]["teams"] == ["complaints", "reprisals"]
    unknown = sanad(env, "users", "set", "colin", "--team", "nowhere", "--yes", check=False)
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr
    admin = sanad(
        env, "users", "set", "colin", "--role", "admin", "--team", "reprisals", "--yes", check=False
    )
    assert admin.returncode == 2 and "read no reports" in admin.stderr
    assert "user.set" in audit_actions(env)


def test_reset_totp_shows_a_new_secret_once(home_env: dict[str, str]) -> None:
    out = sanad(home_env, "users", "reset-totp", "demo").stdout
    assert "otpauth://" in out and "reset" in out
    assert "user.totp_reset" in audit_actions(home_env)


def test_config_check_names_file_and_line_of_a_bad_routing(home_env: dict[str, str]) -> None:
    path = home_of(home_env) / "config" / "routing.yaml"
    assert path.exists()  # `sanad init` installed the example
    ok = sanad(home_env, "config", "check")
    assert "routing" in ok.stdout and "no team named 'reprisals'" in ok.stdout  # a warning
    path.write_text(
        "default_team: intake\nrules:\n  - when: {report_type: torture}\n"
        "    teams: [reprisals]\n  - when: {colour: blue}\n    teams: []\n",
        encoding="utf-8",
    )
    bad = sanad(home_env, "config", "check", check=False)
    assert bad.returncode == 1
    assert f"{path}:3: error:" in bad.stdout and "torture" in bad.stdout
    assert f"{path}:5: error:" in bad.stdout and "colour" in bad.stdout
    assert f"{path}:6: error:" in bad.stdout
    # and the intake refuses to start on it, in one line
    chat = sanad(home_env, "chat", "--jsonl", stdin="", check=False)
    assert chat.returncode == 2 and str(path) in chat.stderr and "Traceback" not in chat.stderr


def test_a_home_without_routing_keeps_todays_behaviour(home_env: dict[str, str]) -> None:
    (home_of(home_env) / "config" / "routing.yaml").unlink()
    case = report(home_env, "x", "reprisal")
    assert show(home_env, case, "demo", home_env["SANAD_PASSPHRASE"]).returncode == 0  # type: ignore[attr-defined]


def test_example_routing_is_valid(tmp_path: Path) -> None:
    from intake.routing import EXAMPLE, check_routing

    assert check_routing(EXAMPLE) == []
