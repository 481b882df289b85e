"""Memory of a running `sanad chat` with the NLU model loaded (used by `bench.nlu`).

A throw-away home (`sanad init --demo`, fast KDF) in a temporary folder; the console is
driven through `--jsonl` like a reporter (a greeting, a language, a danger sentence, a
narrative), then its resident memory (VmRSS) and peak (VmHWM) are read from /proc.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LINES = (
    "salam",
    "ar",
    "عم يدقو عالباب هلق",
    "yes",
    "أخدو أخي من الحاجز مبارح وما منعرف وينو",
    "they are outside my house right now",
)


def _status(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def chat_memory(nlu_cache: str | None = None) -> dict[str, float]:
    """RSS and peak RSS (MB) of `sanad chat --jsonl` after a few messages."""
    with tempfile.TemporaryDirectory(prefix="sanad-bench-chat-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
        env.update(
            {
                "SANAD_HOME": f"{tmp}/home",
                "SANAD_EPOCH_DIR": f"{tmp}/epochs",
                # a throw-away home: fresh random passphrases, never shown or kept
                "SANAD_PASSPHRASE": secrets.token_urlsafe(24),
                "SANAD_ADMIN_PASSPHRASE": secrets.token_urlsafe(24),
                "SANAD_RECOVERY_PASSPHRASE": secrets.token_urlsafe(24),
                "SANAD_INSECURE_FAST_KDF": "1",
                "PYTHONIOENCODING": "utf-8",
            }
        )
        if nlu_cache or os.environ.get("SANAD_NLU_CACHE"):
            env["SANAD_NLU_CACHE"] = nlu_cache or os.environ["SANAD_NLU_CACHE"]
        subprocess.run(
            [sys.executable, "-m", "cli.main", "init", "--demo"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=600,
        )
        with subprocess.Popen(
            [sys.executable, "-m", "cli.main", "chat", "--jsonl", "--user", "bench"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        ) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                for line in _LINES:
                    proc.stdin.write(line + "\n")
                    proc.stdin.flush()
                    while True:  # until the bot asks something (each reply is one JSON line)
                        reply = json.loads(proc.stdout.readline() or "{}")
                        if not reply or reply.get("kind") != "info":
                            break
                status = _status(proc.pid)
            finally:
                proc.stdin.close()
                proc.wait(timeout=60)
    return {"chat_rss_mb": status["VmRSS"], "chat_peak_mb": status["VmHWM"]}


if __name__ == "__main__":
    print(json.dumps(chat_memory()))
