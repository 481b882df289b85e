"""The `sanad` command (see docs/interfaces.md for the stable, scriptable surface).

Errors a person can fix are one line on stderr and exit code 2; nothing a reporter wrote is
ever part of an error message.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click

from cli._common import UserFacingError, friendly_errors, settings

__all__ = [
    "backup",
    "chat",
    "flows",
    "flows_check",
    "init",
    "main",
    "nlu",
    "nlu_eval",
    "nlu_parse",
    "purge",
    "restore",
]

# The shared helpers live in cli/_common.py; these names stay importable from here.
_settings = settings


# The commands kept in their own modules, each imported only when it runs (or for --help), so
# `sanad users list` does not load the channels, the flows or the dashboard: click's
# "lazily loading subcommands" pattern. Name -> "module:attribute".
LAZY_COMMANDS = {
    "queue": "cli._caseworker:queue",
    "show": "cli._caseworker:show",
    "reply": "cli._caseworker:reply",
    "reissue-receipt": "cli._caseworker:reissue_receipt",
    "config": "cli._config:config",
    "alerts": "cli._alerts:alerts",
    "run": "cli._channels:run",
    "onion": "cli._onion:onion",
    "users": "cli._users:users",
    "teams": "cli._users:teams",
    "keys": "cli._keys:keys",
    "web": "cli._web:web",
    "audit": "cli._audit:audit",
    "identity": "cli._identity:identity",
    "status": "cli._jobs:status",
    "report": "cli._report:report",
    "export": "cli._report:export",
    "jobs": "cli._jobs:jobs",
}


class LazyGroup(click.Group):
    """A group whose LAZY_COMMANDS are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sanad")
def main() -> None:
    """Sanad (سند): secure bilingual intake for reports of torture, ill-treatment and reprisals.

    Settings come from the environment: SANAD_HOME (data folder, default ./.sanad),
    SANAD_DATABASE_URL (default SQLite in the home), SANAD_PASSPHRASE (for non-interactive use).
    """


@main.command()
@click.option(
    "--demo",
    is_flag=True,
    required=True,
    help="Create a ready home without questions (demo caseworker 'demo').",
)
@friendly_errors
def init(demo: bool) -> None:
    """Create the home: schema, organisation keys, and the caseworker account `demo`."""
    from intake import init_demo, open_database, setup_logging

    settings = _settings()
    if settings.insecure_fast_kdf:
        click.echo(
            "warning: SANAD_INSECURE_FAST_KDF=1: weak key derivation, for tests only", err=True
        )
    db = open_database(settings)
    from intake import HomeError

    try:
        result = init_demo(
            settings,
            db,
            os.environ.get("SANAD_PASSPHRASE"),
            os.environ.get("SANAD_DEMO_TOTP_SECRET"),
            os.environ.get("SANAD_ADMIN_PASSPHRASE"),
            os.environ.get("SANAD_RECOVERY_PASSPHRASE"),
        )
    except HomeError as exc:
        click.echo(f"sanad: {exc}", err=True)
        raise SystemExit(2) from None
    setup_logging(settings)
    click.echo(result.message)
    if result.generated_passphrase:
        click.echo(
            f"Passphrase of 'demo' (shown once, keep it safe): {result.generated_passphrase}"
        )
    if result.created and result.totp_generated and result.totp_secret:
        from cli._users import show_totp

        show_totp("demo", result.totp_secret)
    names = {
        "admin": "administrator signing key (SANAD_ADMIN_PASSPHRASE)",
        "recovery": "organisation recovery key (SANAD_RECOVERY_PASSPHRASE)",
    }
    for which, value in result.generated_offline.items():
        click.echo(f"Passphrase of the {names[which]}, shown once, keep it offline: {value}")
    if result.created:
        click.echo(
            f"Private keys to move offline are in {settings.home / 'offline'}: "
            "`sanad keys export-offline DIR` moves them off this server."
        )
    _prepare_language_model()


def _prepare_language_model() -> None:
    """Train the built-in NLU model now if it is not cached, so the bot's first start is
    ready in about a second instead of training then (several seconds)."""
    if os.environ.get("SANAD_RASA_URL", "").strip() or os.environ.get(
        "SANAD_NLU_BACKEND", "builtin"
    ).strip() not in ("", "builtin"):
        return
    from nlu import is_cached, load_or_train

    if not is_cached():
        click.echo("Preparing the language model (once, a few seconds)…", err=True)
        load_or_train()


@main.command()
@click.option("--jsonl", is_flag=True, help="Machine mode: JSON lines in and out.")
@click.option(
    "--user",
    "user",
    default="console",
    show_default=True,
    help="Stands for a distinct chat user; the same ID resumes a draft.",
)
@click.option(
    "--lang",
    type=click.Choice(["ar", "en"]),
    default=None,
    help="Start in this language (skips the language question).",
)
@click.option(
    "--shape/--no-shape",
    default=True,
    show_default=True,
    help="Human mode: reshape Arabic for terminals that do not (arabic-reshaper, python-bidi).",
)
@friendly_errors
def chat(jsonl: bool, user: str, lang: str | None, shape: bool) -> None:
    """Report through the console: the same flows, consent, encryption and queue as Telegram."""
    from bot import run_interactive, run_jsonl
    from intake import build_intake, setup_logging

    settings = _settings()
    setup_logging(settings)
    from intake import harden

    harden(settings)
    service = friendly_errors(build_intake)(settings)
    try:
        if jsonl:
            sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
            # a broken byte becomes U+FFFD; the valid lines around it are read (finding 22)
            sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
            run_jsonl(service, user, lang, sys.stdin, sys.stdout)
        else:
            run_interactive(service, user, lang, shape)
    except KeyboardInterrupt:
        click.echo("", err=True)
    finally:
        service.db.dispose()


@main.group()
def flows() -> None:
    """Conversation flows."""


@flows.command("check")
@click.option(
    "--path",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A flows folder (definitions/, catalog/, fields.yaml); default: built in.",
)
def flows_check(path: str | None) -> None:
    """Validate flows and catalogues: schema, graph, both languages. Exit 1 on problems."""
    from pathlib import Path

    from flows import FlowValidationError, load_flowset

    try:
        flowset = load_flowset(Path(path) if path else None)
    except FlowValidationError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(
        f"OK: {len(flowset.flows)} flows, {len(flowset.steps)} steps, "
        f"{len(flowset.catalog['en'])} texts in each language ({flowset.version})."
    )


@main.group()
def nlu() -> None:
    """Language understanding, as the bot uses it."""


_BACKEND_OPTION = click.option(
    "--backend",
    type=click.Choice(["builtin", "rasa", "rules"]),
    default=None,
    help="Default: rasa when SANAD_RASA_URL is set, else builtin (or SANAD_NLU_BACKEND).",
)


def _interpreter(backend: str | None) -> Any:
    from nlu import build_interpreter

    try:
        return build_interpreter(backend)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc


@nlu.command("parse")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON output (the default).")
@click.option("--jsonl", is_flag=True, help="Read one text per line from stdin.")
@click.option(
    "--expecting",
    type=click.Choice(["choice", "multi", "bool", "date", "files", "text"]),
    help="The kind of question the text answers (as the bot reads it).",
)
@click.option(
    "--field",
    help="The report field the question asks for (e.g. "
    "incident_location, narrative): a place or perpetrator alone is not urgent.",
)
@_BACKEND_OPTION
def nlu_parse(
    text: str | None,
    as_json: bool,
    jsonl: bool,
    expecting: str | None,
    field: str | None,
    backend: str | None,
) -> None:
    """Interpret TEXT (or each stdin line with --jsonl) the way the bot does."""
    if not jsonl and text is None:
        raise UserFacingError("give a TEXT, or --jsonl to read lines from stdin")
    if field and not expecting:
        expecting = "text"
    interpreter = _interpreter(backend)
    if jsonl:
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        for line in sys.stdin:
            out = interpreter.interpret(
                line.rstrip("\r\n"), expecting=expecting, field=field
            ).to_json()
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    out = interpreter.interpret(text or "", expecting=expecting, field=field).to_json()
    click.echo(json.dumps(out, ensure_ascii=False))


@nlu.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_BACKEND_OPTION
def nlu_eval(file: str, as_json: bool, backend: str | None) -> None:
    """Evaluate intents on FILE (Rasa NLU YAML), e.g. the held-out nlu/data/test.yml."""
    from nlu import NluDataError, evaluate_intents, load_nlu

    try:
        data = load_nlu(file)
    except NluDataError as exc:
        raise UserFacingError(str(exc)) from exc
    report = evaluate_intents(_interpreter(backend), data.examples)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(
        f"{report['n']} examples: accuracy {report['accuracy']:.3f}, "
        f"macro-F1 {report['macro_f1']:.3f}"
    )
    for name, m in report["per_intent"].items():
        click.echo(
            f"  {name:<18} P {m['precision']:.2f}  R {m['recall']:.2f}  "
            f"F1 {m['f1']:.2f}  n={m['support']}"
        )
    for c in report["confusions"][:10]:
        click.echo(f"  confused: {c['intent']} -> {c['predicted']} ({c['count']})")


@main.command()
@click.option(
    "--vacuum",
    is_flag=True,
    help="PostgreSQL: run VACUUM FULL on the tables the purge touched, so deleted "
    "rows leave the table files (each table is locked while rewritten).",
)
@friendly_errors
def purge(vacuum: bool) -> None:
    """Delete expired data for real: drafts, sealed files of abandoned conversations and, when
    a retention is set, the content and files of closed cases. A running bot does this daily.

    \b
    Retention (environment; unset keeps for ever):
      SANAD_CLOSED_CASE_RETENTION_DAYS  days after a case was closed (its last change
          while closed) until its content, files, keys and notes are deleted; the register
          keeps a tombstone (reference, dates, type, status), as a withdrawal does.
      SANAD_ATTACHMENT_RETENTION_DAYS   days after a case was closed until its files are
          deleted (may be shorter; the answers stay until the case retention).
      SANAD_DRAFT_EPOCH_SECONDS         a draft lives at most two epochs (default 86400).
      SANAD_PURGE_INTERVAL_SECONDS      how often a running bot purges (default 86400).

    On SQLite deleted rows are overwritten and the WAL is truncated. On PostgreSQL they stay
    in the table files until VACUUM FULL: use --vacuum.
    """
    from intake import build_intake, setup_logging, vacuum_postgres
    from intake import purge as purge_all

    settings = _settings()
    setup_logging(settings)
    service = build_intake(settings)
    try:
        counts = purge_all(service)
        click.echo(
            f"Removed {counts.drafts} expired draft(s) and {counts.folders} folder(s) "
            "of abandoned files."
        )
        if settings.closed_case_retention_days or settings.attachment_retention_days:
            click.echo(
                f"Removed the content of {counts.closed_cases} closed case(s) past "
                f"retention and {counts.attachments} file(s) of closed cases."
            )
        if service.db.is_sqlite:
            if vacuum:
                click.echo(
                    "--vacuum is for PostgreSQL; SQLite overwrites deleted rows "
                    "(secure_delete) and its WAL was truncated."
                )
        elif vacuum:
            click.echo("Running VACUUM FULL on the purged tables…", err=True)
            vacuum_postgres(service.db)
            click.echo(
                "VACUUM FULL done: the purged tables were rewritten without the deleted rows."
            )
        else:
            click.echo(
                "PostgreSQL keeps deleted rows in its table files until VACUUM FULL "
                "(autovacuum only marks their space free). Run `sanad purge --vacuum` "
                "to rewrite the purged tables now."
            )
    finally:
        service.db.dispose()


@main.command()
@click.argument("destination", type=click.Path(dir_okay=False, writable=True))
@friendly_errors
def backup(destination: str) -> None:
    """Write an encrypted, signed backup that only the organisation recovery key can open.

    The home's backup signing key is certified by the administrator's key the first time
    (SANAD_ADMIN_PASSPHRASE or a prompt, for SANAD_HOME/offline/admin-signing.pem)."""
    from pathlib import Path

    from caseworker import load_admin_key
    from intake import BackupError, Home, backup_signer, fingerprint, make_backup, open_database
    from storage import accounts, crypto

    settings = _settings()
    home = Home(settings.home)
    home.require()
    try:
        signer = backup_signer(home.keys)
    except BackupError:
        pem = home.offline / "admin-signing.pem"
        if not pem.exists():
            raise
        passphrase = os.environ.get("SANAD_ADMIN_PASSPHRASE") or str(
            click.prompt(
                "Administrator passphrase (certifies the backup signing key, once)",
                hide_input=True,
                err=True,
            )
        )
        try:
            admin_key = load_admin_key(pem.read_bytes(), passphrase)
        except (crypto.CryptoError, ValueError) as exc:
            raise UserFacingError("the administrator key or its passphrase is wrong") from exc
        if admin_key.public_key().public_bytes_raw() != home.admin_public():
            raise UserFacingError("that signing key is not the pinned administrator key") from None
        signer = backup_signer(home.keys, admin_key)
    db = open_database(settings)
    try:
        with db.transaction() as session:
            recovery = next(
                r
                for r in accounts.current_recipients(session, home.admin_public())
                if r.label == accounts.RECOVERY_LABEL
            )
        click.echo("Writing the backup…", err=True)
        counts = make_backup(settings, db, recovery.public_key, Path(destination), signer)
    except BackupError as exc:
        raise UserFacingError(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(
        f"Backup written to {destination}: {counts.get('cases', 0)} case(s), "
        f"{sum(counts.values())} row(s). Only the organisation recovery key opens it."
    )
    click.echo(
        f"Signed for the administrator key {fingerprint(home.admin_public())}; "
        "restore with --admin-pub naming that key."
    )


def _admin_public_option(value: str) -> bytes:
    """`--admin-pub`: the administrator's public key (64 hex digits) or a file holding it
    (e.g. a copy of SANAD_HOME/keys/admin-signing.pub kept apart from the backups)."""
    from pathlib import Path

    text = value.strip()
    path = Path(text)
    if len(text) != 64 and path.is_file():
        text = path.read_text().strip()
    try:
        raw = bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UserFacingError(
            "--admin-pub takes the administrator's public key: 64 hex "
            "digits, or a file holding them (keys/admin-signing.pub)"
        )
    return raw


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--recovery-key",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="The organisation recovery key (PEM, encrypted), kept offline.",
)
@click.option(
    "--admin-pub",
    "admin_pub",
    default=None,
    help="The administrator's public key (hex, or a file such as a copy of "
    "keys/admin-signing.pub): the backup must be signed for it.",
)
@friendly_errors
def restore(source: str, recovery_key: str, admin_pub: str | None) -> None:
    """Restore a signed backup into an empty SANAD_HOME and an empty database.

    The backup must be signed by a key the administrator named with --admin-pub certified,
    and it must pin that same key; without --admin-pub the backup's administrator key
    fingerprint is shown and nothing is restored. The recovery key's passphrase comes from
    SANAD_RECOVERY_PASSPHRASE or a prompt."""
    from pathlib import Path

    from intake import BackupError, backup_admin, fingerprint, open_database, restore_backup
    from storage import crypto

    claimed = backup_admin(Path(source))
    shown = fingerprint(claimed) if claimed else "none (the backup is not signed)"
    click.echo(f"The backup says it is signed for the administrator key {shown}.", err=True)
    if admin_pub is None:
        raise UserFacingError(
            "name the administrator key you trust with --admin-pub (its "
            "fingerprint must match the one above); nothing was restored"
        )
    expected = _admin_public_option(admin_pub)
    if claimed != expected:
        raise UserFacingError(
            f"the backup's administrator key is not {fingerprint(expected)}"
            ": it may be forged; nothing was restored"
        )
    settings = _settings()
    passphrase = os.environ.get("SANAD_RECOVERY_PASSPHRASE") or str(
        click.prompt("Recovery key passphrase", hide_input=True, err=True)
    )
    try:
        private = crypto.import_private_key_encrypted(Path(recovery_key).read_bytes(), passphrase)
    except (crypto.CryptoError, ValueError) as exc:
        raise UserFacingError("the recovery key or its passphrase is wrong") from exc
    db = open_database(settings)
    try:
        counts = restore_backup(Path(source), private, settings, db, expected)
    except BackupError as exc:
        raise UserFacingError(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(
        f"Restored {counts.get('cases', 0)} case(s), {sum(counts.values())} row(s) "
        f"into {settings.home}. Pinned administrator key: {fingerprint(expected)}."
    )


if __name__ == "__main__":  # pragma: no cover
    main()
