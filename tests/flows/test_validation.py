"""Broken flows and catalogues produce errors that name the file, the step and the line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from flows import FlowValidationError, load_flowset
from flows._loader import default_root
from tests import preloaded_sanad


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    root = tmp_path / "flows"
    root.mkdir()
    shutil.copytree(default_root() / "definitions", root / "definitions")
    shutil.copytree(default_root() / "catalog", root / "catalog")
    shutil.copy(default_root() / "fields.yaml", root / "fields.yaml")
    return root


def _edit(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: '{old}' not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def _problems(root: Path) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        load_flowset(root)
    return [str(p) for p in info.value.problems]


def test_the_shipped_flows_are_valid() -> None:
    flows = load_flowset()
    assert set(flows.flows) == {"opening", "complaint", "reprisal", "urgent", "details", "closing"}
    assert set(flows.catalog["ar"]) == set(flows.catalog["en"])


def test_every_field_of_the_data_dictionary_is_collected() -> None:
    flows = load_flowset()
    collected = {s.field for s in flows.steps.values() if s.field}
    # a repeated block's list (and its names' list) is collected by the questions in it
    collected |= {f.group for f in flows.fields.values() if f.id in collected and f.group}
    collected |= {f"{g}_identity" for g in set(collected) if f"{g}_identity" in flows.fields}
    assert set(flows.fields) <= collected


def test_unknown_target_names_file_step_and_line(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("- id: place_type")].count("\n") + 1
    _edit(path, "- id: place_type", "- id: place_type\n    next: nowhere")
    problems = _problems(flows_dir)
    assert any(
        "complaint.yaml:" + str(line) in p
        and "place_type" in p
        and "nowhere" in p
        and "UnknownTarget" in p
        for p in problems
    ), problems


def test_unreachable_step_is_reported(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "closing.yaml"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n  - id: orphan\n    kind: info\n    text: closing.done\n")
    problems = _problems(flows_dir)
    assert any(
        "UnreachableStep" in p and "orphan" in p and "closing.yaml:" in p for p in problems
    ), problems


def test_text_missing_in_one_language(flows_dir: Path) -> None:
    path = flows_dir / "catalog" / "ar.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("complaint.injuries:")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _problems(flows_dir)
    assert any(
        "MissingText" in p
        and "complaint.injuries" in p
        and "'ar'" in p
        and "complaint.yaml:" in p
        and "(step injuries)" in p
        for p in problems
    ), problems


def test_schema_error_names_the_step_and_line(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "reprisal.yaml"
    line = _edit(path, "kind: multi", "kind: multiple")
    problems = _problems(flows_dir)
    assert any("SchemaProblem" in p and f"reprisal.yaml:{line - 2}" in p for p in problems) or any(
        "SchemaProblem" in p and "reprisal.yaml:" in p and "multiple" in p for p in problems
    ), problems


def test_option_that_the_field_does_not_have(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "details.yaml"
    _edit(path, "options: [medical,", "options: [teleportation, medical,")
    problems = _problems(flows_dir)
    assert any(
        "BadOption" in p and "teleportation" in p and "details.yaml:" in p for p in problems
    ), problems


def test_route_without_a_way_for_every_value(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "opening.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("- id: route_type")
    block_end = text.index("- id:", start + 5)
    block = text[start:block_end]
    new_block = (
        "\n".join(ln for ln in block.splitlines() if "reprisal:" not in ln and "next:" not in ln)
        + "\n\n  "
    )
    path.write_text(text[:start] + new_block + text[block_end:], encoding="utf-8")
    problems = _problems(flows_dir)
    assert any("MissingBranch" in p and "route_type" in p and "reprisal" in p for p in problems), (
        problems
    )


def test_broken_yaml_names_the_line(flows_dir: Path) -> None:
    path = flows_dir / "definitions" / "details.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    problems = _problems(flows_dir)
    assert any("details.yaml:" in p and "not valid YAML" in p for p in problems), problems


def test_flows_check_command(flows_dir: Path) -> None:
    ok = preloaded_sanad.run(["flows", "check"], dict(os.environ), timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    _edit(
        flows_dir / "definitions" / "complaint.yaml",
        "- id: place_type",
        "- id: place_type\n    next: nowhere",
    )
    bad = preloaded_sanad.run(
        ["flows", "check", "--path", str(flows_dir)], dict(os.environ), timeout=60
    )
    assert bad.returncode == 1 and "complaint.yaml:" in bad.stderr and "nowhere" in bad.stderr


def test_the_repeated_victims_block_is_checked_in_both_languages(flows_dir: Path) -> None:
    """Several victims (issue 18 item 7): a per-person question without its Arabic text, an
    "anyone else?" that does not loop back, or a step entering the block midway, is named."""
    ar = flows_dir / "catalog" / "ar.yaml"
    lines = [
        ln
        for ln in ar.read_text(encoding="utf-8").splitlines()
        if not ln.startswith(("details.other_victim_harm:", "sys.repeat.person:"))
    ]
    ar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    details = flows_dir / "definitions" / "details.yaml"
    _edit(
        details,
        'again: true\n    branch:\n      "yes": other_victim_name',
        'again: true\n    branch:\n      "yes": other_victim_gender',
    )
    _edit(
        details,
        '"yes": other_victim_name\n\n  - id: contact_safety',
        '"yes": other_victim_harm\n\n  - id: contact_safety',
    )
    problems = _problems(flows_dir)
    assert any(
        "details.other_victim_harm" in p and "'ar'" in p and "other_victim_harm" in p
        for p in problems
    ), problems
    assert any("sys.repeat.person" in p and "'ar'" in p for p in problems), problems
    assert any("another_victim" in p and "again step" in p for p in problems), problems
    assert any("more_victims" in p and "enters group 'other_victims'" in p for p in problems), (
        problems
    )
