"""One frozen settings object, built once from the environment and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core import ConfigurationError
from storage import ObjectStore, ObjectStoreUrlError, crypto, open_objects, parse_s3_url

__all__ = ["Settings", "SettingsError"]


class SettingsError(ConfigurationError):
    """A setting has a value the program cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    user_kdf: crypto.KdfParams = crypto.PRODUCTION_USER_KDF
    receipt_kdf: crypto.KdfParams = crypto.PRODUCTION_RECEIPT_KDF
    epoch_seconds: int = 24 * 3600  # a draft lives at most two epochs
    epoch_dir: Path | None = None  # None: chosen by crypto.default_epoch_dir(home)
    keyring_url: str | None = None  # None: the epoch folder; redis://…: shared by hosts
    # None: dashboard sessions in memory; redis://…: sealed sessions shared by instances
    session_store_url: str | None = None
    # Sealed attachments (storage/objects.py): None keeps them in SANAD_HOME/attachments;
    # s3://bucket[/prefix] in an S3-compatible store shared by hosts (SANAD_OBJECT_STORE_URL).
    object_store_url: str | None = None
    max_attachment_bytes: int = 20 * 1024 * 1024  # Telegram's bot download limit
    insecure_fast_kdf: bool = False
    # Retention (intake/retention.py); None keeps for ever. Counted from the day a case was
    # closed (its last change while closed): content goes, a tombstone stays in the register.
    closed_case_retention_days: int | None = None
    attachment_retention_days: int | None = None  # files of closed cases; may be shorter
    purge_interval_seconds: int = 24 * 3600  # how often a running bot purges
    # The dashboard's reverse proxies (addresses or networks): only their X-Forwarded-For
    # names the client, for the login backoff (SANAD_TRUSTED_PROXIES, comma-separated).
    trusted_proxies: tuple[str, ...] = ()
    # Dashboard sessions end after this long without a request, and this long after login
    # whatever happens (SANAD_SESSION_IDLE_SECONDS, SANAD_SESSION_ABSOLUTE_SECONDS); the
    # unlocked private key goes with them.
    session_idle_seconds: int = 15 * 60
    session_absolute_seconds: int = 8 * 3600

    @property
    def attachments_dir(self) -> Path:
        return self.home / "attachments"

    def objects(self) -> ObjectStore:
        """The attachment store these settings name (a new client each call: callers keep
        the one they open)."""
        return open_objects(self.object_store_url, self.attachments_dir)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("SANAD_HOME") or ".sanad").expanduser().absolute()
        url = env.get("SANAD_DATABASE_URL") or f"sqlite:///{home / 'sanad.db'}"
        fast = env.get("SANAD_INSECURE_FAST_KDF", "") == "1"
        kdf = crypto.TEST_KDF if fast else None
        return cls(
            home=home,
            database_url=url,
            user_kdf=kdf or crypto.PRODUCTION_USER_KDF,
            receipt_kdf=kdf or crypto.PRODUCTION_RECEIPT_KDF,
            epoch_seconds=_int(env, "SANAD_DRAFT_EPOCH_SECONDS", 24 * 3600, minimum=60),
            epoch_dir=Path(env["SANAD_EPOCH_DIR"]) if env.get("SANAD_EPOCH_DIR") else None,
            keyring_url=env.get("SANAD_KEYRING_URL") or None,
            session_store_url=env.get("SANAD_SESSION_STORE_URL") or None,
            object_store_url=_object_store(env.get("SANAD_OBJECT_STORE_URL", "")),
            max_attachment_bytes=_int(
                env, "SANAD_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024, minimum=1024
            ),
            insecure_fast_kdf=fast,
            closed_case_retention_days=_days(env, "SANAD_CLOSED_CASE_RETENTION_DAYS"),
            attachment_retention_days=_days(env, "SANAD_ATTACHMENT_RETENTION_DAYS"),
            purge_interval_seconds=_int(env, "SANAD_PURGE_INTERVAL_SECONDS", 24 * 3600, minimum=60),
            trusted_proxies=_proxies(env.get("SANAD_TRUSTED_PROXIES", "")),
            session_idle_seconds=_int(env, "SANAD_SESSION_IDLE_SECONDS", 15 * 60, minimum=60),
            session_absolute_seconds=_int(
                env, "SANAD_SESSION_ABSOLUTE_SECONDS", 8 * 3600, minimum=60
            ),
        )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not '{raw}'") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _days(env: Mapping[str, str], name: str) -> int | None:
    """A retention in days; unset or empty keeps for ever."""
    if not env.get(name, "").strip():
        return None
    return _int(env, name, 0, minimum=1)


def _object_store(raw: str) -> str | None:
    """s3://bucket[/prefix], checked here so every command names a bad URL in one line."""
    url = raw.strip()
    if not url:
        return None
    try:
        parse_s3_url(url)
    except ObjectStoreUrlError as exc:
        raise SettingsError(str(exc)) from None
    return url


def _proxies(raw: str) -> tuple[str, ...]:
    """Addresses or networks (127.0.0.1, 10.0.0.0/8, ::1), comma-separated."""
    import ipaddress

    out = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise SettingsError(
                f"SANAD_TRUSTED_PROXIES: '{item}' is not an address or network"
            ) from exc
        out.append(item)
    return tuple(out)
