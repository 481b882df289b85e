"""Helpers every `sanad` command shares: the one-line errors, the settings, the home and its
database, secrets from the environment or a prompt."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from intake import Settings, SettingsError

if TYPE_CHECKING:
    from intake import Home
    from storage import Database

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "UserFacingError",
    "friendly_errors",
    "home_database",
    "passphrase",
    "secret",
    "settings",
]


class UserFacingError(click.ClickException):
    """A problem the person can fix: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"sanad: {self.message}", err=True)


def friendly_errors(func: F) -> F:
    """Turn the project's expected errors into one clear line and exit code 2.

    Every one of them is a `core.SanadError`; the classes that get their own wording are
    imported only once one is raised, so that decorating a command costs nothing (`sanad
    --help` must not load SQLAlchemy, the flows or the caseworkers' side)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from core import SanadError

        try:
            return func(*args, **kwargs)
        except SanadError as exc:  # any error the project raises on purpose: one line
            raise UserFacingError(_one_line(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _one_line(exc: Exception) -> str:
    from flows import FlowValidationError
    from storage import CryptoError

    if isinstance(exc, CryptoError):
        return f"the keys or signed data do not verify: {exc}"
    if isinstance(exc, FlowValidationError):
        return f"the flows are not valid:\n{exc}"
    return str(exc) or type(exc).__name__


def settings() -> Settings:
    """The settings from the environment, or one line saying what is wrong with them."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise UserFacingError(str(exc)) from exc


@contextmanager
def home_database() -> Iterator[tuple[Settings, Home, Database]]:
    """The settings, the (required) home and its database, disposed of afterwards."""
    from intake import Home, open_database

    current = settings()
    home = Home(current.home)
    home.require()
    db = open_database(current)
    try:
        yield current, home, db
    finally:
        db.dispose()


def secret(variable: str, prompt: str, confirm: bool = False) -> str:
    """A passphrase from `variable` in the environment, or asked for without echo."""
    value = os.environ.get(variable)
    if value:
        return value
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def passphrase() -> str:
    """The caseworker's passphrase: SANAD_PASSPHRASE or a prompt."""
    return secret("SANAD_PASSPHRASE", "Passphrase")
