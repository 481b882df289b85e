"""User handles: the database keys reporters by HMAC, never by Telegram id or phone number."""

from __future__ import annotations

import hashlib
import hmac
import os

from ._util import component

__all__ = ["PEPPER_BYTES", "new_pepper", "user_handle"]

PEPPER_BYTES = 32


def new_pepper() -> bytes:
    """A fresh 32-byte pepper; kept in the config, never in the database."""
    return os.urandom(PEPPER_BYTES)


def user_handle(pepper: bytes, channel: str, user_id: str) -> bytes:
    """HMAC-SHA256(pepper, ``channel|user_id``): stable per person, useless without the pepper."""
    if len(pepper) < 16:
        raise ValueError("pepper must be at least 16 bytes")
    if not isinstance(user_id, str):
        raise TypeError("user_id must be str")
    message = component("channel", channel) + b"|" + user_id.encode("utf-8")
    return hmac.new(bytes(pepper), message, hashlib.sha256).digest()
