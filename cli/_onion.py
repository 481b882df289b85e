"""`sanad onion torrc`: the Tor configuration that puts the web chat behind an onion service.

The output is a torrc for Debian's `tor` (docs/onion.md): a v3 onion service whose port 80
goes to the web chat on the loopback, no SOCKS port (this tor only publishes the service),
Tor's own proof-of-work defence for onion services (clients solve a puzzle only when the
service is under load: a rate limit that needs no IP address, done by Tor Browser, not by the
page's JavaScript) and the introduction-point DoS defence.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["onion", "torrc", "torrc_for"]


def torrc_for(
    hidden_service_dir: Path,
    port: int = 8090,
    host: str = "127.0.0.1",
    data_dir: Path | None = None,
    pow_defence: bool = True,
    max_streams: int = 64,
) -> str:
    """The torrc text. `data_dir`: a DataDirectory for a tor of its own (None: the system
    tor's, when the text is appended to /etc/tor/torrc or dropped into torrc.d)."""
    if not 0 < port < 65536:
        raise ValueError(f"the web chat port must be between 1 and 65535, not {port}")
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("the web chat must listen on the loopback (127.0.0.1) behind Tor")
    lines = ["# Sanad web chat as an onion service (sanad onion torrc; docs/onion.md)."]
    if data_dir is not None:
        lines += [f"DataDirectory {data_dir}", "SocksPort 0", "ClientOnly 1"]
    lines += [
        f"HiddenServiceDir {hidden_service_dir}",
        "HiddenServiceVersion 3",
        f"HiddenServicePort 80 {'[::1]' if host == '::1' else '127.0.0.1'}:{port}",
        # One circuit may not open endless streams (page loads) at once.
        f"HiddenServiceMaxStreams {max_streams}",
        "HiddenServiceMaxStreamsCloseCircuit 1",
        # Rate limits without addresses: introduction requests are limited at the
        # introduction points, and under load clients must solve Tor's proof-of-work.
        "HiddenServiceEnableIntroDoSDefense 1",
    ]
    if pow_defence:
        lines.append("HiddenServicePoWDefensesEnabled 1")
    return "\n".join(lines) + "\n"


@click.group()
def onion() -> None:
    """The web chat as a Tor onion service (docs/onion.md)."""


@onion.command("torrc")
@click.option(
    "--hidden-service-dir",
    default="/var/lib/tor/sanad-webchat",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where tor keeps the onion service's keys.",
)
@click.option(
    "--port",
    default=8090,
    show_default=True,
    type=int,
    help="The port `sanad run webchat` listens on (127.0.0.1).",
)
@click.option(
    "--data-dir",
    default=None,
    type=click.Path(path_type=Path),
    help="A DataDirectory for a tor process of its own (omit for the system tor).",
)
@click.option("--no-pow", is_flag=True, help="Leave out the proof-of-work defence (tor < 0.4.8).")
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(path_type=Path),
    help="Write to this file (0600) instead of printing.",
)
def torrc(
    hidden_service_dir: Path, port: int, data_dir: Path | None, no_pow: bool, out: Path | None
) -> None:
    """Print (or write) the torrc lines for the web chat's onion service."""
    try:
        text = torrc_for(hidden_service_dir, port, data_dir=data_dir, pow_defence=not no_pow)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if out is None:
        click.echo(text, nl=False)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    click.echo(f"sanad: wrote {out}; check it with: tor --verify-config -f {out}", err=True)
