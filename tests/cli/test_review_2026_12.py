"""The December 2026 security review's console findings (../shared/reviews/security-2026-12.md),
driven through the real `sanad` command."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.conftest import TIMEOUT


def test_invalid_utf8_on_stdin_does_not_crash_the_console(
        home_env: dict[str, str]) -> None:
    """Finding 22: `printf 'yes\\n…Aleppo \\xff…' | sanad chat --jsonl` ended with a
    UnicodeDecodeError and dropped the valid lines in the same read buffer."""
    stdin = b"yes\nAleppo \xff\xfe street\nyes\n"
    proc = subprocess.run([sys.executable, "-m", "cli.main", "chat", "--jsonl", "--user",
                           "finding-22", "--lang", "en"], env=home_env, input=stdin,
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in proc.stderr and b"UnicodeDecodeError" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    fields = [m["field"] for m in lines if m["kind"] != "info"]
    # consent_store answered, the broken line re-asks consent_followup, and the valid line
    # after it in the same buffer answers it: the conversation moved on.
    assert fields[-1] not in ("consent_store", "consent_followup"), fields
