"""Every mitigation in docs/threat-model.md names a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_the_threat_model_exists() -> None:
    doc = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    current: Path | None = None
    missing, named = [], 0
    for match in re.finditer(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", doc):
        path, name, short = match.groups()
        if path:
            current = ROOT / path
        assert current is not None
        if not current.exists():
            missing.append(str(current))
            continue
        test = name or short
        if test:
            named += 1
            if f"def {test}(" not in current.read_text(encoding="utf-8"):
                missing.append(f"{current.name}::{test}")
    assert named >= 20 and missing == []


def _tests_named(text: str) -> list[tuple[Path, str]]:
    """(file, test name) for every test a piece of the document names, `::name` meaning the
    last file named before it."""
    current: Path | None = None
    out = []
    for match in re.finditer(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", text):
        path, name, short = match.groups()
        if path:
            current = ROOT / path
        assert current is not None, match.group()
        if name or short:
            out.append((current, name or short))
    return out


def _source_of(path: Path, name: str) -> str:
    """The text of one test function (decorators excluded), up to the next top-level def."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"def {name}(")
    end = text.find("\ndef ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _section(doc: str, heading: str) -> str:
    start = doc.index(heading)
    end = doc.find("\n## ", start + len(heading))
    return doc[start : end if end != -1 else len(doc)]


def test_every_crypto_property_has_a_test_that_names_it() -> None:
    """The ten properties of crypto-design.md each have a row in the threat model's table,
    and every test a row names exists and says "Crypto property N"."""
    doc = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    table = _section(doc, "## Crypto properties")
    rows = {
        int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \|[^|]*\|(.*)\|$", table, re.M)
    }
    assert sorted(rows) == list(range(1, 11))
    for number, cell in rows.items():
        named = _tests_named(cell)
        assert named, f"property {number} names no test"
        for path, name in named:
            assert f"Crypto property {number} " in _source_of(path, name), (number, name)


def test_every_review_finding_names_its_test() -> None:
    """Each finding of the December 2026 review listed in the records-and-web section names
    at least one test, and each of those tests' docstrings names that finding."""
    doc = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    section = _section(doc, "## December 2026 review: records and web")
    bullets = re.split(r"\n- (?=\*\*Finding )", section)[1:]
    numbers = []
    current_file = None
    for bullet in bullets:
        number = int(re.match(r"\*\*Finding (\d+)\*\*", bullet).group(1))  # type: ignore[union-attr]
        numbers.append(number)
        prefix = f"`{current_file}` " if current_file else ""
        named = _tests_named(prefix + bullet)
        assert named, f"finding {number} names no test"
        for path, name in named:
            source = _source_of(path, name)
            assert re.search(rf"findings?\s+(?:\d+(?:,\s*|\s+and\s+))*{number}\b", source, re.I), (
                number,
                name,
            )
        files = re.findall(r"`(tests/[\w/]+\.py)", bullet)
        current_file = files[-1] if files else current_file
    assert {7, 8, 9, 10, 11, 14, 15, 16, 17, 19, 20, 21, 22, 25} <= set(numbers)
