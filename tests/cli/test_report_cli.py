"""`sanad report periodic` and `sanad export`: files written 0600, exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import sanad

PERIOD = ["--from", "2026-01-01", "--to", "2026-12-31"]


def test_the_report_is_written_privately_and_errors_are_one_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    sanad(cli_env, "init", "--demo")
    out = tmp_path / "report.csv"
    sanad(cli_env, "report", "periodic", *PERIOD, "--format", "csv", "--out", str(out))
    assert out.read_text().splitlines() == [
        "dimension,value,count",
        "period,2026-01/2026-12,",
        "total,,0",
    ]
    assert out.stat().st_mode & 0o777 == 0o600
    pdf = tmp_path / "report.pdf"
    sanad(
        cli_env, "report", "periodic", *PERIOD, "--format", "pdf", "--lang", "ar", "--out", str(pdf)
    )
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_mode & 0o777 == 0o600
    bad = sanad(
        cli_env,
        "report",
        "periodic",
        "--from",
        "2026-12-01",
        "--to",
        "2026-01-01",
        "--out",
        str(out),
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert "ends before it starts" in bad.stderr
    wrong = sanad(
        {**cli_env, "SANAD_PASSPHRASE": "nope"},
        "report",
        "periodic",
        *PERIOD,
        "--out",
        str(out),
        "--as",
        "demo",
        check=False,
    )
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    role = sanad(
        cli_env, "report", "periodic", *PERIOD, "--out", str(out), "--as", "demo", check=False
    )
    assert role.returncode == 2 and "may not" in role.stderr  # demo is a caseworker
