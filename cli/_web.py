"""`sanad web`: the caseworker dashboard on 127.0.0.1 by default."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["build_web_app", "web"]


def build_web_app(settings: object, secure_cookies: bool = False) -> Any:
    from caseworker import Dashboard
    from intake import Home, Settings, build_intake, open_database
    from web import create_app

    assert isinstance(settings, Settings)
    home = Home(settings.home)
    home.require()
    db = open_database(settings)
    if not db.is_current():
        db.migrate()
    dashboard = Dashboard(
        db,
        home.admin_public(),
        settings.objects(),
        pepper=home.pepper(),
        manifest_pin=home.keys / "manifest-version",
        user_kdf=settings.user_kdf,
        home=settings.home,
    )
    dashboard.intake = build_intake(settings, db)  # reports taken by caseworkers
    return create_app(
        dashboard,
        secure_cookies=secure_cookies,
        trusted_proxies=settings.trusted_proxies,
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        session_store_url=settings.session_store_url,
    )


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it local; put a TLS proxy in front and name it "
    "in SANAD_TRUSTED_PROXIES).",
)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Mark the session cookie Secure (when served over HTTPS by a proxy).",
)
def web(host: str, port: int, secure_cookies: bool) -> None:
    """The caseworker dashboard: queue, cases, audit log, statistics (Arabic and English)."""
    import uvicorn

    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import setup_logging

    @friendly_errors
    def run() -> None:
        settings = _settings()
        from intake import harden

        harden(settings)
        setup_logging(settings)
        app = build_web_app(settings, secure_cookies)
        click.echo(f"Sanad dashboard on http://{host}:{port}/login", err=True)
        uvicorn.run(
            app, host=host, port=port, access_log=False, server_header=False, log_level="warning"
        )

    run()
