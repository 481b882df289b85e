"""The linter, the type checker, the security linter and the dependency audit run with the
suite, so CI fails on any of them (the audit skips, saying why, when it cannot reach PyPI)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing() -> None:
    proc = _run("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_code_is_formatted_as_ruff_format_writes_it() -> None:
    """Issue 20: one format for the whole tree, so a diff shows changes, not styles."""
    proc = _run("ruff", "format", "--check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_nothing() -> None:
    proc = _run("mypy", "--cache-dir", "/tmp/sanad-mypy-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_layers_contract_holds() -> None:
    """import-linter's contracts in pyproject.toml: the layers, and private modules kept
    private. lint-imports is a console script (no `python -m`), beside this Python."""
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_the_layers_contract_names_every_package() -> None:
    """A new top-level package outside the contract would escape it unseen."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["importlinter"]["root_packages"])
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == listed


def _cross_package_imports() -> list[tuple[str, int, str, list[str]]]:
    """(file, line, imported module, names) of each import from another top-level package."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    roots = config["tool"]["importlinter"]["root_packages"]
    found = []
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [(node.module, [a.name for a in node.names])]
                elif isinstance(node, ast.Import):
                    modules = [(a.name, []) for a in node.names]
                else:
                    continue
                for module, names in modules:
                    if module.split(".")[0] in roots and module.split(".")[0] != root:
                        found.append((str(path.relative_to(ROOT)), node.lineno, module, names))
    return found


def test_packages_are_entered_only_through_their_init() -> None:
    """Issue 20 item 1: another package's names come from its __init__ (`from storage import
    Database`, `from storage import drafts`), never from its modules (`from storage.db import
    ...`), and each is in that package's __all__ (its __init__.pyi where the names are loaded
    on first use), so the __init__ is the whole public surface."""
    wrong = []
    for path, line, module, names in _cross_package_imports():
        if "." in module:
            wrong.append(
                f"{path}:{line} imports {module} (use `from {module.split('.')[0]} import`)"
            )
            continue
        if not names:  # `import alerts`: the package itself
            continue
        public = importlib.import_module(module).__all__
        wrong += [
            f"{path}:{line} {module}.{n} is not in its __all__" for n in names if n not in public
        ]
    assert not wrong, "\n".join(wrong)


def test_a_package_surface_loads_nothing_until_a_name_is_used() -> None:
    """The lazily loaded packages (__init__.pyi) name only what exists, and importing one costs
    no more than its __init__: `sanad --help` must not pay for SQLAlchemy or the PDF fonts."""
    code = (
        "import sys, storage, intake, caseworker, bot, web\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'storage', 'intake', 'caseworker', 'bot', 'web', 'sqlalchemy'} and '.' in m)\n"
        "assert not loaded, loaded\n"
        "for p in (storage, intake, caseworker, bot, web):\n"
        "    for name in p.__all__:\n"
        "        getattr(p, name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ---- security linter -----------------------------------------------------------------------

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
    "bench",
)


def test_every_module_names_its_public_surface() -> None:
    """Style 19 (issue 20): each module of the layered packages declares `__all__` (ruff's
    F822 checks that every name in it exists); Alembic's revisions are generated files."""
    packages = (
        "core",
        "storage",
        "nlu",
        "flows",
        "alerts",
        "intake",
        "jobs",
        "caseworker",
        "bot",
        "web",
        "cli",
    )
    missing = [
        str(path.relative_to(ROOT))
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        and not re.search(
            r"^(__getattr__, __dir__, )?__all__\b", path.read_text(encoding="utf-8"), re.M
        )
    ]
    assert not missing, "no __all__ in: " + ", ".join(missing)


def test_bandit_finds_nothing() -> None:
    """Skipped checks are listed, each with its reason, in pyproject's [tool.bandit]; a single
    accepted line carries `# nosec BXXX - why`."""
    proc = _run("bandit", "-c", "pyproject.toml", "-q", "-r", *PACKAGES, "-f", "json")
    report = json.loads(proc.stdout)
    found = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert proc.returncode == 0 and found == [] and report["errors"] == [], (
        "\n".join(found) or proc.stderr
    )


def test_every_bandit_exception_says_which_check_and_why() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    skips = config["tool"]["bandit"]["skips"]
    section = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.bandit]")[1]
    comments = [line for line in section.splitlines() if line.startswith("#")]
    for check in skips:
        assert any(line.startswith(f"# {check} ") for line in comments), (
            f"{check} is skipped in [tool.bandit] without a comment saying why"
        )
    vague = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "# nosec" in line and not re.search(r"# nosec B\d{3}( B\d{3})*\b", line):
                    vague.append(f"{path.relative_to(ROOT)}:{number}")
    assert vague == [], "a `# nosec` must name the check it accepts: " + ", ".join(vague)


# ---- dependency audit ----------------------------------------------------------------------

# Advisories accepted after review, each with the reason (and when, by whom). An entry here
# makes pip-audit ignore that advisory for every package; remove it once the lock is fixed.
#   "GHSA-xxxx-xxxx-xxxx": "not reachable: we never call the affected API (2026-11-23, name)",
ACCEPTED_ADVISORIES: dict[str, str] = {}
AUDIT_TIMEOUT = 10  # seconds per request to the vulnerability service


def audit_verdict(report: dict[str, Any], accepted: dict[str, str]) -> tuple[str, str]:
    """("ok" | "skip" | "fail", why) for pip-audit's JSON report of requirements.lock."""
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    if deps and not audited:
        return "skip", (
            f"the vulnerability service answered for none of the {len(deps)} "
            f"locked packages ({deps[0]['skip_reason']})"
        )
    problems = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in "
        f"{', '.join(v.get('fix_versions') or ['no release yet'])})"
        for d in audited
        for v in d.get("vulns", [])
        if v["id"] not in accepted and not set(v.get("aliases", [])) & set(accepted)
    ]
    problems += [
        f"{d['name']}: not audited ({d['skip_reason']})" for d in deps if "skip_reason" in d
    ]
    return ("fail", "\n".join(problems)) if problems else ("ok", f"{len(audited)} audited")


def test_the_audit_verdict_fails_on_a_known_vulnerability_unless_accepted() -> None:
    vuln = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-0001"], "fix_versions": ["2.0"]}
    report = {
        "dependencies": [
            {"name": "idna", "version": "1.0", "vulns": [vuln]},
            {"name": "click", "version": "8.1", "vulns": []},
        ]
    }
    verdict, why = audit_verdict(report, {})
    assert verdict == "fail" and "idna 1.0: GHSA-aaaa-bbbb-cccc (fixed in 2.0)" in why
    assert audit_verdict(report, {"CVE-2026-0001": "reviewed"})[0] == "ok"
    unreachable = {"dependencies": [{"name": "idna", "skip_reason": "Dependency not found"}]}
    assert audit_verdict(unreachable, {})[0] == "skip"
    partly = {"dependencies": [*report["dependencies"][1:], *unreachable["dependencies"]]}
    assert audit_verdict(partly, {})[0] == "fail"


@pytest.mark.network
def test_locked_dependencies_have_no_known_vulnerability() -> None:
    """pip-audit over requirements.lock (hashed, so nothing is installed or resolved), against
    PyPI's vulnerability data; skipped, saying why, when that cannot be reached."""
    ignore = [arg for advisory in ACCEPTED_ADVISORIES for arg in ("--ignore-vuln", advisory)]
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                "requirements.lock",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--timeout",
                str(AUDIT_TIMEOUT),
                "-f",
                "json",
                *ignore,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("the vulnerability service did not answer within 5 minutes")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if re.search(r"connect|resolve|timed? ?out|unreachable|network", reason, re.I):
            pytest.skip(f"the vulnerability service cannot be reached: {reason}")
        raise AssertionError(f"pip-audit failed: {proc.stderr}") from None
    verdict, why = audit_verdict(report, ACCEPTED_ADVISORIES)
    if verdict == "skip":
        pytest.skip(why)
    assert verdict == "ok", f"known vulnerabilities in requirements.lock:\n{why}"
