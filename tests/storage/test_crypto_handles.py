"""User handles: stable per person, different per channel and pepper, keyed."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from storage.crypto import new_pepper, user_handle


def test_handle_is_hmac_of_channel_and_user() -> None:
    pepper = new_pepper()
    expected = hmac.new(pepper, b"telegram|12345", hashlib.sha256).digest()
    assert user_handle(pepper, "telegram", "12345") == expected
    assert user_handle(pepper, "signal", "12345") != expected
    assert user_handle(new_pepper(), "telegram", "12345") != expected


def test_channel_cannot_shift_into_user_id() -> None:
    with pytest.raises(ValueError):
        user_handle(new_pepper(), "telegram|1", "2345")


def test_short_pepper_refused() -> None:
    with pytest.raises(ValueError):
        user_handle(b"short", "telegram", "1")
