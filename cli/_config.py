"""`sanad config check`: validate every configuration file an operator may change.

CONFIG_FILES is the registry: a name, the files of that kind a home uses, and a checker that
returns problems (anything with `file`, `line`, `message`, an optional `severity` of "error"
or "warning", and a readable `str()`). Adding a kind of file is one `register(...)` call next
to its loader, e.g. for the support directory:

    register(ConfigFile("directory", directory.paths_in_use, directory.check_directory))
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import click

__all__ = ["CONFIG_FILES", "ConfigFile", "Problem", "config", "register", "run_checks"]


class Problem(Protocol):
    file: str
    line: int | None
    message: str


@dataclass(frozen=True)
class ConfigFile:
    name: str
    paths: Callable[[Path], list[Path]]  # home -> the files of this kind it uses
    check: Callable[[Path], Sequence[Any]]  # one file -> its problems (Problem)


def _flows_paths(home: Path) -> list[Path]:
    from flows import default_root

    return [default_root()]


def _flows_check(path: Path) -> Sequence[Any]:
    from flows import FlowValidationError, load_flowset

    try:
        load_flowset(path)
    except FlowValidationError as exc:
        return exc.problems
    return []


@dataclass(frozen=True)
class _TextProblem:
    """A problem reported as a 'file:line: message' string (intake.support.ConfigError)."""

    file: str
    line: int | None
    message: str

    @classmethod
    def parse(cls, path: Path, text: str) -> _TextProblem:
        rest = text[len(str(path)) :] if text.startswith(str(path)) else f": {text}"
        head, _, tail = rest[1:].partition(":")
        if head.isdigit():
            return cls(str(path), int(head), tail.strip())
        return cls(str(path), None, rest.lstrip(": "))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: error: {self.message}"


def _support_file(name: str) -> ConfigFile:
    """guidance.yaml / directory.yaml, checked by the same loader the intake runs at start."""

    def paths(home: Path) -> list[Path]:
        from intake import config_path

        return [config_path(home, name)]

    def check(path: Path) -> Sequence[Any]:
        from intake import DEFAULTS, ConfigError, Directory, Guidance

        home = None if path.parent == DEFAULTS else path.parent.parent
        loader = Guidance if name == "guidance.yaml" else Directory
        try:
            loader.load(home)
        except ConfigError as exc:
            return [_TextProblem.parse(path, p) for p in exc.problems]
        return []

    return ConfigFile(name.removesuffix(".yaml"), paths, check)


def _oncall_paths(home: Path) -> list[Path]:
    from alerts import oncall_path

    return [oncall_path(home)]


def _oncall_check(path: Path) -> Sequence[Any]:
    from alerts import check_oncall

    return check_oncall(path, os.environ)  # unset secrets are warnings, not errors


def _routing_paths(home: Path) -> list[Path]:
    from intake import EXAMPLE, routing_path

    live = routing_path(home)
    return [live if live.exists() else EXAMPLE]


def _known_teams(path: Path) -> set[str] | None:
    """The teams of the home's signed manifest, when the home and its database are there."""
    from intake import EXAMPLE

    if path == EXAMPLE:
        return None
    try:
        from cli._common import settings as _settings
        from intake import Home, open_database
        from storage import accounts

        settings = _settings()
        home = Home(settings.home)
        if not home.is_initialised():
            return None
        db = open_database(settings)
        try:
            with db.transaction() as session:
                return set(accounts.verified_manifest(session, home.admin_public()).teams)
        finally:
            db.dispose()
    except Exception:  # no database or no manifest yet: check the file alone
        return None


def _routing_check(path: Path) -> Sequence[Any]:
    from intake import check_routing

    return check_routing(path, _known_teams(path))


CONFIG_FILES: list[ConfigFile] = [
    ConfigFile("flows", _flows_paths, _flows_check),
    _support_file("guidance.yaml"),
    _support_file("directory.yaml"),
    ConfigFile("oncall", _oncall_paths, _oncall_check),
    ConfigFile("routing", _routing_paths, _routing_check),
]


def _torrc_paths(home: Path) -> list[Path]:
    from cli._channel_config import torrc_paths

    return torrc_paths(home)


def _torrc_check(path: Path) -> Sequence[Any]:
    from cli._channel_config import check_torrc

    return check_torrc(path)


CONFIG_FILES.append(ConfigFile("torrc", _torrc_paths, _torrc_check))


def _child_rules_paths(home: Path) -> list[Path]:
    from caseworker import RULES_FILE

    return [RULES_FILE]


def _child_rules_check(path: Path) -> Sequence[Any]:
    from caseworker import check_rules

    return check_rules(path)


# Mandatory reporting of harm to a child per country (issue 18 item 5): example rules until
# an operator's legal advisers verify them, each one a warning here.
CONFIG_FILES.append(ConfigFile("children", _child_rules_paths, _child_rules_check))


def register(entry: ConfigFile) -> None:
    """Add a kind of configuration file to `sanad config check` (a name is checked once)."""
    CONFIG_FILES[:] = [e for e in CONFIG_FILES if e.name != entry.name] + [entry]


def severity(problem: Any) -> str:
    return str(getattr(problem, "severity", "error"))


def run_checks(home: Path) -> list[tuple[str, Path, Sequence[Any]]]:
    """Every registered file of `home`, with its problems."""
    results = []
    for entry in CONFIG_FILES:
        for path in entry.paths(home):
            results.append((entry.name, path, entry.check(path)))
    return results


@click.group()
def config() -> None:
    """Configuration files: flows, guidance, support directory, on-call rota and routes,
    team routing."""


@config.command("check")
def check() -> None:
    """Validate every configuration file in use; problems name the file and line. Exit 1 when
    any has an error (warnings, such as an unset environment variable, do not fail)."""
    from alerts import DEFAULT_ONCALL, live_oncall_path
    from cli._common import settings as _settings

    home = _settings().home
    errors = warnings = 0
    for name, path, problems in run_checks(home):
        status = "ok" if not any(severity(p) == "error" for p in problems) else "FAILED"
        click.echo(f"{status:<6} {name:<10} {path}")
        if path == DEFAULT_ONCALL:
            click.echo(
                f"       (the shipped example: copy it to {live_oncall_path(home)} and edit it)"
            )
        for problem in problems:
            click.echo(f"  {problem}")
            errors += severity(problem) == "error"
            warnings += severity(problem) != "error"
    settings = _settings()  # a malformed SANAD_OBJECT_STORE_URL stops here, in one line
    if settings.object_store_url:  # only a shared store can be unreachable from here
        from storage import ObjectStoreError

        try:
            settings.objects().check()
            click.echo(f"{'ok':<6} {'objects':<10} {settings.object_store_url}")
        except ObjectStoreError as exc:
            click.echo(f"{'FAILED':<6} {'objects':<10} {exc}")
            errors += 1
    from cli._channel_config import channel_lines

    for item in channel_lines(os.environ):  # web chat, WhatsApp, voice (issue 19)
        click.echo(f"{item.status:<6} {item.name:<10} {item.detail}")
        errors += item.status == "FAILED"
        warnings += item.status == "warn"
    from intake import warnings_for

    for line in warnings_for(settings):  # keys still here, the test-only fast KDF
        click.echo(f"warning: {line}")
        warnings += 1
    click.echo(f"{errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(1)
