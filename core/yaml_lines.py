"""YAML that remembers line numbers, so every configuration error names its file and line.

The one line-numbered loader of the project (flows, the support directory, on-call and team
routing all read through it). It keeps the line of every mapping, key and list item: a schema
error found at ``routes.duty.port`` points at the ``port:`` line, not at the start of the
mapping. ``LineLoader`` keeps keys as YAML reads them; ``StrKeyLineLoader`` makes every key a
string (flow and step ids, option keys: what the flows have always been read as).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser (in PyYAML's wheels): the same documents and marks, several times faster
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = [
    "ConfigProblem",
    "LineDict",
    "LineList",
    "LineLoader",
    "StrKeyLineLoader",
    "line_of",
    "read_yaml",
    "safe_load",
]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration file; `severity` is "error" or "warning"."""

    file: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.severity}: {self.message}"


def safe_load(text: str) -> Any:
    """`yaml.safe_load` on libyaml's parser (the project's YAML without line numbers)."""
    return yaml.load(text, Loader=_SafeLoader)  # nosec B506 - a safe loader


class LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


class LineLoader(_SafeLoader):
    """A safe loader that remembers the 1-based line of every mapping, key and list item."""

    str_keys = False


class StrKeyLineLoader(LineLoader):
    """The same, with every mapping key turned into a string."""

    str_keys = True


def _mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if loader.str_keys:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(
    path: Path, problems: list[ConfigProblem], loader: type[LineLoader] = LineLoader
) -> Any:
    """The document, or None after adding a problem that names the file (and line)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(ConfigProblem(str(path), line, f"not valid YAML: {exc}"))
    except OSError as exc:
        problems.append(ConfigProblem(str(path), None, f"cannot read: {exc.strerror}"))
    except UnicodeDecodeError:
        problems.append(ConfigProblem(str(path), None, "not UTF-8 text"))
    return None


def line_of(doc: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest node along `path` (keys and list indexes) that has one."""
    node, line = doc, getattr(doc, "line", None)
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
