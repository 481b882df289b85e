"""Drive the real `sanad` command in a subprocess, as scripts and outside checks do."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 60


def sanad(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"sanad {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


class ConsoleProcess:
    """`sanad chat --jsonl` with a reader thread, so a test can talk turn by turn."""

    def __init__(self, env: dict[str, str], user: str, lang: str | None = None) -> None:
        args = [sys.executable, "-m", "cli.main", "chat", "--jsonl", "--user", user]
        if lang:
            args += ["--lang", lang]
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
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
