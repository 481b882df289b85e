"""Every error the project raises on purpose sits in one tree, as core/errors.py draws it."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from core import SanadError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "core",
    "bot",
    "cli",
    "flows",
    "intake",
    "nlu",
    "storage",
    "web",
    "caseworker",
    "alerts",
    "jobs",
)


def _public_error_classes() -> list[tuple[str, str]]:
    """(module, class) for every public class whose name ends in Error/Unavailable/... ."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    bases = {ast.unparse(b) for b in node.bases}
                    if bases & {
                        "Exception",
                        "ValueError",
                        "RuntimeError",
                        "OSError",
                    } or node.name.endswith(("Error", "Unavailable")):
                        found.append((module.removesuffix(".__init__"), node.name))
    return found


@pytest.mark.parametrize(("module", "name"), _public_error_classes())
def test_every_public_error_is_a_sanad_error(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    # click's exceptions are how the command speaks at the edge, after the translation
    if (
        inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and not issubclass(cls, click.ClickException)
    ):
        assert issubclass(cls, SanadError), f"{module}.{name} is outside the error tree"


def test_the_tree_in_the_docstring_names_classes_that_exist() -> None:
    doc = importlib.import_module("core.errors").__doc__ or ""
    for word in doc.split():
        word = word.strip(",")
        if word.count(".") >= 1 and word[0].islower() and word.split(".")[-1][:1].isupper():
            module, _, name = word.rpartition(".")
            assert hasattr(importlib.import_module(module), name), word


def test_the_command_turns_any_project_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An error the CLI did not list one by one still reaches the person as one line, exit 2."""
    from cli.main import main
    from storage.objects import ObjectStoreUrlError

    def refuse(*_: object, **__: object) -> None:
        raise ObjectStoreUrlError("SANAD_OBJECT_STORE_URL must start with s3://")

    monkeypatch.setenv("SANAD_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("cli._common.settings", refuse)  # where every command reads them
    result = CliRunner().invoke(main, ["queue"])
    assert result.exit_code == 2
    assert "SANAD_OBJECT_STORE_URL must start with s3://" in result.output
    assert "Traceback" not in result.output
