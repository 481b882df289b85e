"""Train and serve a Rasa 3.6 NLU model from Sanad's training data, in its own environment.

Rasa 3.6 needs Python 3.10 and brings TensorFlow, so it is never a dependency of Sanad: it
lives in a virtual environment of its own (default `~/.cache/sanad/rasa-3.6.21-venv`,
`SANAD_RASA_VENV` to move it), installed with the pinned versions of
`nlu/rasa/constraints.txt`. Commands (also `scripts/rasa-train`):

    python -m nlu.rasa_tool venv               # create or check the Rasa environment
    python -m nlu.rasa_tool train [--out DIR]  # train on nlu/data/train.yml; prints the model
    python -m nlu.rasa_tool serve [--port N]   # train if needed, then serve on 127.0.0.1

Then `SANAD_RASA_URL=http://127.0.0.1:N sanad nlu eval nlu/data/test.yml --json`.
The training data is normalised exactly as Sanad normalises text before it asks the server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core import UnavailableError
from nlu._data import TRAIN_PATH, load_nlu
from nlu._normalise import normalise_arabic

__all__ = [
    "RASA_VERSION",
    "RasaSetupError",
    "ensure_venv",
    "find_python310",
    "serve",
    "train_model",
]

RASA_VERSION = "3.6.21"
HERE = Path(__file__).parent / "rasa"
CONFIG = HERE / "config.yml"
CONSTRAINTS = HERE / "constraints.txt"


class RasaSetupError(UnavailableError, RuntimeError):
    """Rasa could not be installed, trained or started here (the message says why)."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanad"


def venv_dir() -> Path:
    explicit = os.environ.get("SANAD_RASA_VENV")
    return Path(explicit) if explicit else cache_root() / f"rasa-{RASA_VERSION}-venv"


def _runs(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return out.returncode == 0 and out.stdout.strip() == "(3, 10)"


def find_python310() -> str | None:
    """A working Python 3.10: `python3.10` on PATH, else a pyenv-installed 3.10.x."""
    found = shutil.which("python3.10")
    if found and _runs(found):
        return found
    pyenv = shutil.which("pyenv")
    if pyenv:  # the shim exists but 3.10 is not selected: ask pyenv where it is
        versions = subprocess.run(
            [pyenv, "versions", "--bare"], capture_output=True, text=True, check=False
        ).stdout.split()
        for version in sorted((v for v in versions if v.startswith("3.10.")), reverse=True):
            prefix = subprocess.run(
                [pyenv, "prefix", version], capture_output=True, text=True, check=False
            ).stdout.strip()
            candidate = Path(prefix) / "bin" / "python3.10"
            if prefix and _runs(str(candidate)):
                return str(candidate)
    return None


def _stamp() -> str:
    return hashlib.sha256(CONSTRAINTS.read_bytes() + RASA_VERSION.encode()).hexdigest()[:16]


def ensure_venv(*, log: bool = True) -> Path:
    """The Rasa environment's `rasa` executable, creating the environment when needed."""
    venv = venv_dir()
    rasa = venv / "bin" / "rasa"
    stamp = venv / ".sanad-rasa-installed"
    if rasa.exists() and stamp.exists() and stamp.read_text().strip() == _stamp():
        return rasa
    python = find_python310()
    if python is None:
        raise RasaSetupError(
            "no Python 3.10 found (python3.10 on PATH or pyenv); Rasa 3.6 needs it"
        )
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    if log:
        print(f"Installing rasa=={RASA_VERSION} into {venv} (large: TensorFlow)…", file=sys.stderr)
    steps = [
        [python, "-m", "venv", str(venv)],
        # pip 24.1+ refuses some of Rasa 3.6's older dependencies' metadata
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "pip<24.1"],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"rasa=={RASA_VERSION}",
            "-c",
            str(CONSTRAINTS),
        ],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RasaSetupError(
                f"installing Rasa failed ({' '.join(cmd[-3:])}): " + " | ".join(tail)
            )
    stamp.write_text(_stamp())
    if log:
        print(f"Rasa installed in {time.monotonic() - start:.0f} s", file=sys.stderr)
    return rasa


def write_training_data(folder: Path, train_path: Path = TRAIN_PATH) -> Path:
    """Write the normalised Rasa NLU YAML of `train_path` into `folder`; return its path."""
    data = load_nlu(train_path)
    by_intent: dict[str, list[str]] = {}
    for text, intent in data.examples:
        norm = normalise_arabic(text)
        if norm and norm not in by_intent.setdefault(intent, []):
            by_intent[intent].append(norm)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {t}" for t in texts)
    for name, words in data.lookups.items():
        lines.append(f"- lookup: {name}")
        lines.append("  examples: |")
        lines.extend(f"    - {normalise_arabic(w)}" for w in words)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "nlu.yml"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def model_key(train_path: Path = TRAIN_PATH) -> str:
    h = hashlib.sha256()
    for part in (
        RASA_VERSION.encode(),
        CONFIG.read_bytes(),
        train_path.read_bytes(),
        (Path(__file__).parent / "_normalise.py").read_bytes(),
    ):
        h.update(part + b"\0")
    return h.hexdigest()[:16]


def train_model(
    out: Path | None = None, *, train_path: Path = TRAIN_PATH, force: bool = False, log: bool = True
) -> Path:
    """Train (or reuse) the Rasa NLU model for `train_path`; return the model archive."""
    rasa = ensure_venv(log=log)
    out = out or cache_root() / "rasa-models" / model_key(train_path)
    model = out / "sanad-nlu.tar.gz"
    if model.exists() and not force:
        return model
    with tempfile.TemporaryDirectory(prefix="sanad-rasa-") as work:
        data = write_training_data(Path(work) / "data", train_path)
        start = time.monotonic()
        done = subprocess.run(
            [
                str(rasa),
                "train",
                "nlu",
                "-c",
                str(CONFIG),
                "--nlu",
                str(data),
                "--out",
                str(out),
                "--fixed-model-name",
                "sanad-nlu",
            ],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            env=_quiet_env(),
        )
        if done.returncode != 0 or not model.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise RasaSetupError("rasa train failed: " + " | ".join(tail))
    if log:
        print(f"Rasa model trained in {time.monotonic() - start:.0f} s: {model}", file=sys.stderr)
    return model


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RasaServer:
    url: str
    process: subprocess.Popen[bytes]
    started_in: float


@contextmanager
def serve(model: Path, *, port: int | None = None, timeout: float = 240.0) -> Iterator[RasaServer]:
    """Run `rasa run --enable-api` on 127.0.0.1 until the block ends."""
    rasa = ensure_venv(log=False)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = tempfile.TemporaryFile()
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(rasa), "run", "--enable-api", "-m", str(model), "-i", "127.0.0.1", "-p", str(port)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=_quiet_env(),
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                log_file.seek(0)
                tail = log_file.read().decode(errors="replace").strip().splitlines()[-5:]
                raise RasaSetupError("the Rasa server stopped: " + " | ".join(tail))
            if _status_ready(url):
                break
            if time.monotonic() - start > timeout:
                raise RasaSetupError(f"the Rasa server did not answer within {timeout:.0f} s")
            time.sleep(0.5)
        yield RasaServer(url, proc, time.monotonic() - start)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log_file.close()


def _status_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/status", timeout=2) as resp:  # noqa: S310  # nosec B310 (loopback)
            return bool(json.loads(resp.read()).get("model_file"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.rasa_tool",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("venv", help="create or check the Rasa environment")
    p_train = sub.add_parser("train", help="train the Rasa model from nlu/data/train.yml")
    p_train.add_argument("--out", type=Path, default=None, help="folder for sanad-nlu.tar.gz")
    p_train.add_argument("--force", action="store_true", help="train even if cached")
    p_serve = sub.add_parser("serve", help="train if needed and serve on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=5005)
    args = parser.parse_args(argv)
    try:
        if args.command == "venv":
            print(ensure_venv())
        elif args.command == "train":
            print(train_model(args.out, force=args.force))
        else:
            with serve(train_model(), port=args.port) as server:
                print(
                    f"Rasa NLU serving at {server.url} (SANAD_RASA_URL); Ctrl-C stops it",
                    file=sys.stderr,
                )
                server.process.wait()
    except RasaSetupError as exc:
        print(f"rasa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
