"""`sanad audit verify`: check the hash chain of the audit log."""

from __future__ import annotations

import sys

import click

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def verify() -> None:
    """Check every entry's hash and link; name the first broken entry (exit code 1)."""
    from cli.main import _settings, friendly_errors
    from intake.app import open_database
    from intake.home import Home
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
                result = audit_chain.verify(session)
        finally:
            db.dispose()
        if result.ok:
            click.echo(result.message())
            return
        click.echo(result.message(), err=True)
        sys.exit(1)
    run()
