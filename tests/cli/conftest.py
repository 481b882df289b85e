"""Drive the real `sanad` command in its own process, as scripts and outside checks do. The
process is forked from a server that has imported Sanad once (tests/preloaded_sanad.py):
the same command, argv, environment and exit code, without 0.6 s of imports per run."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import preloaded_sanad

TIMEOUT = 60


def sanad(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = preloaded_sanad.run(args, env, input=stdin, timeout=TIMEOUT)
    if check and proc.returncode != 0:
        raise AssertionError(f"sanad {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


class ConsoleProcess:
    """`sanad chat --jsonl` with a reader thread, so a test can talk turn by turn."""

    def __init__(self, env: dict[str, str], user: str, lang: str | None = None) -> None:
        args = ["chat", "--jsonl", "--user", user]
        if lang:
            args += ["--lang", lang]
        self.proc = preloaded_sanad.PreloadedProcess(
            args, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next_question(self) -> dict[str, Any]:
        """Messages until one that expects an answer (or a receipt)."""
        while True:
            msg = self.lines.get(timeout=TIMEOUT)
            if msg is None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the console ended early: {err}")
            self.seen.append(msg)
            if msg["kind"] != "info":
                return msg

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self, field: str, line: str, question: dict[str, Any]) -> dict[str, Any]:
        assert question["field"] == field, f"asked {question['field']}, expected {field}"
        self.send(line)
        return self.next_question()

    def close(self) -> int:
        if self.proc.stdin:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=TIMEOUT)
        self._release()
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        self._release()

    def _release(self) -> None:
        self.reader.join(timeout=TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except BrokenPipeError:
                    pass


@pytest.fixture
def home_env(
    cli_env: dict[str, str], demo_home: Callable[[dict[str, str]], None]
) -> Iterator[dict[str, str]]:
    demo_home(cli_env)  # a copy of what `sanad init --demo` makes
    yield cli_env


def home_of(env: dict[str, str]) -> Path:
    return Path(env["SANAD_HOME"])
