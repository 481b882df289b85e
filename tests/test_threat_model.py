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
