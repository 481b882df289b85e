"""`sanad audit verify`: check the hash chain of the audit log."""

from __future__ import annotations

import sys

import click

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


CHECKPOINT_PREFIX = b"sanad/v1/audit-checkpoint|"


@audit.command("checkpoint")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="Where to write the signed checkpoint (keep it outside this server, on "
    "append-only storage); - for stdout.",
)
def checkpoint(out: str) -> None:
    """Export a signed checkpoint of the audit log (head hash and count), for
    `sanad audit verify --checkpoint FILE` to detect truncation and rewrites later. Signed
    with the home's backup key (certified once by the administrator, see `sanad backup`)."""
    import json
    from datetime import UTC, datetime

    from cli._common import UserFacingError, friendly_errors
    from cli._common import settings as _settings
    from intake import BackupError, Home, backup_signer, open_database, sign_document
    from storage import audit_chain

    @friendly_errors
    def run() -> None:
        settings = _settings()
        home = Home(settings.home)
        home.require()
        try:
            signer = backup_signer(home.keys)
        except BackupError as exc:
            raise UserFacingError(f"{exc}; run `sanad backup` once first") from exc
        db = open_database(settings)
        try:
            with db.transaction() as session:
                try:
                    point = audit_chain.checkpoint(session, datetime.now(UTC))
                except ValueError as exc:
                    raise UserFacingError(f"no checkpoint of a broken log: {exc}") from exc
        finally:
            db.dispose()
        text = json.dumps(sign_document(signer, point, CHECKPOINT_PREFIX), sort_keys=True)
        if out == "-":
            click.echo(text)
        else:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            click.echo(f"Checkpoint of {point['entries']} entries written to {out}.", err=True)

    run()


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A checkpoint from `sanad audit checkpoint`: the log must still hold everything it saw.",
)
def verify(checkpoint_file: str | None) -> None:
    """Check every entry's hash and link; name the first broken entry (exit code 1)."""
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import Home, open_database
    from storage import audit_chain

    @friendly_errors
    def run() -> None:
        settings = _settings()
        Home(settings.home).require()
        db = open_database(settings)
        try:
            if not db.is_current():
                db.migrate()
            with db.transaction() as session:
                if checkpoint_file is None:
                    result = audit_chain.verify(session)
                else:
                    result = audit_chain.verify_against(
                        session, _checkpoint(checkpoint_file, Home(settings.home))
                    )
        finally:
            db.dispose()
        if result.ok:
            click.echo(result.message())
            return
        click.echo(result.message(), err=True)
        sys.exit(1)

    run()


def _checkpoint(path: str, home: object) -> dict[str, object]:
    """A checkpoint file's content, if its signature verifies for the pinned admin key."""
    import json

    from cli._common import UserFacingError
    from intake import BackupError, Home, verify_document

    assert isinstance(home, Home)
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
        return verify_document(document, home.admin_public(), CHECKPOINT_PREFIX)
    except (ValueError, BackupError) as exc:
        raise UserFacingError(f"the checkpoint {path} is not valid: {exc}") from exc
