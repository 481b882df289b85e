"""Receipts drawn ahead of need, so a submission does not hash one inside its transaction.

A receipt's verifier is Argon2id (64 MiB, about 0.15 s in production). Computed inside the
submission's transaction, it held SQLite's single write lock that long, and every other
reporter's message waited behind it. The pool keeps a couple ready, computed by a background
thread; `take()` returns one at once (or computes it inline when the pool is empty, e.g. the
first submission after a start). Unused receipts exist only in this process's memory: they
are random codes linked to nothing until a report takes one.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from storage import crypto

log = logging.getLogger("sanad.intake")


class ReceiptPool:
    def __init__(self, params: crypto.KdfParams, keep: int = 2) -> None:
        self.params = params
        self.keep = keep
        self._ready: deque[crypto.Receipt] = deque()
        self._lock = threading.Lock()
        self._filling = False

    def take(self) -> crypto.Receipt:
        with self._lock:
            receipt = self._ready.popleft() if self._ready else None
        if receipt is None:
            receipt = crypto.new_receipt(self.params)
        self._refill()
        return receipt

    def _refill(self) -> None:
        with self._lock:
            if self._filling or len(self._ready) >= self.keep:
                return
            self._filling = True
        threading.Thread(target=self._fill, name="sanad-receipts", daemon=True).start()

    def _fill(self) -> None:
        try:
            while True:
                with self._lock:
                    if len(self._ready) >= self.keep:
                        return
                receipt = crypto.new_receipt(self.params)
                with self._lock:
                    self._ready.append(receipt)
        except Exception as exc:  # take() computes inline meanwhile
            log.warning("receipt pool could not fill (%s)", type(exc).__name__)
        finally:
            with self._lock:
                self._filling = False
