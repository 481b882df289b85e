"""`sanad users add NAME --role ...`: an account with its key pair and TOTP enrolment."""

from __future__ import annotations

import os
from typing import Any

import click

__all__ = ["show_totp", "users"]


def show_totp(name: str, secret: str) -> None:
    """Show a TOTP secret once: as text and as a QR code for an authenticator app."""
    from caseworker.dashboard import totp_uri
    from caseworker.users import terminal_qr

    uri = totp_uri(secret, name)
    click.echo(f"TOTP secret of '{name}' (shown once; add it to an authenticator app): {secret}")
    click.echo(terminal_qr(uri))
    click.echo(uri)


def _secret(variable: str, prompt: str, confirm: bool = False) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def _confirm(recipients: list[Any], assume_yes: bool) -> bool:
    """Show every recipient of new reports with its key fingerprint; ask unless --yes."""
    from storage import accounts

    click.echo("New reports will be sealed to these keys (check each fingerprint):")
    for r in sorted(recipients, key=lambda r: r.label):
        click.echo(f"  {r.label:<32} {accounts.fingerprint(r.public_key)}")
    if assume_yes:
        return True
    return bool(click.confirm("Sign this recipient list?", default=False))


@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["caseworker", "supervisor", "admin", "auditor", "custodian"]))
@click.option("--yes", "assume_yes", is_flag=True,
              help="Confirm the new recipient list without asking (for scripts).")
def add(name: str, role: str, assume_yes: bool) -> None:
    """Create NAME with a key pair (passphrase: SANAD_PASSPHRASE or a prompt) and a TOTP
    secret (SANAD_TOTP_SECRET or a new one, shown once). A caseworker, supervisor or
    custodian (who holds the identity keys of new reports) is added to a newly signed
    recipient manifest: that needs the administrator's passphrase
    (SANAD_ADMIN_PASSPHRASE or a prompt) for SANAD_HOME/offline/admin-signing.pem. The new
    list (the previous signed one plus NAME) is shown with key fingerprints and must be
    confirmed: --yes for scripts; with no terminal and no --yes nothing changes (exit 2)."""
    import sys

    from caseworker.users import Cancelled, add_user, load_admin_key
    from cli.main import _settings, friendly_errors
    from intake.app import open_database
    from intake.home import Home
    from storage import accounts

    @friendly_errors
    def run() -> None:
        settings = _settings()
        home = Home(settings.home)
        home.require()
        from intake.hygiene import in_tests

        if settings.insecure_fast_kdf and not in_tests():  # review finding 23
            click.echo("sanad: warning: SANAD_INSECURE_FAST_KDF=1: this account's key gets a "
                       "weak key derivation (for tests only); unset it", err=True)
        if role in accounts.SIGNED_ROLES and not assume_yes and not sys.stdin.isatty():
            click.echo("sanad: the new recipient list needs confirming: run in a terminal or "
                       "pass --yes; nothing was changed", err=True)
            raise SystemExit(2)
        passphrase = _secret("SANAD_PASSPHRASE", f"Passphrase for {name}", confirm=True)
        admin_key = None
        if role in accounts.SIGNED_ROLES:
            pem_path = home.offline / "admin-signing.pem"
            if not pem_path.exists():
                raise accounts.AccountError(
                    f"the administrator's signing key is not at {pem_path}: bring it from "
                    "offline storage to add a caseworker, supervisor or custodian")
            admin_key = load_admin_key(pem_path.read_bytes(), _secret(
                "SANAD_ADMIN_PASSPHRASE", "Administrator passphrase (signing key)"))
        db = open_database(settings)
        try:
            if not db.is_current():
                db.migrate()
            created = add_user(db, name, role, passphrase, settings.user_kdf,
                               home.admin_public(), os.environ.get("SANAD_TOTP_SECRET"),
                               admin_key, confirm=lambda rs: _confirm(rs, assume_yes),
                               pin=home.manifest_pin())
        except Cancelled:
            click.echo("sanad: not confirmed; nothing was changed", err=True)
            raise SystemExit(2) from None
        finally:
            db.dispose()
        click.echo(f"Created the {role} account '{name}'.")
        if created.manifest_version is not None:
            what = ("the identity sections (names, contact details) of new reports are "
                    "sealed to this custodian too" if role == accounts.CUSTODIAN
                    else "new reports are sealed to this account too")
            click.echo(f"Published recipient manifest version {created.manifest_version}: "
                       f"{what}.")
        if created.totp_generated:
            show_totp(name, created.totp_secret)
        else:
            click.echo("TOTP secret: taken from SANAD_TOTP_SECRET.")
    run()
