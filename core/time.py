"""Times as the project stores them: always UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc"]


def as_utc(value: datetime) -> datetime:
    """`value` with its time zone: SQLite gives back naive datetimes (every time is stored in
    UTC), PostgreSQL aware ones."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
