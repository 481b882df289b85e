"""The real `sanad` command in a new process that starts without paying for its imports.

A test runs `python -m cli.main ...` a few hundred times; each start spent about 0.6 s of CPU
importing SQLAlchemy, click, cryptography and Sanad's packages before doing a few
milliseconds of work. Here one server process per test worker imports them once and then,
for each command, forks a child that becomes that command: the test's argv, environment,
working directory, stdin, stdout and stderr (passed as file descriptors), run as `__main__`
exactly as `python -m cli.main` runs it, through the interpreter's own exit (atexit,
flushing, the exit code, a traceback on an uncaught error). The test sees a process with a
pid it can signal and a return code, as with `subprocess`.

What this cannot show, and where the suite still starts a whole new interpreter: what a
command imports and how it starts from nothing (tests/cli/test_commands.py), bytes that are
not UTF-8 on stdin (tests/cli/test_review_2026_12.py).

The server is single-threaded (forking a process with threads is unsafe): each request is
served by a forked "waiter" that forks the command, tells the test its pid, waits for it
and sends back its wait status.
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["PreloadedProcess", "run", "start"]

ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct(">Q")
_PRELOAD = [
    "core",
    "storage",
    "nlu",
    "flows",
    "intake",
    "alerts",
    "caseworker",
    "jobs",
    "bot",
    "web",
]
#: What commands import lazily, on the way to their work (found by listing the modules each
#: command's process added, over the suite): migrations and the schema check, the database
#: drivers and OpenSSL's binding, dateparser for date answers, QR codes for a new user's
#: TOTP, the HTTP client and server of `run telegram` and `run webchat`, scikit-learn for
#: `nlu eval` and `init`'s training. About 0.2-0.7 s a command otherwise.
_PRELOAD_LIBRARIES = [
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.script",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "dateparser.date",
    "dateparser.search",
    "cryptography.hazmat.backends.openssl.backend",
    "qrcode",
    "PIL.Image",
    "httpcore",
    "uvicorn.server",
    "uvicorn.supervisors",
    "sklearn.feature_extraction.text",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.svm",
]


# -- the server ---------------------------------------------------------------------------


def _preload() -> None:
    """Import what the commands use: the CLI's command modules and every public name of
    Sanad's packages (they load lazily, on first use)."""
    from cli.main import LAZY_COMMANDS

    for target in LAZY_COMMANDS.values():
        importlib.import_module(target.split(":")[0])
    for name in _PRELOAD:
        package = importlib.import_module(name)
        for attr in getattr(package, "__all__", ()):
            getattr(package, attr)
    for name in _PRELOAD_LIBRARIES:
        importlib.import_module(name)
    # Every command that talks to a reporter builds an interpreter, whose urgency rules are
    # compiled once per process (65 ms): compiled here, each command's copy has them.
    from nlu import RuleInterpreter

    RuleInterpreter()


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _stdio(fd: int, encoding: str, errors: str | None) -> io.TextIOWrapper:
    """A standard stream as the interpreter makes one at start (stderr line-buffered and
    backslash-escaping; a terminal line-buffered)."""
    raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
    tty = raw.isatty()
    buffer = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffer,  # type: ignore[arg-type]
        encoding=encoding,
        errors="backslashreplace" if fd == 2 else (errors or "strict"),
        line_buffering=tty or fd == 2,
    )


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: take the test's descriptors, environment and directory, then
    return to run the command as `__main__` at the top of the server script."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]
    encoding, _, errors = request["env"].get("PYTHONIOENCODING", "utf-8").partition(":")
    sys.stdin, sys.stdout, sys.stderr = (
        _stdio(fd, encoding or "utf-8", errors or None) for fd in (0, 1, 2)
    )
    for name in ("stdin", "stdout", "stderr"):
        setattr(sys, f"__{name}__", getattr(sys, name))
    sys.argv = [str(ROOT / "cli" / "main.py"), *request["argv"]]


def _serve(path: str) -> dict[str, Any] | None:
    """Accept requests until the test worker goes; in a command's process, return its
    request (the caller runs it)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        head, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
        (size,) = _HEADER.unpack(head)
        request = json.loads(_recv_exact(conn, size))
        if os.fork() == 0:  # the waiter
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            pid = os.fork()
            if pid == 0:  # the command
                conn.close()
                _become(request, fds)
                return request
            for fd in fds:
                os.close(fd)
            conn.sendall(_HEADER.pack(pid))
            _, status = os.waitpid(pid, 0)
            conn.sendall(_HEADER.pack(status))
            os._exit(0)
        conn.close()
        for fd in fds:
            os.close(fd)


def _main() -> None:
    os.chdir(ROOT)
    _preload()
    assert threading.active_count() == 1, "a preloaded module started a thread"
    if _serve(sys.argv[1]) is not None:
        os._exit(_run_as_main())


def _run_as_main() -> int:
    """Run cli.main as `python -m` does and end as the interpreter ends a process: wait for
    its non-daemon threads, run atexit, flush, the exit code from SystemExit, a traceback for
    anything else. Tearing down the modules is skipped: in a forked copy it would touch (and
    copy) every page of the preloaded heap, 0.2 s a command; the commands close what they
    open (databases are disposed of, files closed by `with`)."""
    import runpy
    import traceback

    sys.modules.pop("cli.main", None)  # run afresh as __main__, as `python -m` does
    code = 0
    try:
        runpy.run_module("cli.main", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # as the interpreter does when stdout cannot be flushed
    return code


# -- the test's side ----------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sanad-pre-")
        self.path = os.path.join(self.dir, "s")
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        env.pop("PYTHONSTARTUP", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.preloaded_sanad", self.path],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"the preloaded sanad did not start (exit {self.proc.wait()})")
        atexit.register(self.close)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


_server: _Server | None = None
_server_lock = threading.Lock()


def start() -> None:
    """Start this worker's server now (it takes about two seconds), not at first use."""
    global _server
    with _server_lock:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()


class PreloadedProcess:
    """`sanad *argv` as a child of the preloaded server, with the parts of `subprocess.Popen`
    the tests use. Each of `stdin`, `stdout` and `stderr` is `subprocess.PIPE` (a UTF-8 text
    pipe to this process; stdin line-buffered), `subprocess.DEVNULL`, a descriptor, or None
    (this process's own)."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        cwd: str | os.PathLike[str] | None = None,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
    ) -> None:
        start()
        assert _server is not None
        self.stdin: IO[str] | None = None
        self.stdout: IO[str] | None = None
        self.stderr: IO[str] | None = None
        given, ours = [], []
        for slot, fd in enumerate((stdin, stdout, stderr)):
            if fd is None:
                fd = slot
            elif fd == subprocess.DEVNULL:
                fd = os.open(os.devnull, os.O_RDWR)
                ours.append(fd)
            elif fd == subprocess.PIPE:
                read, write = os.pipe()
                fd, mine = (read, write) if slot == 0 else (write, read)
                ours.append(fd)
                stream = open(
                    mine,
                    "w" if slot == 0 else "r",
                    encoding="utf-8",
                    buffering=1 if slot == 0 else -1,
                )
                setattr(self, ("stdin", "stdout", "stderr")[slot], stream)
            given.append(fd)
        request = json.dumps(
            {"argv": list(argv), "env": env, "cwd": str(cwd or os.getcwd())}
        ).encode()
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._conn.connect(_server.path)
            socket.send_fds(self._conn, [_HEADER.pack(len(request))], given)
            self._conn.sendall(request)
            (self.pid,) = _HEADER.unpack(_recv_exact(self._conn, _HEADER.size))
        finally:
            for fd in ours:
                os.close(fd)
        self.args = ["sanad", *argv]
        self.returncode: int | None = None

    def communicate(
        self,
        input: str | None = None,
        timeout: float | None = None,
    ) -> tuple[str | None, str | None]:
        """Send `input`, close stdin, read stdout and stderr to their ends, wait."""
        got: dict[str, str] = {}

        def drain(name: str, stream: IO[str]) -> None:
            got[name] = stream.read()
            stream.close()

        readers = [
            threading.Thread(target=drain, args=(name, stream), daemon=True)
            for name, stream in (("out", self.stdout), ("err", self.stderr))
            if stream is not None
        ]
        for reader in readers:
            reader.start()
        if self.stdin is not None:
            try:
                if input:
                    self.stdin.write(input)
                self.stdin.close()
            except BrokenPipeError:
                pass
        self.wait(timeout)
        for reader in readers:
            reader.join(timeout)
        return got.get("out"), got.get("err")

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                (status,) = _HEADER.unpack(_recv_exact(self._conn, _HEADER.size))
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
            self._conn.close()
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            self._conn.setblocking(False)
            try:
                data = self._conn.recv(_HEADER.size, socket.MSG_PEEK)
            except BlockingIOError:
                return None
            finally:
                self._conn.setblocking(True)
            if len(data) < _HEADER.size:
                return None
            return self.wait()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def run(
    argv: Sequence[str],
    env: dict[str, str],
    input: str | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(["sanad", *argv], capture_output=True, text=True)` on the server;
    output goes through files, so neither side can block on a full pipe."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as stdin,
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        if input is not None:
            stdin.write(input)
            stdin.flush()
            stdin.seek(0)
        proc = PreloadedProcess(
            argv, env, cwd, stdin=stdin.fileno(), stdout=out.fileno(), stderr=err.fileno()
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, code, out.read(), err.read())


if __name__ == "__main__":
    _main()
