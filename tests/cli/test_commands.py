"""The other commands of contracts.md, and property 9: the intake side holds no private key."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import render_human
from flows import Reply

from .conftest import ConsoleProcess, home_of, sanad


def test_nlu_parse_contract(cli_env: dict[str, str]) -> None:
    out = json.loads(sanad(cli_env, "nlu", "parse", "مش موافق", "--json").stdout)
    # contracts.md adds urgent_reason to the parse object (null when not urgent)
    assert set(out) == {"text", "lang", "arabizi", "intent", "entities", "urgent", "urgent_reason"}
    assert out["intent"]["name"] == "deny" and out["lang"] == "ar" and out["urgent_reason"] is None
    lines = sanad(
        cli_env, "nlu", "parse", "--jsonl", stdin="aywa\nthey are at my door right now\n"
    ).stdout.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["arabizi"] is True and first["intent"]["name"] == "affirm"
    assert second["urgent"] is True and second["urgent_reason"] == "present_danger"


@pytest.mark.slow
def test_intake_runs_without_any_private_key(home_env: dict[str, str]) -> None:
    """The bot side needs only public keys and its pepper: with the offline folder gone,
    reports are still sealed and can later be read by the caseworker.
    Crypto property 9 (crypto-design.md).
    """
    home = home_of(home_env)
    offline = home.parent / "moved-offline"
    shutil.move(str(home / "offline"), offline)
    for path in (home / "keys").iterdir():
        assert b"PRIVATE KEY" not in path.read_bytes()
    console = ConsoleProcess(home_env, "u", lang="en")
    msg = console.next_question()
    msg = console.answer("consent_store", "yes", msg)
    while msg["field"] != "confirm_submit":
        console.send("/skip")
        msg = console.next_question()
    msg = console.answer("confirm_submit", "yes", msg)
    assert msg["kind"] == "receipt"
    console.close()
    shown = json.loads(sanad(home_env, "show", msg["case_ref"], "--as", "demo", "--json").stdout)
    assert shown["fields"]["consent_store"] == "yes"


@pytest.mark.slow
def test_reply_is_refused_without_followup_consent(home_env: dict[str, str]) -> None:
    proc = sanad(
        home_env,
        "chat",
        "--jsonl",
        "--user",
        "u",
        "--lang",
        "en",
        stdin="yes\nno\n" + "/skip\n" * 40 + "yes\n",
    )
    receipt = next(
        json.loads(line)
        for line in proc.stdout.splitlines()
        if json.loads(line)["kind"] == "receipt"
    )
    out = sanad(
        home_env, "reply", receipt["case_ref"], "Are you safe?", "--as", "demo", check=False
    )
    assert out.returncode == 2 and "consent" in out.stderr


def test_human_mode_shapes_arabic_for_plain_terminals() -> None:
    reply = Reply("هل نحتفظ ببلاغك؟", "bool", "ar", "consent_store", (("yes", "نعم"), ("no", "لا")))
    shaped = render_human(reply, shaped=True)
    plain = render_human(reply, shaped=False)
    assert "هل نحتفظ ببلاغك؟" in plain and "1. نعم" in plain
    # Presentation forms (joined letters) in visual order for terminals that cannot shape.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in shaped)
    assert "هل نحتفظ ببلاغك؟" not in shaped
    english = Reply("Keep it?", "bool", "en", "consent_store", (("yes", "Yes"),))
    assert render_human(english, shaped=True) == render_human(english, shaped=False)


@pytest.mark.slow
def test_backup_and_restore_commands(home_env: dict[str, str], tmp_path: Path) -> None:
    sanad(
        home_env,
        "chat",
        "--jsonl",
        "--user",
        "u",
        "--lang",
        "en",
        stdin="yes\n" + "/skip\n" * 40 + "yes\n",
    )
    archive = tmp_path / "nightly.backup"
    out = sanad(
        dict(home_env), "backup", str(archive)
    )  # the first backup certifies the signing key
    assert "1 case(s)" in out.stdout and archive.exists()
    target = dict(home_env, SANAD_HOME=str(tmp_path / "restored"))
    key = home_of(home_env) / "offline" / "recovery.pem"
    admin_pub = str(home_of(home_env) / "keys" / "admin-signing.pub")
    out = sanad(
        target, "restore", str(archive), "--recovery-key", str(key), "--admin-pub", admin_pub
    )
    assert "Restored 1 case(s)" in out.stdout
    assert len(json.loads(sanad(target, "queue", "--json").stdout)) == 1
    again = sanad(
        target,
        "restore",
        str(archive),
        "--recovery-key",
        str(key),
        "--admin-pub",
        admin_pub,
        check=False,
    )
    assert again.returncode == 2 and "empty" in again.stderr


@pytest.mark.slow
def test_init_prepares_the_language_model_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    """So the bot's first start does not train it (issue: ready within 2 s)."""
    env = {**cli_env, "SANAD_NLU_CACHE": str(tmp_path / "nlu")}
    first = sanad(env, "init", "--demo")
    assert "Preparing the language model" in first.stderr
    assert list((tmp_path / "nlu").glob("intent-*.npz"))
    again = sanad(env, "init", "--demo")
    assert "Preparing" not in again.stderr


@pytest.mark.slow
def test_reissue_receipt_prints_a_new_code_once_and_refuses_a_wrong_passphrase(
    home_env: dict[str, str],
) -> None:
    proc = sanad(
        home_env,
        "chat",
        "--jsonl",
        "--user",
        "lost",
        "--lang",
        "en",
        stdin="yes\n" + "/skip\n" * 40 + "yes\n",
    )
    receipt = next(
        json.loads(line)
        for line in proc.stdout.splitlines()
        if json.loads(line)["kind"] == "receipt"
    )
    out = sanad(home_env, "reissue-receipt", receipt["case_ref"], "--as", "demo").stdout
    codes = [w.strip("⁦⁩") for w in out.split() if w.count("-") == 7]
    assert codes and codes[0] != receipt["receipt"] and len(set(codes)) == 1
    wrong = sanad(
        dict(home_env, SANAD_PASSPHRASE="not it"),
        "reissue-receipt",
        receipt["case_ref"],
        "--as",
        "demo",
        check=False,
    )
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_a_command_loads_only_what_it_runs(home_env: dict[str, str]) -> None:
    """The subcommands are imported when they run (cli.main.LazyGroup): reading the queue
    loads neither a messaging client, the dashboard, the flows nor the language model, and
    every command is still listed by --help."""
    code = (
        "import sys\n"
        "from cli.main import main\n"
        "try:\n"
        "    main(['queue', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = {'telegram', 'signalbot', 'starlette', 'sklearn', 'flows', 'bot', 'web'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=home_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"
    assert json.loads(proc.stdout) == []  # the demo home's queue: nothing reported yet
    listed = sanad(home_env, "--help").stdout
    from cli.main import LAZY_COMMANDS

    assert all(f"  {name} " in listed for name in LAZY_COMMANDS)
