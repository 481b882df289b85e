"""Receipts drawn ahead of need, so a submission does not hash one inside its transaction.

A receipt's verifier is Argon2id (64 MiB, about 0.15 s in production). Computed inside the
submission's transaction, it held SQLite's single write lock that long, and every other
reporter's message waited behind it. The pool keeps a couple ready, computed by a background
thread; `take_ready()` returns one at once or None when the pool is empty (a burst of
submissions), and the service then computes one with `take()` outside its transaction and
runs the step again. Unused receipts exist only in this process's memory: they
are random codes linked to nothing until a report takes one.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from storage import crypto

__all__ = ["ReceiptPool"]

log = logging.getLogger("sanad.intake")


class ReceiptPool:
    def __init__(self, params: crypto.KdfParams, keep: int = 2) -> None:
        self.params = params
        self.keep = keep
        self._ready: deque[crypto.Receipt] = deque()
        self._lock = threading.Lock()
        self._filling = False

    def take_ready(self) -> crypto.Receipt | None:
        """A receipt computed beforehand, or None (the caller computes one outside its
        transaction with `take()` and tries again)."""
        with self._lock:
            receipt = self._ready.popleft() if self._ready else None
        self._refill()
        return receipt

    def give_back(self, receipt: crypto.Receipt) -> None:
        """An unused receipt (drawn for a step that did not submit after all)."""
        with self._lock:
            if len(self._ready) < self.keep:
                self._ready.append(receipt)

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
