"""`sanad users ...` and `sanad teams ...`: accounts with their key pairs and TOTP enrolment,
teams, roles, disabling, passphrases (contracts.md, "Teams, routing and account lifecycle").

A command that changes the signed recipient manifest needs the administrator's signing key
(SANAD_ADMIN_PASSPHRASE or a prompt), shows the whole new recipient list with fingerprints
and teams, and asks; --yes confirms for scripts; with no terminal and no --yes it changes
nothing and exits 2."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from cli._common import secret as _secret

__all__ = ["show_totp", "teams", "users"]


def show_totp(name: str, secret: str) -> None:
    """Show a TOTP secret once: as text and as a QR code for an authenticator app."""
    from caseworker import terminal_qr, totp_uri

    uri = totp_uri(secret, name)
    click.echo(f"TOTP secret of '{name}' (shown once; add it to an authenticator app): {secret}")
    click.echo(terminal_qr(uri))
    click.echo(uri)


def _confirm(recipients: list[Any], assume_yes: bool) -> bool:
    """Show every recipient of new reports with its key fingerprint; ask unless --yes."""
    from storage import accounts

    team_map: dict[str, list[str]] = getattr(recipients, "teams", {}) or {}
    click.echo("New reports will be sealed to these keys (check each fingerprint):")
    for r in sorted(recipients, key=lambda r: r.label):
        member_of = sorted(t for t, members in team_map.items() if r.label in members)
        shown = f"  teams: {', '.join(member_of)}" if member_of else ""
        click.echo(f"  {r.label:<32} {accounts.fingerprint(r.public_key)}{shown}")
    for name, members in sorted(team_map.items()):
        if not members:
            click.echo(f"  team {name}: no members yet")
    if assume_yes:
        return True
    return bool(click.confirm("Sign this recipient list?", default=False))


@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["caseworker", "supervisor", "admin", "auditor", "custodian"]),
)
@click.option(
    "--team",
    "team_names",
    multiple=True,
    help="A team of the signed manifest (may repeat): reports routed to it are "
    "sealed to this account.",
)
@click.option(
    "--yes",
    "assume_yes",
    is_flag=True,
    help="Confirm the new recipient list without asking (for scripts).",
)
def add(name: str, role: str, team_names: tuple[str, ...], assume_yes: bool) -> None:
    """Create NAME with a key pair (passphrase: SANAD_PASSPHRASE or a prompt) and a TOTP
    secret (SANAD_TOTP_SECRET or a new one, shown once). A caseworker, supervisor or
    custodian (who holds the identity keys of new reports) is added to a newly signed
    recipient manifest: that needs the administrator's passphrase
    (SANAD_ADMIN_PASSPHRASE or a prompt) for SANAD_HOME/offline/admin-signing.pem. The new
    list (the previous signed one plus NAME) is shown with key fingerprints and must be
    confirmed: --yes for scripts; with no terminal and no --yes nothing changes (exit 2)."""
    import sys

    from caseworker import Cancelled, add_user, load_admin_key
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import Home, open_database
    from storage import accounts

    @friendly_errors
    def run() -> None:
        settings = _settings()
        home = Home(settings.home)
        home.require()
        from intake import in_tests

        if settings.insecure_fast_kdf and not in_tests():  # review finding 23
            click.echo(
                "sanad: warning: SANAD_INSECURE_FAST_KDF=1: this account's key gets a "
                "weak key derivation (for tests only); unset it",
                err=True,
            )
        if role in accounts.SIGNED_ROLES and not assume_yes and not sys.stdin.isatty():
            click.echo(
                "sanad: the new recipient list needs confirming: run in a terminal or "
                "pass --yes; nothing was changed",
                err=True,
            )
            raise SystemExit(2)
        passphrase = _secret("SANAD_PASSPHRASE", f"Passphrase for {name}", confirm=True)
        admin_key = None
        if role in accounts.SIGNED_ROLES:
            pem_path = home.offline / "admin-signing.pem"
            if not pem_path.exists():
                raise accounts.AccountError(
                    f"the administrator's signing key is not at {pem_path}: bring it from "
                    "offline storage to add a caseworker, supervisor or custodian"
                )
            admin_key = load_admin_key(
                pem_path.read_bytes(),
                _secret("SANAD_ADMIN_PASSPHRASE", "Administrator passphrase (signing key)"),
            )
        db = open_database(settings)
        try:
            if not db.is_current():
                db.migrate()
            created = add_user(
                db,
                name,
                role,
                passphrase,
                settings.user_kdf,
                home.admin_public(),
                os.environ.get("SANAD_TOTP_SECRET"),
                admin_key,
                confirm=lambda rs: _confirm(rs, assume_yes),
                pin=home.manifest_pin(),
                team_names=team_names,
            )
        except Cancelled:
            click.echo("sanad: not confirmed; nothing was changed", err=True)
            raise SystemExit(2) from None
        finally:
            db.dispose()
        click.echo(f"Created the {role} account '{name}'.")
        if created.manifest_version is not None:
            what = (
                "the identity sections (names, contact details) of new reports are "
                "sealed to this custodian too"
                if role == accounts.CUSTODIAN
                else "new reports are sealed to this account too"
            )
            click.echo(f"Published recipient manifest version {created.manifest_version}: {what}.")
        if created.totp_generated:
            show_totp(name, created.totp_secret)
        else:
            click.echo("TOTP secret: taken from SANAD_TOTP_SECRET.")

    run()


ROLE_CHOICE = click.Choice(["caseworker", "supervisor", "admin", "auditor"])
YES = click.option(
    "--yes",
    "assume_yes",
    is_flag=True,
    help="Confirm the new recipient list without asking (for scripts).",
)


def _manifest_change(assume_yes: bool, change: Any) -> Any:
    """Run change(db, settings, home, admin_key, confirm) for a command that signs a new
    manifest: refuse at once without a terminal or --yes, load the administrator's key, and
    turn a "no" into exit 2 with nothing changed."""
    import sys

    from caseworker import Cancelled, load_admin_key
    from cli._common import settings as _settings
    from intake import Home, open_database
    from storage import accounts

    settings = _settings()
    home = Home(settings.home)
    home.require()
    if not assume_yes and not sys.stdin.isatty():
        click.echo(
            "sanad: the new recipient list needs confirming: run in a terminal or "
            "pass --yes; nothing was changed",
            err=True,
        )
        raise SystemExit(2)
    pem_path = home.offline / "admin-signing.pem"
    if not pem_path.exists():
        raise accounts.AccountError(
            f"the administrator's signing key is not at {pem_path}: bring it from offline "
            "storage to change the recipient manifest"
        )
    admin_key = load_admin_key(
        pem_path.read_bytes(),
        _secret("SANAD_ADMIN_PASSPHRASE", "Administrator passphrase (signing key)"),
    )
    db = open_database(settings)
    try:
        if not db.is_current():
            db.migrate()
        return change(db, settings, home, admin_key, lambda rs: _confirm(rs, assume_yes))
    except Cancelled:
        click.echo("sanad: not confirmed; nothing was changed", err=True)
        raise SystemExit(2) from None
    finally:
        db.dispose()


def _reading(as_json: bool, read: Any) -> None:
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, home, db):
            rows = read(db, home.admin_public())
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        for row in rows:
            click.echo(
                "  ".join(
                    f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in row.items()
                )
            )

    run()


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (contracts.md).")
def list_users(as_json: bool) -> None:
    """Every account with its role, teams (as the signed manifest has them) and state."""
    from caseworker import list_users as read

    _reading(
        as_json,
        lambda db, pub: [
            {k: u[k] for k in ("name", "role", "teams", "disabled")} for u in read(db, pub)
        ],
    )


@users.command("set")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, default=None, help="The new role.")
@click.option(
    "--team",
    "team_names",
    multiple=True,
    help="The account's teams from now on (may repeat; replaces the old ones).",
)
@YES
def set_user(name: str, role: str | None, team_names: tuple[str, ...], assume_yes: bool) -> None:
    """Change NAME's role and/or teams; signs a new recipient manifest. An admin or auditor
    reads no reports: a reader who becomes one leaves the manifest and loses their copies of
    case keys."""
    from caseworker import set_user as change
    from cli._common import friendly_errors

    if role is None and not team_names:
        raise click.UsageError("give --role and/or --team")

    @friendly_errors
    def run() -> None:
        version = _manifest_change(
            assume_yes,
            lambda db, s, home, key, confirm: change(
                db,
                name,
                role,
                list(team_names) if team_names else None,
                key,
                home.admin_public(),
                confirm,
                home.manifest_pin(),
            ),
        )
        click.echo(f"Changed '{name}'; published recipient manifest version {version}.")

    run()


@users.command("disable")
@click.argument("name")
@YES
def disable(name: str, assume_yes: bool) -> None:
    """NAME can no longer log in, their dashboard sessions end, they leave the recipient
    manifest and every team, and their copies of case keys are deleted (so they open no
    case, even one they read before). What they already read or copied cannot be taken back
    (docs/threat-model.md)."""
    from caseworker import disable_user
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        done = _manifest_change(
            assume_yes,
            lambda db, s, home, key, confirm: disable_user(
                db, name, key, home.admin_public(), confirm, home.manifest_pin()
            ),
        )
        click.echo(
            f"Disabled '{name}': {done.keys_deleted} wrapped case key(s) deleted; "
            f"published recipient manifest version {done.manifest_version}."
        )
        if done.recovery_only:
            click.echo(
                "These cases can now be opened only with the organisation recovery "
                f"key: {', '.join(done.recovery_only)}"
            )

    run()


@users.command("passwd")
@click.argument("name")
def passwd(name: str) -> None:
    """A new passphrase for NAME: the private key is re-wrapped (current passphrase from
    SANAD_PASSPHRASE or a prompt, the new one from SANAD_NEW_PASSPHRASE or a prompt)."""
    from caseworker import change_passphrase
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database

    @friendly_errors
    def run() -> None:
        current = _secret("SANAD_PASSPHRASE", f"Current passphrase of {name}")
        new = _secret("SANAD_NEW_PASSPHRASE", f"New passphrase of {name}", confirm=True)
        with _home_database() as (settings, _, db):
            change_passphrase(db, name, current, new, settings.user_kdf)
        click.echo(f"The passphrase of '{name}' was changed; the old one no longer works.")

    run()


@users.command("gender")
@click.argument("name")
@click.argument("gender", type=click.Choice(["woman", "man", "none"]))
def set_gender(name: str, gender: str) -> None:
    """Record NAME as a woman or a man caseworker ("none": not recorded), so that a report
    whose reporter asked for a woman (or a man) caseworker is offered first to one by
    "claim next" (issue 18). Audited; grants nothing."""
    from datetime import UTC, datetime

    from cli._common import friendly_errors
    from cli._common import home_database as _home_database
    from storage import accounts

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _home, db), db.transaction() as session:
            user = accounts.get_user(session, name)
            if user is None:
                raise accounts.AccountError(f"no account named '{name}'")
            user.gender = None if gender == "none" else gender
            accounts.audit(
                session,
                "admin",
                "user.gender",
                None,
                "granted",
                datetime.now(UTC),
                user=name,
                gender=gender,
            )
        click.echo(f"'{name}' is recorded as: {gender}.")

    run()


@users.command("reset-totp")
@click.argument("name")
def reset_totp(name: str) -> None:
    """A new TOTP secret for NAME (SANAD_TOTP_SECRET or generated, shown once): the old codes
    stop working and NAME enrols the new one. Needs the administrator's passphrase
    (SANAD_ADMIN_PASSPHRASE or a prompt)."""
    from caseworker import load_admin_key
    from caseworker import reset_totp as reset
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database
    from storage import accounts, crypto

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, home, db):
            pem = home.offline / "admin-signing.pem"
            if not pem.exists():
                raise accounts.AccountError(f"the administrator's signing key is not at {pem}")
            key = load_admin_key(
                pem.read_bytes(),
                _secret("SANAD_ADMIN_PASSPHRASE", "Administrator passphrase (signing key)"),
            )
            if key.public_key().public_bytes_raw() != home.admin_public():
                raise crypto.ManifestError("that signing key is not the pinned administrator key")
            secret, generated = reset(db, name, os.environ.get("SANAD_TOTP_SECRET"))
        click.echo(f"The TOTP secret of '{name}' was reset; the old codes no longer work.")
        if generated:
            show_totp(name, secret)
        else:
            click.echo("TOTP secret: taken from SANAD_TOTP_SECRET.")

    run()


@click.group()
def teams() -> None:
    """Teams: who reports routed by SANAD_HOME/config/routing.yaml are sealed to."""


@teams.command("add")
@click.argument("name")
@YES
def add_team(name: str, assume_yes: bool) -> None:
    """A new (empty) team in a newly signed recipient manifest; add members with
    `sanad users add/set NAME --team TEAM`."""
    from caseworker import add_team as add_it
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        version = _manifest_change(
            assume_yes,
            lambda db, s, home, key, confirm: add_it(
                db, name, key, home.admin_public(), confirm, home.manifest_pin()
            ),
        )
        click.echo(f"Created the team '{name}'; published recipient manifest version {version}.")

    run()


@teams.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (contracts.md).")
def list_teams(as_json: bool) -> None:
    """Teams and their members, as the signed manifest has them."""
    from caseworker import list_teams as read

    _reading(as_json, read)
