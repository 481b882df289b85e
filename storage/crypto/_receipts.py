"""Receipts: the reporter's code to come back, checked without storing it.

20 random bytes are shown as 32 RFC 4648 base32 characters in 8 groups of 4 (Latin
letters and digits 2-7 read the same in Arabic and English UIs). The first 5 bytes are
an indexed lookup handle; the other 15 (120 bits) are checked against an Argon2id
verifier ``version(1) | params(9) | salt(16) | hash(32)``, so a stolen database does not
yield working receipts. Parsing forgives what people do when retyping a code.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass, field

from ._errors import CryptoError
from ._kdf import PACKED_SIZE, SALT_BYTES, KdfParams, derive

__all__ = [
    "HANDLE_BYTES",
    "RECEIPT_BYTES",
    "SECRET_BYTES",
    "VERSION",
    "Receipt",
    "format_receipt",
    "looks_like_receipt",
    "new_receipt",
    "parse_receipt",
    "verify_receipt",
]

VERSION = 1
RECEIPT_BYTES = 20
HANDLE_BYTES = 5
SECRET_BYTES = RECEIPT_BYTES - HANDLE_BYTES
_AD = b"sanad/v1/receipt"
_VERIFIER_SIZE = 1 + PACKED_SIZE + SALT_BYTES + 32
_CONFUSIONS = str.maketrans({"0": "O", "1": "I", "8": "B"})
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# Groups of 4, separated (or not) by spaces/dashes between groups only; the outer class
# accepts every digit because confusions (0, 1, 8) are mapped after matching.
_GROUPED = r"[0-9A-Z]{4}(?:[ \t\n\r\-]*[0-9A-Z]{4}){7}"
_FULL = re.compile(_GROUPED, re.ASCII)
_EMBEDDED = re.compile(rf"(?<![0-9A-Z]){_GROUPED}(?![0-9A-Z])", re.ASCII)
_OVERLAPPING = re.compile(rf"(?<![0-9A-Z])(?=({_GROUPED})(?![0-9A-Z]))", re.ASCII)
_TRIM = " \t\r\n.,;:!?\"'()[]«»،؛؟"


@dataclass(frozen=True)
class Receipt:
    """A new receipt: ``code`` is shown once to the reporter; handle and verifier are kept."""

    code: str = field(repr=False)
    handle: bytes = field(repr=False)
    verifier: bytes = field(repr=False)


def format_receipt(raw: bytes) -> str:
    """``ABCD-EFGH-...``: 8 groups of 4 base32 characters."""
    if len(raw) != RECEIPT_BYTES:
        raise ValueError(f"a receipt is {RECEIPT_BYTES} bytes")
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def _verifier(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return bytes([VERSION]) + params.pack() + salt + derive(secret, salt, params, _AD)


def new_receipt(params: KdfParams) -> Receipt:
    """Draw a receipt and compute its verifier (slow by design: Argon2id)."""
    raw = os.urandom(RECEIPT_BYTES)
    verifier = _verifier(raw[HANDLE_BYTES:], os.urandom(SALT_BYTES), params)
    return Receipt(code=format_receipt(raw), handle=raw[:HANDLE_BYTES], verifier=verifier)


def _normalise(text: str) -> str:
    """Fold width forms, map any script's digits to ASCII, drop invisible marks, unify dashes."""
    chars = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isdecimal():
            ch = str(unicodedata.decimal(ch))
        elif unicodedata.category(ch) == "Cf":  # bidi marks picked up when copying RTL text
            continue
        elif unicodedata.category(ch) == "Pd" or ch == "\u2212":
            ch = "-"
        elif ch.isspace():
            ch = " "
        chars.append(ch)
    return "".join(chars).upper()


def _decode(candidate: str) -> tuple[bytes, bytes] | None:
    compact = re.sub(r"[ \t\n\r\-]", "", candidate).translate(_CONFUSIONS)
    if len(compact) != 32 or not set(compact) <= _ALPHABET:
        return None
    raw = base64.b32decode(compact)
    return raw[:HANDLE_BYTES], raw[HANDLE_BYTES:]


def parse_receipt(text: str) -> tuple[bytes, bytes] | None:
    """(handle, secret) if ``text`` is a receipt, forgiving case, spaces, dashes,
    0/O 1/I 8/B and Arabic-Indic digits; None otherwise.

    Spaces and dashes are only accepted between groups of 4, so a sentence of
    letters does not parse. A parsed value still needs its handle to exist.
    """
    match = _FULL.fullmatch(_normalise(text).strip(_TRIM))
    return _decode(match.group()) if match else None


def looks_like_receipt(text: str) -> bool:
    """True if ``text`` is or contains a receipt, so it is not stored in a conversation.

    Inside a longer message only the forms a pasted or copied code has count: the 8 groups
    joined by dashes (every gap holds a dash), or the 32 characters in one run. Groups
    separated by spaces only count when they are the whole message and hold a digit, so an
    English sentence of four-letter words ("They were held with many more from 2023 until
    now.") is an answer, not a code (review finding 14).
    """
    normal = _normalise(text)
    whole = _FULL.fullmatch(normal.strip(_TRIM))
    if whole and _decode(whole.group()) and _pasted(whole.group(), whole=True):
        return True
    for match in _OVERLAPPING.finditer(normal):  # every start, not only the leftmost
        found = match.group(1)
        if _decode(found) and _pasted(found, whole=False):
            return True
    return False


def _pasted(found: str, whole: bool) -> bool:
    """Dashes in every gap between groups, or no gap at all; or (the whole message only)
    groups parted by spaces that hold a digit, as someone retyping a code might."""
    gaps = re.split(r"[0-9A-Z]{4}", found)[1:-1]  # the 7 separators between groups
    if all("-" in g for g in gaps) or not any(gaps):
        return True
    return whole and not any("-" in g for g in gaps) and any(c.isdigit() for c in found)


def verify_receipt(secret: bytes, verifier: bytes) -> bool:
    """Constant-time check of a receipt's secret part against its stored verifier."""
    if len(verifier) != _VERIFIER_SIZE or verifier[0] != VERSION:
        raise CryptoError("receipt verifier is malformed")
    if len(secret) != SECRET_BYTES:
        return False
    params = KdfParams.unpack(bytes(verifier[1 : 1 + PACKED_SIZE]))
    salt = bytes(verifier[1 + PACKED_SIZE : 1 + PACKED_SIZE + SALT_BYTES])
    expected = _verifier(bytes(secret), salt, params)
    return hmac.compare_digest(expected, bytes(verifier))
