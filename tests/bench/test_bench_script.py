"""The load benchmarks' scripted reporter still completes a report through the shipped flows.

Issue 15: after issue 18 added detention questions, a 2,000-reporter run stored no report at
all, because the script stopped short of the summary and nothing said so until the end. This
runs the real benchmark (the real bot process, the loopback Bot API fake, the shipped flows
and language model) with two reporters and checks that both reports are stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_script_stores_a_report_per_reporter() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.telegram_load", "--reporters", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stored = [line for line in done.stdout.splitlines() if line.startswith("reports stored")]
    assert stored == ["reports stored       2"], done.stdout
