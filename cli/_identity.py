"""`sanad identity`: ask for, approve and refuse access to a case's protected identity
section (names, contact details). The same use cases as the dashboard (caseworker.identity);
every step is audited. Passphrase: SANAD_PASSPHRASE or a prompt."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import click

from storage import PURPOSES, REFUSAL_REASONS

__all__ = ["identity"]


@dataclass
class _Account:
    name: str
    role: str
    key_id: bytes
    private_key: Any = field(repr=False)


def _unlock(db: Any, username: str) -> _Account:
    from caseworker import AccessDenied
    from cli._common import passphrase as _passphrase
    from storage import accounts, crypto

    with db.transaction() as session:
        user = accounts.get_user(session, username)
        if user is None:
            raise AccessDenied(f"unknown user '{username}'")
        try:
            private = accounts.unlock(user, _passphrase())
        except crypto.CryptoError as exc:
            raise AccessDenied(f"wrong passphrase for '{username}'") from exc
        return _Account(user.name, user.role, bytes(user.key_id), private)


def _both(key: str, **values: Any) -> str:
    """One line in English and Arabic, from the dashboard's catalogue."""
    from caseworker import i18n

    return " / ".join(i18n.Translator(lang)(key, **values) for lang in ("en", "ar"))


def _run(action: Any) -> Any:
    from caseworker import IdentityRefused
    from cli._common import UserFacingError

    try:
        return action()
    except IdentityRefused as exc:
        raise UserFacingError(_both(f"refused.{exc.code}")) from exc


@click.group()
def identity() -> None:
    """The protected identity section of cases: request, approve, refuse."""


@identity.command("request")
@click.argument("case_ref")
@click.option("--as", "username", required=True, help="A caseworker who can open the case.")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
def request_cmd(case_ref: str, username: str, purpose: str) -> None:
    """Ask a custodian to open CASE_REF's names and contact details, for PURPOSE."""
    from caseworker import identity as cw
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _, db):
            who = _unlock(db, username)
            made = _run(lambda: cw.request(db, who, case_ref, purpose))
        click.echo(f"{made['id']}  {made['case_ref']}  {made['status']}")
        click.echo(_both("identity.requested"))

    run()


@identity.command("list")
@click.option("--as", "username", required=True, help="A custodian, or a requester.")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(username: str, as_json: bool) -> None:
    """A custodian: the requests waiting for a decision. Anyone else: their own requests
    and what became of them."""
    from caseworker import identity as cw
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database
    from storage import accounts

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _, db):
            who = _unlock(db, username)
            rows = _run(
                lambda: (
                    cw.pending(db, who)
                    if who.role == accounts.CUSTODIAN
                    else cw.my_requests(db, who)
                )
            )
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            **r,
                            "at": r["at"].isoformat() if r["at"] else None,
                            "decided_at": r["decided_at"].isoformat() if r["decided_at"] else None,
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                    indent=1,
                )
            )
            return
        if not rows:
            click.echo(_both("identity.none"))
        for r in rows:
            reason = f"  {r['reason']}" if r["reason"] else ""
            by = f"  {r['decided_by']}" if r["decided_by"] else ""
            click.echo(
                f"{r['id']}  {r['case_ref']}  {r['requester']}  {r['purpose']}  "
                f"{r['status']}{by}{reason}"
            )

    run()


@identity.command("approve")
@click.argument("request_id")
@click.option("--as", "username", required=True, help="A custodian (not the requester).")
def approve_cmd(request_id: str, username: str) -> None:
    """Open the case's identity section to the requester (their signed key)."""
    from caseworker import identity as cw
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, home, db):
            who = _unlock(db, username)
            done = _run(
                lambda: cw.approve(db, who, request_id, home.admin_public(), home.manifest_pin())
            )
        click.echo(
            _both("identity.approved", requester=done["requester"], case_ref=done["case_ref"] or "")
        )

    run()


@identity.command("refuse")
@click.argument("request_id")
@click.option("--as", "username", required=True, help="A custodian (not the requester).")
@click.option("--reason", required=True, type=click.Choice(REFUSAL_REASONS))
def refuse_cmd(request_id: str, username: str, reason: str) -> None:
    """Refuse a request; the requester sees the reason on the case and in `identity list`."""
    from caseworker import identity as cw
    from cli._common import friendly_errors
    from cli._common import home_database as _home_database

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _, db):
            who = _unlock(db, username)
            done = _run(lambda: cw.refuse(db, who, request_id, reason))
        click.echo(_both("identity.refused", requester=done["requester"]))

    run()
