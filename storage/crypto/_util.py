"""Small shared checks: context strings must be unambiguous and keys the right size."""

from __future__ import annotations

__all__ = ["SEP", "check_key", "component", "context", "number"]

SEP = "|"


def component(name: str, value: str) -> bytes:
    """Encode one ``|``-separated context component, refusing ambiguous values.

    A ``|`` inside an id would let ``("a|b", "c")`` and ``("a", "b|c")`` share an AAD.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str")
    if SEP in value:
        raise ValueError(f"{name} must not contain {SEP!r}")
    return value.encode("utf-8")


def number(name: str, value: int) -> bytes:
    """Encode a non-negative integer context component in decimal."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int")
    return str(value).encode("ascii")


def context(prefix: bytes, *parts: bytes) -> bytes:
    """Join a domain prefix (ending in ``|``) and components with ``|``."""
    return prefix + b"|".join(parts)


def check_key(key: bytes, size: int = 32) -> bytes:
    """Refuse keys of the wrong type or length (a caller bug, not bad data)."""
    if not isinstance(key, bytes | bytearray) or len(key) != size:
        raise ValueError(f"key must be {size} bytes")
    return bytes(key)
