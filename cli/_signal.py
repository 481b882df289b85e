"""`sanad run signal`: the Signal channel as a long-running command.

To become `sanad run signal` once the `run` group (with `run telegram`) is on main.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from bot import SignalConfig
    from intake import IntakeService

__all__ = ["run_signal"]


@click.command("signal")
@click.option("-v", "--verbose", is_flag=True, help="Debug-level operational log.")
def run_signal(verbose: bool) -> None:
    """Serve reporters on Signal through a signal-cli-rest-api in json-rpc mode.

    Settings from the environment: SANAD_SIGNAL_SERVICE (host:port, no scheme),
    SANAD_SIGNAL_NUMBER (the bot's registered number), SANAD_SIGNAL_DISAPPEAR_SECONDS
    (disappearing-messages timer set for each conversation; default 86400, 0 leaves it alone).
    """
    from bot import SignalConfig, SignalUnavailable, redact_library_logs
    from cli._common import UserFacingError, friendly_errors
    from cli._common import settings as _settings
    from intake import Home, build_intake, setup_logging
    from jobs import channel_runner

    @friendly_errors
    def run() -> None:
        settings = _settings()
        from intake import harden

        harden(settings)
        config = SignalConfig.from_env(os.environ, settings.max_attachment_bytes)
        setup_logging(settings, verbose)
        redact_library_logs()  # library records reach stderr without their arguments
        service = build_intake(settings)
        # Retention (once across hosts on PostgreSQL), the alerts watchdog, a heartbeat.
        # The outbox too: this channel's queue of delivery jobs (started with the channel).
        purging = channel_runner(service, "signal")
        try:
            asyncio.run(_serve(config, service, Home(settings.home).pepper(), purging))
        except SignalUnavailable as exc:
            raise UserFacingError(str(exc)) from exc
        finally:
            purging.stop()
            service.db.dispose()

    run()


async def _serve(
    config: SignalConfig, service: IntakeService, pepper: bytes, jobs: Any = None
) -> None:
    from bot import SignalChannel

    channel = SignalChannel(config, service, pepper, jobs=jobs)
    await channel.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    click.echo(f"Serving Signal through {config.service}. Stop with Ctrl+C.", err=True)
    serving = asyncio.create_task(channel.serve_forever())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        await channel.stop()
        serving.cancel()
        await asyncio.gather(serving, stopping, return_exceptions=True)
    click.echo("Stopped.", err=True)
