"""`sanad report periodic` (the annual or periodic report) and `sanad export uwazi|openevsys`
(consent-gated exports for HURIDOCS tools): the same functions the dashboard calls."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

__all__ = ["export", "report", "write_private"]


def write_private(path: Path, data: bytes) -> None:
    """Write the file the user asked for, readable by them only (0600), created afresh: the
    one place plaintext may reach the disk."""
    path = path.expanduser()
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


@click.group()
def report() -> None:
    """Reports for the chair and the public, from consented statistics only."""


@report.command("periodic")
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--lang", type=click.Choice(["ar", "en"]), default="en", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "csv"]), default="csv", show_default=True
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write.",
)
@click.option(
    "--as",
    "username",
    default=None,
    help="The supervisor, auditor or admin producing it (passphrase from "
    "SANAD_PASSPHRASE or a prompt); recorded in the audit log.",
)
def periodic(start: str, end: str, lang: str, fmt: str, out: Path, username: str | None) -> None:
    """The periodic report (San José Guidelines 15, 25, 32-33) for whole months of the
    period: counts only, suppressed as on the dashboard; nothing is decrypted. Audited."""
    from caseworker import reports
    from cli._common import UserFacingError, friendly_errors
    from cli._common import home_database as _home_database
    from cli._common import passphrase as _passphrase

    @friendly_errors
    def run() -> None:
        try:
            first, last = reports.parse_period(start, end)
        except reports.PeriodError as exc:
            raise UserFacingError(str(exc)) from exc
        with _home_database() as (_, _home, db):
            actor, role = "cli", "supervisor"  # holding the home is reading the database
            if username is not None:
                from storage import CryptoError, accounts

                with db.transaction() as session:
                    user = accounts.get_user(session, username)
                    if user is None:
                        raise UserFacingError(f"unknown user '{username}'")
                    try:
                        accounts.unlock(user, _passphrase())
                    except CryptoError as exc:
                        raise UserFacingError(f"wrong passphrase for '{username}'") from exc
                    actor, role = user.name, user.role
            now = datetime.now(UTC)
            try:
                result = reports.periodic_report(db, actor, role, first, last, now, channel="cli")
            except PermissionError as exc:
                raise UserFacingError(str(exc)) from exc
        if fmt == "csv":
            data = reports.report_csv(result).encode("utf-8")
        else:
            from caseworker import Translator
            from web import PdfUnavailable, report_pdf

            try:
                data = report_pdf(result, Translator(lang), now)
            except PdfUnavailable as exc:
                raise UserFacingError(str(exc)) from exc
        write_private(out, data)
        click.echo(
            f"Wrote the report for {result.first_month} to {result.last_month} "
            f"({fmt}, {lang}) to {out}."
        )

    run()


@report.command("recount")
def recount() -> None:
    """Write every consented report's casework into its statistics row again (steps taken,
    State answers, time to first assessment) from the case's actions and events: needed once
    after upgrading from a version whose statistics rows kept none; safe to repeat. Reads
    no sealed content; shows its progress."""
    from sqlalchemy import select

    from cli._common import friendly_errors
    from cli._common import home_database as _home_database
    from storage import Case
    from storage import statistics as stat_rows

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, home, db):
            pepper = home.pepper()
            with db.transaction() as session:
                ids = list(session.scalars(select(Case.id).order_by(Case.received_at)))
            kept = 0
            with click.progressbar(
                length=len(ids), label="Recounting the casework", file=sys.stderr
            ) as bar:
                for start in range(0, len(ids), 500):  # one short transaction per 500 cases
                    chunk = ids[start : start + 500]
                    with db.transaction() as session:
                        for case in session.scalars(select(Case).where(Case.id.in_(chunk))):
                            kept += stat_rows.refresh_casework(session, pepper, case)
                    bar.update(len(chunk))
        click.echo(f"Recounted {kept} report(s) with consent to statistics, of {len(ids)} case(s).")

    run()


@click.group()
def export() -> None:
    """Consent-gated exports of cases for partner systems (docs/exports.md)."""


def _export(kind: str, username: str, out: Path, start: str | None, end: str | None) -> None:
    from caseworker import exports, reports
    from cli._common import UserFacingError, friendly_errors
    from cli._common import home_database as _home_database
    from cli._common import passphrase as _passphrase
    from storage import CryptoError, accounts

    @friendly_errors
    def run() -> None:
        try:
            first = reports.parse_period(start, start)[0] if start else None
            last = reports.parse_period(end, end)[1] if end else None
        except reports.PeriodError as exc:
            raise UserFacingError(str(exc)) from exc
        if first and last and last < first:
            raise UserFacingError("the period ends before it starts")
        with _home_database() as (_, _, db):
            with db.transaction() as session:
                user = accounts.get_user(session, username)
                if user is None:
                    raise UserFacingError(f"unknown user '{username}'")
                try:
                    private = accounts.unlock(user, _passphrase())
                except CryptoError as exc:
                    raise UserFacingError(f"wrong passphrase for '{username}'") from exc
                who = exports.Exporter(user.name, user.role, bytes(user.key_id), private)
            try:
                result = exports.export_cases(db, who, kind, first, last)
            except PermissionError as exc:
                raise UserFacingError(str(exc)) from exc
        write_private(out, result.data)
        click.echo(f"Wrote {out}: {result.summary()}.")

    run()


def _export_command(kind: str, what: str) -> click.Command:
    @click.command(
        kind,
        help=f"{what} Only cases whose reporter consented to referral or "
        "publication (sealed records), read with USER's key; identity only with "
        "consent to share it. Audited per case; FILE is written 0600.",
    )
    @click.option("--as", "username", required=True, help="The supervisor exporting.")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--from", "start", default=None, help="Received on or after, YYYY-MM-DD.")
    @click.option("--to", "end", default=None, help="Received on or before, YYYY-MM-DD.")
    def command(username: str, out: Path, start: str | None, end: str | None) -> None:
        _export(kind, username, out, start, end)

    return command


export.add_command(_export_command("uwazi", "Uwazi entities as CSV (docs/exports.md)."))
export.add_command(
    _export_command(
        "openevsys", "OpenEvSys events, acts, victims and perpetrators as JSON (docs/exports.md)."
    )
)
