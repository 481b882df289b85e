"""`sanad keys export-offline DIR`: move the offline private keys off this server."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """The organisation's offline keys."""


@keys.command("export-offline")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def export_offline(target: Path) -> None:
    """Move recovery.pem and admin-signing.pem from SANAD_HOME/offline to TARGET (e.g. a
    removable disk): each is copied, read back and compared, then overwritten and deleted
    here (review finding 4). Bring admin-signing.pem back only while adding a reader."""
    from cli._common import settings as _settings
    from intake import Home, offline_keys
    from storage import shred as _shred

    settings = _settings()
    home = Home(settings.home)
    home.require()
    target = target.expanduser().resolve()
    if target == settings.home.resolve() or settings.home.resolve() in target.parents:
        click.echo("sanad: TARGET must be outside SANAD_HOME (somewhere off this server)", err=True)
        raise SystemExit(2)
    found = offline_keys(home)
    if not found:
        click.echo(f"No private keys in {home.offline}: nothing to move.")
        return
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in found:
        dest = target / path.name
        if dest.exists():
            click.echo(f"sanad: {dest} exists already; nothing was moved", err=True)
            raise SystemExit(2)
    for path in found:
        data = path.read_bytes()
        dest = target / path.name
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if dest.read_bytes() != data:
            click.echo(f"sanad: the copy {dest} does not read back; {path} was kept", err=True)
            raise SystemExit(2)
        _shred(path)
        click.echo(f"Moved {path.name} to {dest}")
    click.echo("Keep them offline; their passphrases separately.")
