"""The data folder (SANAD_HOME): what lives where, and `sanad init --demo`.

    SANAD_HOME/
      sanad.db                 default SQLite database
      keys/pepper              secret for user handles (HMAC); intake side
      keys/admin-signing.pub   pinned administrator key that signs the recipient manifest
      offline/                 private halves that must leave this machine in production:
        admin-signing.pem      locked (Argon2id) with the administrator's passphrase
        recovery.pem           the organisation recovery key, locked with its own passphrase
                               (`sanad keys export-offline DIR` moves both off the server)
      attachments/<case>/      sealed files
      logs/sanad.log           operational log: event kinds and counts, never content
      config/routing.yaml      which teams new reports are sealed to (intake.routing)

The intake process reads only keys/ (public material and the pepper); it never opens offline/.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core import ConfigurationError
from intake.settings import Settings
from storage import Database, accounts, crypto

__all__ = [
    "DEMO_USER",
    "Home",
    "HomeError",
    "InitResult",
    "init_demo",
    "install_routing_example",
    "offline_keys",
]

DEMO_USER = "demo"


class HomeError(ConfigurationError):
    """The home is missing or incomplete; the message says what to run."""


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_secret(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def offline(self) -> Path:
        return self.root / "offline"

    def is_initialised(self) -> bool:
        return (self.keys / "pepper").exists() and (self.keys / "admin-signing.pub").exists()

    def require(self) -> None:
        if not self.is_initialised():
            raise HomeError(
                f"no Sanad home at {self.root}: run `sanad init --demo` first (or set SANAD_HOME)"
            )

    def manifest_pin(self) -> accounts.ManifestPin:
        """The highest recipient-manifest version seen (keys/manifest-version)."""
        return accounts.ManifestPin(self.keys / "manifest-version")

    def pepper(self) -> bytes:
        self.require()
        return (self.keys / "pepper").read_bytes()

    def admin_public(self) -> bytes:
        self.require()
        return bytes.fromhex((self.keys / "admin-signing.pub").read_text().strip())


@dataclass(frozen=True)
class InitResult:
    created: bool
    generated_passphrase: str | None
    message: str
    totp_secret: str | None = None  # the demo account's second factor, shown once when made
    totp_generated: bool = False
    generated_offline: dict[str, str] = field(default_factory=dict)  # shown once: admin, recovery


def _new_passphrase() -> str:
    return "-".join(secrets.token_hex(3) for _ in range(4))


def init_demo(
    settings: Settings,
    db: Database,
    passphrase: str | None,
    totp_secret: str | None = None,
    admin_passphrase: str | None = None,
    recovery_passphrase: str | None = None,
) -> InitResult:
    """Create a ready home: schema, organisation keys, and the caseworker `demo` (with a TOTP
    secret for the dashboard: `totp_secret`, e.g. SANAD_DEMO_TOTP_SECRET, or a new one).

    The recovery and administrator keys get their own passphrases (SANAD_RECOVERY_PASSPHRASE,
    SANAD_ADMIN_PASSPHRASE, or generated and shown once), never the demo caseworker's
    (review finding 4), and the project's Argon2id format."""
    from storage import casework, new_totp_secret, normalise_totp_secret

    home = Home(settings.home)
    _private_dir(settings.home)
    db.migrate()
    with db.transaction() as session:
        if home.is_initialised() and accounts.get_user(session, DEMO_USER) is not None:
            return InitResult(
                False,
                None,
                f"Sanad home at {settings.home} is already initialised; nothing was changed.",
            )
    totp = normalise_totp_secret(totp_secret) if totp_secret else new_totp_secret()
    generated = None
    if not passphrase:
        generated = passphrase = _new_passphrase()
    made: dict[str, str] = {}
    if not admin_passphrase:
        admin_passphrase = made["admin"] = _new_passphrase()
    if not recovery_passphrase:
        recovery_passphrase = made["recovery"] = _new_passphrase()
    if (
        passphrase in (admin_passphrase, recovery_passphrase)
        or admin_passphrase == recovery_passphrase
    ):
        raise HomeError(
            "the recovery key, the administrator key and the demo account need "
            "three different passphrases"
        )
    for folder in (
        settings.home,
        home.keys,
        home.offline,
        settings.attachments_dir,
        settings.logs_dir,
    ):
        _private_dir(folder)
    now = datetime.now(UTC)
    if not (home.keys / "pepper").exists():
        _write_secret(home.keys / "pepper", crypto.new_pepper())
    admin_key, admin_pub = crypto.generate_signing_key()
    recovery_key, recovery_pub = crypto.generate_keypair()
    _write_secret(
        home.offline / "admin-signing.pem",
        crypto.export_private_key_encrypted(admin_key, admin_passphrase, _offline_kdf(settings)),
    )
    _write_secret(
        home.offline / "recovery.pem",
        crypto.export_private_key_encrypted(
            recovery_key, recovery_passphrase, _offline_kdf(settings)
        ),
    )
    with db.transaction() as session:
        demo = accounts.create_user(
            session, DEMO_USER, "caseworker", passphrase, settings.user_kdf, now
        )
        casework.set_totp_secret(session, demo, totp, now)
        recipients = [
            *accounts.report_readers(session),
            crypto.Recipient(label=accounts.RECOVERY_LABEL, public_key=recovery_pub),
        ]
        version = accounts.publish_manifest(session, admin_key, recipients, now)
    (home.keys / "admin-signing.pub").write_text(admin_pub.hex() + "\n")
    home.manifest_pin().check(version)
    install_routing_example(settings.home)
    return InitResult(
        True,
        generated,
        f"Created a demo Sanad home at {settings.home} with the caseworker account '{DEMO_USER}'.",
        totp_secret=totp,
        totp_generated=not totp_secret,
        generated_offline=made,
    )


def install_routing_example(root: Path) -> Path | None:
    """Copy the shipped routing example to SANAD_HOME/config/routing.yaml unless one is
    there. Its teams do not exist in a new home, so until they are created (`sanad teams
    add`) every report still goes to every caseworker (storage.teams.route)."""
    from intake.routing import EXAMPLE, routing_path

    target = routing_path(root)
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def _offline_kdf(settings: Settings) -> crypto.KdfParams:
    """Production Argon2id (256 MiB, t=3), as for caseworker keys; the cheap test parameters
    only where the test switch is honoured (tests)."""
    return settings.user_kdf if settings.insecure_fast_kdf else crypto.PRODUCTION_USER_KDF


def offline_keys(home: Home) -> list[Path]:
    """Private key files still on this machine (they belong offline)."""
    return (
        sorted(p for p in home.offline.glob("*.pem") if p.is_file())
        if home.offline.is_dir()
        else []
    )
