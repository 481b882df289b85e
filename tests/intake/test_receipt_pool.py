"""Receipts drawn ahead: each one taken is new and verifies; the pool refills behind."""

from __future__ import annotations

import time

from intake._receipt_pool import ReceiptPool
from storage import crypto


def test_receipts_from_the_pool_are_distinct_and_verify() -> None:
    pool = ReceiptPool(crypto.TEST_KDF, keep=2)
    taken = [pool.take() for _ in range(6)]
    assert len({r.code for r in taken}) == 6 and len({r.handle for r in taken}) == 6
    for receipt in taken:
        parsed = crypto.parse_receipt(receipt.code)
        assert parsed is not None and parsed[0] == receipt.handle
        assert crypto.verify_receipt(parsed[1], receipt.verifier)
    other = taken[1]
    assert not crypto.verify_receipt(crypto.parse_receipt(taken[0].code)[1], other.verifier)


def test_the_pool_refills_in_the_background() -> None:
    pool = ReceiptPool(crypto.TEST_KDF, keep=2)
    pool.take()  # the first is computed inline and starts the refill
    deadline = time.monotonic() + 10
    while len(pool._ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pool._ready) == 2
    ready = list(pool._ready)
    assert pool.take() is ready[0]  # handed out at once, not computed
