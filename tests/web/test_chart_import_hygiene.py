"""pygal's legacy import hook must not leak into the rest of the process: with it, every
import that nothing resolves (uvicorn probing for uvloop when a dashboard starts) raised
ImportWarning, which the suite (and any `-W error` deployment) turns into a failed start."""

from __future__ import annotations

import subprocess
import sys


def test_an_unresolved_import_after_the_charts_is_a_plain_module_not_found() -> None:
    code = (
        "import caseworker.charts\n"
        "try:\n    import sanad_no_such_module\n"
        "except ModuleNotFoundError:\n    print('clean')\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.stdout.strip() == "clean", out.stderr[-500:]
