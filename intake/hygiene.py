"""Process hygiene for long-running commands (December 2026 review, findings 4, 12, 23).

- Core dumps off: `RLIMIT_CORE` 0 and `PR_SET_DUMPABLE` 0, so a crash (or another user's
  ptrace or `gcore`) cannot write out the answers, chat ids or unlocked private keys a running
  bot or dashboard holds in memory. Swap should be encrypted on the host as well.
- Warnings, on stderr and in `sanad config check`, while private keys are still in
  SANAD_HOME/offline or the test-only fast key derivation is switched on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import resource
import sys

from intake.settings import Settings

__all__ = [
    "PR_GET_DUMPABLE",
    "PR_SET_DUMPABLE",
    "disable_core_dumps",
    "harden",
    "in_tests",
    "is_dumpable",
    "warnings_for",
]

log = logging.getLogger("sanad.hygiene")

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def _prctl(option: int, value: int = 0) -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return int(
        libc.prctl(
            option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)
        )
    )


def disable_core_dumps() -> bool:
    """No core file, and not dumpable (no core via a pipe handler, no ptrace attach by the
    same user); True when both took effect (Linux)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not sys.platform.startswith("linux"):
        return False
    try:
        return _prctl(PR_SET_DUMPABLE, 0) == 0 and _prctl(PR_GET_DUMPABLE) == 0
    except (OSError, AttributeError):
        return False


def is_dumpable() -> bool:
    soft, _ = resource.getrlimit(resource.RLIMIT_CORE)
    try:
        return soft != 0 or _prctl(PR_GET_DUMPABLE) != 0
    except (OSError, AttributeError):
        return soft != 0


def warnings_for(settings: Settings, in_tests: bool = False) -> list[str]:
    """What an operator must fix on this server, one line each."""
    from intake.home import Home, offline_keys

    out = []
    keys = offline_keys(Home(settings.home))
    if keys:
        out.append(
            f"private keys are still on this server in {settings.home / 'offline'} "
            f"({', '.join(p.name for p in keys)}): move them offline with "
            "`sanad keys export-offline DIR`"
        )
    if settings.keyring_url:
        from storage import crypto

        try:
            ring = crypto.RedisKeyring(settings.keyring_url, settings.epoch_seconds, "check")
            for what in ring.persistence():
                out.append(
                    f"the shared keyring (SANAD_KEYRING_URL) writes keys to disk: {what}; "
                    'run that Redis without persistence (save "", appendonly no)'
                )
        except crypto.CryptoError as exc:
            out.append(str(exc))
    if settings.insecure_fast_kdf and not in_tests:
        out.append(
            "SANAD_INSECURE_FAST_KDF=1: keys and receipts made now use a weak key "
            "derivation (for tests only); unset it"
        )
    return out


def in_tests() -> bool:
    """Run by the test suite (pytest sets this for the processes it starts, too)."""
    return "PYTEST_CURRENT_TEST" in os.environ


def harden(settings: Settings) -> None:
    """At the start of every long-running command: core dumps off, warnings shown (on stderr,
    except under the test suite, whose homes keep their keys and use the fast KDF)."""
    disable_core_dumps()
    for line in warnings_for(settings, in_tests()):
        if not in_tests():
            print(f"sanad: warning: {line}", file=sys.stderr)
        log.info("hygiene warning: %s", line.split(" (")[0].split(":")[0])
