"""The two backends of the `Interpreter` protocol, and the factory the application uses.

- builtin (default): `HybridInterpreter` over the cached scikit-learn intent model.
- rasa: `HybridInterpreter` over a Rasa server's `POST /model/parse` (`SANAD_RASA_URL`).
- rules: the lexicon `RuleInterpreter` alone (`SANAD_NLU_BACKEND=rules`).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from core import UnavailableError
from nlu._data import OUT_OF_SCOPE, TRAIN_PATH
from nlu._hybrid import HybridInterpreter, Ranking
from nlu._normalise import normalise_arabic
from nlu._rules import RuleInterpreter
from nlu._types import Interpreter

__all__ = [
    "BACKENDS",
    "RasaClient",
    "RasaUnavailable",
    "build_interpreter",
    "builtin_interpreter",
    "rasa_interpreter",
]

log = logging.getLogger(__name__)

BACKENDS = ("builtin", "rasa", "rules")
#: Rasa's FallbackClassifier threshold in nlu/rasa/config.yml: below it Rasa says nlu_fallback.
RASA_THRESHOLD = 0.4


def builtin_interpreter(
    *,
    clock: Callable[[], datetime] | None = None,
    train_path: Path = TRAIN_PATH,
    cache_dir: Path | None = None,
) -> HybridInterpreter:
    """Rules plus the built-in classifier, trained from `train_path` on first use and cached."""
    from nlu.classifier import load_or_train  # numpy only when this backend is used

    model = load_or_train(train_path, cache_dir)
    return HybridInterpreter(model.ranking, model.threshold, RuleInterpreter(clock=clock))


class RasaUnavailable(UnavailableError, RuntimeError):
    """The Rasa server did not answer, or answered something that is not a parse result."""


class RasaClient:
    """A small, thread-safe client of a Rasa server's HTTP API (keeps one connection)."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("SANAD_RASA_URL must be an http(s) URL, e.g. http://127.0.0.1:5005")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the kept-alive connection (a later call opens a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def _request(self, method: str, path: str, body: bytes | None = None) -> object:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self._lock:
            for attempt in (1, 2):  # a kept-alive connection may have been closed: retry once
                conn = self._connection()
                try:
                    conn.request(method, self._prefix + path, body=body, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise RasaUnavailable(
                            f"no answer from the Rasa server: {type(exc).__name__}"
                        ) from exc
                    continue
                if resp.status != 200:
                    raise RasaUnavailable(f"the Rasa server answered HTTP {resp.status}")
                try:
                    return json.loads(payload)
                except ValueError as exc:
                    raise RasaUnavailable("the Rasa server answered something not JSON") from exc
        raise RasaUnavailable("unreachable")  # pragma: no cover

    def parse(self, text: str) -> dict[str, object]:
        """`POST /model/parse` with `text`; the server's answer."""
        out = self._request("POST", "/model/parse", json.dumps({"text": text}).encode())
        if not isinstance(out, dict) or not isinstance(out.get("intent"), dict):
            raise RasaUnavailable("the Rasa server's answer has no intent")
        return out

    def ready(self) -> bool:
        """True when the server answers `GET /status` with a loaded model."""
        try:
            status = self._request("GET", "/status")
        except RasaUnavailable:
            return False
        return isinstance(status, dict) and bool(status.get("model_file"))

    def rank(self, text: str) -> Ranking:
        """The server's intent ranking for `text` (normalised first, as in training)."""
        answer = self.parse(normalise_arabic(text))
        ranking = answer.get("intent_ranking")
        top = answer["intent"]
        assert isinstance(top, dict)
        pairs: Ranking = []
        if isinstance(ranking, list) and ranking:
            pairs = [
                (str(r.get("name")), float(r.get("confidence") or 0.0))
                for r in ranking
                if isinstance(r, dict)
            ]
        if not pairs or pairs[0][0] != top.get("name"):
            pairs.insert(0, (str(top.get("name")), float(top.get("confidence") or 0.0)))
        return [("nlu_fallback" if n == OUT_OF_SCOPE else n, p) for n, p in pairs]


class _RasaRanker:
    """`rank` for `HybridInterpreter`: a failed call means "no opinion", so the rules stay."""

    def __init__(self, client: RasaClient) -> None:
        self._client = client
        self._warned_at = 0.0

    def __call__(self, text: str) -> Ranking:
        try:
            return self._client.rank(text)
        except RasaUnavailable as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:  # the reason only: never the text
                log.warning("Rasa NLU unavailable, using the rules alone: %s", exc)
                self._warned_at = now
            return []


def rasa_interpreter(
    url: str, *, clock: Callable[[], datetime] | None = None, timeout: float = 5.0
) -> HybridInterpreter:
    """Rules plus a Rasa server (urgency, dates and the context rule stay ours)."""
    return HybridInterpreter(
        _RasaRanker(RasaClient(url, timeout=timeout)), RASA_THRESHOLD, RuleInterpreter(clock=clock)
    )


def build_interpreter(
    backend: str | None = None, *, clock: Callable[[], datetime] | None = None
) -> Interpreter:
    """The interpreter the application uses.

    `backend` (or `SANAD_NLU_BACKEND`): "builtin", "rasa" or "rules". Without either, "rasa"
    when `SANAD_RASA_URL` is set, otherwise "builtin".
    """
    url = os.environ.get("SANAD_RASA_URL", "").strip()
    choice = (
        backend or os.environ.get("SANAD_NLU_BACKEND", "").strip() or ("rasa" if url else "builtin")
    )
    if choice == "rules":
        return RuleInterpreter(clock=clock)
    if choice == "rasa":
        if not url:
            raise ValueError("the rasa backend needs SANAD_RASA_URL (e.g. http://127.0.0.1:5005)")
        return rasa_interpreter(url, clock=clock)
    if choice == "builtin":
        return builtin_interpreter(clock=clock)
    raise ValueError(f"unknown NLU backend {choice!r} (one of: {', '.join(BACKENDS)})")
