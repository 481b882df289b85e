"""Property 7: receipts verify, wrong ones fail, parsing forgives retyping."""

from __future__ import annotations

import base64
import re

import pytest

from storage.crypto import (
    CryptoError,
    KdfParams,
    Receipt,
    format_receipt,
    looks_like_receipt,
    new_receipt,
    parse_receipt,
    verify_receipt,
)

CODE_RE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def receipt(kdf: KdfParams) -> Receipt:
    return new_receipt(kdf)


def test_format(receipt: Receipt) -> None:
    assert CODE_RE.fullmatch(receipt.code)
    groups = receipt.code.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    raw = base64.b32decode(receipt.code.replace("-", ""))
    assert len(raw) == 20 and raw[:5] == receipt.handle


def test_right_receipt_verifies(receipt: Receipt) -> None:
    """Crypto property 7 (crypto-design.md)."""
    parsed = parse_receipt(receipt.code)
    assert parsed is not None
    handle, secret = parsed
    assert handle == receipt.handle and len(secret) == 15
    assert verify_receipt(secret, receipt.verifier)


def test_wrong_receipt_fails(receipt: Receipt, kdf: KdfParams) -> None:
    """Crypto property 7 (crypto-design.md)."""
    parsed = parse_receipt(receipt.code)
    assert parsed is not None
    _, secret = parsed
    for i in range(len(secret)):
        wrong = bytearray(secret)
        wrong[i] ^= 1
        assert not verify_receipt(bytes(wrong), receipt.verifier)
    other = parse_receipt(new_receipt(kdf).code)
    assert other is not None and not verify_receipt(other[1], receipt.verifier)
    assert not verify_receipt(secret[:-1], receipt.verifier)


def test_verifier_hides_the_code(receipt: Receipt) -> None:
    parsed = parse_receipt(receipt.code)
    assert parsed is not None
    assert parsed[1] not in receipt.verifier and receipt.code.encode() not in receipt.verifier
    assert receipt.code not in repr(receipt)


def test_malformed_verifier_raises(receipt: Receipt) -> None:
    with pytest.raises(CryptoError):
        verify_receipt(b"\0" * 15, receipt.verifier[:-1])


def _variants(code: str) -> list[str]:
    compact = code.replace("-", "")
    confused = code.replace("O", "0").replace("I", "1").replace("B", "8")
    return [
        code,
        code.lower(),
        compact,
        code.replace("-", " "),
        code.replace("-", " - "),
        f"  {code}.  ",
        f"\u200f{code}\u200f",  # right-to-left marks from an Arabic chat
        code.replace("-", "\u2013"),  # en dash from autocorrect
        confused,
        code.translate(ARABIC_INDIC),
        confused.lower().translate(ARABIC_INDIC),
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code),  # full width
    ]


def test_parse_tolerance() -> None:
    raw = bytes(range(20))  # contains O, I and B and digits
    code = format_receipt(raw)
    for variant in _variants(code):
        assert parse_receipt(variant) == (raw[:5], raw[5:]), variant
        assert looks_like_receipt(variant), variant


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "ABCD-EFGH",
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-456",  # 31 characters
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-45679",  # 33 characters
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4599",  # 9 is not base32
        "AB CD EF GH IJ KL MN OP QR ST UV WX YZ 23 45 67",  # spaces inside groups
        "I was taken to the station by po",  # 32 letters
        "تم اعتقالي في الثاني من آذار",
    ],
)
def test_not_a_receipt(text: str) -> None:
    assert parse_receipt(text) is None
    assert not looks_like_receipt(text)


def test_looks_like_receipt_inside_a_message(receipt: Receipt) -> None:
    assert looks_like_receipt(f"رمزي هو {receipt.code} شكرا")
    assert looks_like_receipt(f"my code: {receipt.code.lower()}, thanks")
    assert not looks_like_receipt("they took some food from that room with them")
    assert not looks_like_receipt("WHEN THEY CAME INTO THIS ROOM THEY TOOK MOST")
