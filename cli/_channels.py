"""`sanad run telegram`: the messaging channels as long-running commands.

Errors a person can fix (no token, a refused token, an unreachable API) are one sentence on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from urllib.parse import urlsplit

import click

from cli._signal import run_signal

__all__ = ["run", "telegram", "webchat", "whatsapp"]


class _SetupFailed(click.ClickException):
    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"sanad: {self.message}", err=True)


@click.group("run")
def run() -> None:
    """Run a messaging channel (Telegram) until stopped (Ctrl-C or SIGTERM)."""


@run.command("telegram")
@click.option(
    "--webhook",
    "webhook_url",
    default=None,
    metavar="URL",
    help="Receive updates on this public HTTPS URL (default: long polling).",
)
@click.option(
    "--listen",
    default="127.0.0.1",
    show_default=True,
    help="Webhook mode: address the local server listens on.",
)
@click.option(
    "--port",
    default=8443,
    show_default=True,
    type=int,
    help="Webhook mode: port the local server listens on.",
)
def telegram(webhook_url: str | None, listen: str, port: int) -> None:
    """Serve reporters on Telegram: SANAD_TELEGRAM_TOKEN, SANAD_TELEGRAM_BASE_URL."""
    from bot import (
        TelegramChannel,
        TelegramSettings,
        TelegramSetupError,
        WebhookConfig,
        redact_library_logs,
    )
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import build_intake, setup_logging
    from jobs import channel_runner

    @friendly_errors
    def start() -> None:
        settings = _settings()
        from intake import harden

        harden(settings)
        try:
            tg = TelegramSettings.from_env(max_file_bytes=settings.max_attachment_bytes)
        except TelegramSetupError as exc:
            raise _SetupFailed(str(exc)) from exc
        webhook = None
        if webhook_url:
            if urlsplit(webhook_url).scheme not in ("http", "https"):
                raise _SetupFailed("--webhook needs a URL such as https://example.org/telegram")
            webhook = WebhookConfig(webhook_url, listen, port)
        setup_logging(settings)
        redact_library_logs()  # library records (PTB logs unparsable updates whole): no content
        # PTB 22's documented opt-in to timedelta time periods (else it warns on every 429).
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        # Library loggers name the token in request URLs at INFO: keep them at warnings.
        for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "tornado.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        service = build_intake(settings)
        # Retention (once across hosts on PostgreSQL), the alerts watchdog, a heartbeat.
        # The outbox too: this channel's queue of delivery jobs (started with the channel).
        purging = channel_runner(service, "telegram")
        channel = TelegramChannel(service, tg, webhook, jobs=purging)
        try:
            asyncio.run(_serve(channel))
        except TelegramSetupError as exc:
            raise _SetupFailed(str(exc)) from exc
        finally:
            purging.stop()
            service.db.dispose()

    start()


async def _serve(channel: object) -> None:
    from bot import TelegramChannel

    assert isinstance(channel, TelegramChannel)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await channel.run(
        stop,
        on_ready=lambda: click.echo(
            "sanad: the Telegram channel is running (Ctrl-C to stop)", err=True
        ),
    )


@run.command("webchat")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it local: Tor or a TLS proxy sits in front).",
)
@click.option("--port", default=8090, show_default=True, type=int)
def webchat(host: str, port: int) -> None:
    """Serve reporters on a web page that works with JavaScript off (Tor Browser)."""
    from bot import WebchatSettings, WebchatSetupError, create_app
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import build_intake, setup_logging
    from jobs import channel_runner

    @friendly_errors
    def start() -> None:
        import uvicorn

        settings = _settings()
        from intake import harden

        harden(settings)
        try:
            chat = WebchatSettings.from_env()
        except WebchatSetupError as exc:
            raise _SetupFailed(str(exc)) from exc
        setup_logging(settings)
        # No access log: request lines would tie times to pages, and nothing else is needed.
        for noisy in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        service = build_intake(settings)
        purging = channel_runner(service, "webchat").start()
        click.echo(f"sanad: the web chat is at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
        try:
            uvicorn.run(
                create_app(service, chat),
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                server_header=False,
                date_header=False,
                lifespan="off",
                ws="none",
            )
        except OSError as exc:
            raise _SetupFailed(f"cannot listen on {host}:{port} ({exc.strerror})") from exc
        finally:
            purging.stop()
            service.db.dispose()

    start()


@run.command("whatsapp")
@click.option(
    "--listen",
    default="127.0.0.1",
    show_default=True,
    help="Address the webhook server listens on (a TLS proxy sits in front).",
)
@click.option("--port", default=8444, show_default=True, type=int)
def whatsapp(listen: str, port: int) -> None:
    """Serve reporters on WhatsApp (Cloud API webhook at /whatsapp): SANAD_WHATSAPP_TOKEN,
    SANAD_WHATSAPP_PHONE_ID, SANAD_WHATSAPP_APP_SECRET, SANAD_WHATSAPP_VERIFY_TOKEN."""
    from bot import WhatsAppChannel, WhatsAppSettings, WhatsAppSetupError
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import build_intake, setup_logging
    from jobs import channel_runner

    @friendly_errors
    def start() -> None:
        import uvicorn

        settings = _settings()
        from intake import harden

        harden(settings)
        try:
            wa = WhatsAppSettings.from_env()
        except WhatsAppSetupError as exc:
            raise _SetupFailed(str(exc)) from exc
        setup_logging(settings)
        # httpx logs request URLs (media ids, phone numbers in paths): warnings only.
        for noisy in ("httpx", "httpcore", "pywa", "uvicorn.access", "uvicorn.error"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        service = build_intake(settings)
        purging = channel_runner(service, "whatsapp").start()
        channel = WhatsAppChannel(service, wa)
        click.echo(
            f"sanad: the WhatsApp webhook is at http://{listen}:{port}/whatsapp (Ctrl-C to stop)",
            err=True,
        )
        try:
            uvicorn.run(
                channel.create_app(),
                host=listen,
                port=port,
                log_level="warning",
                access_log=False,
                server_header=False,
                date_header=False,
                ws="none",
            )
        except OSError as exc:
            raise _SetupFailed(f"cannot listen on {listen}:{port} ({exc.strerror})") from exc
        finally:
            purging.stop()
            service.db.dispose()

    start()


run.add_command(run_signal, name="signal")  # sanad run signal (contracts.md)
