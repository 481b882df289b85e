"""Encrypted backups: `sanad backup FILE` and `sanad restore FILE`.

A backup is a tar stream (every table as JSON lines, the sealed attachment files from the
object store in use (`SANAD_OBJECT_STORE_URL`, the home's folder by default), the
intake's pepper and pinned key) sealed with Cobblestone-256 under a fresh key that is
wrapped with HPKE to the organisation recovery key. Making one needs no private key;
restoring needs the recovery key, which lives offline. Report content inside is sealed
twice: once as always, once by the backup.

    file = b"SANADBK1\\n" + header JSON + b"\\n" + sealed tar stream [+ signature trailer]

Signed backups (review finding 7: HPKE base mode is unauthenticated, so anyone holding the
recovery *public* key could forge one). The home keeps a backup signing key
(`keys/backup-signing.key`, Ed25519) whose public half the administrator's key certified
once (`keys/backup-signing.cert`); the header carries that certificate and the trailer
``signature(64) | b"SANADSG1"`` signs SHA-256 of everything before it. Restore checks the
certificate against the administrator key the operator names (`--admin-pub`), the signature,
and that the home it installs pins that same administrator key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.types import DateTime, LargeBinary

import alerts  # noqa: F401  (it loads its table, which lives outside storage/models.py)
from core import SanadError
from intake.settings import Settings
from storage import Base, Database, crypto

__all__ = [
    "CONTEXT",
    "MAGIC",
    "PIECE",
    "SEEDED_BY_MIGRATIONS",
    "SIG_MAGIC",
    "BackupError",
    "BackupSigner",
    "backup_admin",
    "backup_signer",
    "fingerprint",
    "make_backup",
    "restore_backup",
    "sign_document",
    "verify_backup",
    "verify_document",
]

MAGIC = b"SANADBK1\n"
SIG_MAGIC = b"SANADSG1"
_TRAILER = 64 + len(SIG_MAGIC)
_CERT_PREFIX = b"sanad/v1/backup-key|"
_SIGNED_PREFIX = b"sanad/v1/backup|"
CONTEXT = "backup"
PIECE = 1 << 16


class BackupError(SanadError):
    """The backup cannot be made or restored; the message says why."""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, datetime):
        return {"__dt__": value.isoformat()}
    return value


def _decode(value: Any, column_type: Any) -> Any:
    if isinstance(value, dict) and "__b64__" in value and isinstance(column_type, LargeBinary):
        return base64.b64decode(value["__b64__"])
    if isinstance(value, dict) and "__dt__" in value and isinstance(column_type, DateTime):
        return datetime.fromisoformat(value["__dt__"])
    return value


def _write_tar(out: IO[bytes], settings: Settings, db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    with tarfile.open(fileobj=out, mode="w|") as tar, db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buf:
                n = 0
                for row in conn.execute(select(table)).mappings():
                    line = json.dumps({k: _encode(v) for k, v in row.items()})
                    buf.write(line.encode() + b"\n")
                    n += 1
                counts[table.name] = n
                size = buf.tell()
                buf.seek(0)
                info = tarfile.TarInfo(f"db/{table.name}.jsonl")
                info.size = size
                tar.addfile(info, buf)
        objects = settings.objects()  # the sealed files, wherever they are stored
        for key, size in objects.walk():
            info = tarfile.TarInfo(f"attachments/{key}")
            info.size, info.mode = size, 0o600
            with objects.reader(key) as src:
                tar.addfile(info, src)
        folder = settings.home / "keys"
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.endswith(".partial"):
                    tar.add(path, arcname=f"keys/{path.relative_to(folder)}")
    return counts


def fingerprint(public: bytes) -> str:
    """A public key's fingerprint as people compare it: its key id in groups of 4 hex."""
    hexed = crypto.key_id(public).hex().upper()
    return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))


@dataclass(frozen=True)
class BackupSigner:
    """The home's backup signing key and the administrator's certificate of it."""

    key: Ed25519PrivateKey = field(repr=False)
    cert: dict[str, Any]


def backup_signer(keys_dir: Path, admin_key: Any | None = None) -> BackupSigner:
    """The backup signing key of the home, made and certified by `admin_key` the first time
    (the only time the administrator's key is needed); BackupError when it is needed."""
    key_path, cert_path = keys_dir / "backup-signing.key", keys_dir / "backup-signing.cert"
    if key_path.exists() and cert_path.exists():
        key = Ed25519PrivateKey.from_private_bytes(key_path.read_bytes())
        cert = json.loads(cert_path.read_text())
        if bytes.fromhex(cert["public_key"]) != key.public_key().public_bytes_raw():
            raise BackupError("the backup signing key does not match its certificate")
        return BackupSigner(key, cert)
    if admin_key is None:
        raise BackupError(
            "the first signed backup needs the administrator's key, to certify "
            "this home's backup signing key (SANAD_ADMIN_PASSPHRASE)"
        )
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    admin_public = admin_key.public_key().public_bytes_raw()
    body = {
        "format": "sanad/v1/backup-key",
        "public_key": public.hex(),
        "admin": admin_public.hex(),
    }
    blob = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    cert = {**body, "signature": admin_key.sign(_CERT_PREFIX + blob).hex()}
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes_raw())
    cert_path.write_text(json.dumps(cert, sort_keys=True) + "\n")
    return BackupSigner(key, cert)


def _check_cert(cert: Any, admin_public: bytes) -> bytes:
    """The certified backup public key, if `admin_public` signed it; BackupError otherwise."""
    try:
        body = {k: cert[k] for k in ("format", "public_key", "admin")}
        blob = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        if body["format"] != "sanad/v1/backup-key" or bytes.fromhex(body["admin"]) != admin_public:
            raise ValueError("another administrator")
        Ed25519PublicKey.from_public_bytes(admin_public).verify(
            bytes.fromhex(cert["signature"]), _CERT_PREFIX + blob
        )
        return bytes.fromhex(body["public_key"])
    except (KeyError, TypeError, ValueError, InvalidSignature) as exc:
        raise BackupError(
            "the backup is not signed by a key of that administrator: it may "
            "be forged; do not restore it"
        ) from exc


def make_backup(
    settings: Settings,
    db: Database,
    recovery_public: bytes,
    destination: Path,
    signer: BackupSigner | None = None,
) -> dict[str, int]:
    """Write an encrypted backup; returns row counts per table (progress for the caller).
    With `signer` (what `sanad backup` always gives) the backup is signed."""
    key = crypto.new_data_key()
    backup_id = str(uuid.uuid4())
    header = {
        "version": 1,
        "id": backup_id,
        "created": datetime.now().astimezone().isoformat(),
        "recipient": crypto.key_id(recovery_public).hex(),
        "wrapped": base64.b64encode(
            crypto.wrap_key(key, f"backup:{backup_id}", recovery_public)
        ).decode(),
    }
    if signer is not None:
        header["signer"] = signer.cert
    read_fd, write_fd = os.pipe()
    counts: dict[str, int] = {}
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                counts.update(_write_tar(pipe, settings, db))
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    tmp = destination.with_suffix(destination.suffix + ".partial")
    try:
        with os.fdopen(read_fd, "rb") as pipe, open(tmp, "wb") as out:
            out.write(MAGIC + json.dumps(header).encode() + b"\n")

            def chunks() -> Iterator[bytes]:
                while piece := pipe.read(PIECE):
                    yield piece

            crypto.seal_attachment(key, CONTEXT, backup_id, chunks(), out)
        worker.join()
        if failure:
            raise BackupError(f"the backup could not be written: {failure[0]}") from failure[0]
        if signer is not None:
            digest = _digest(tmp, tmp.stat().st_size)
            with open(tmp, "ab") as out:
                out.write(signer.key.sign(_SIGNED_PREFIX + digest) + SIG_MAGIC)
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def _digest(path: Path, length: int) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        left = length
        while left > 0 and (piece := src.read(min(PIECE, left))):
            digest.update(piece)
            left -= len(piece)
    return digest.digest()


def backup_admin(source: Path) -> bytes | None:
    """The administrator key a backup says certified it (unverified: for showing only)."""
    with open(source, "rb") as src:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source} is not a Sanad backup")
        signer = json.loads(src.readline()).get("signer")
    try:
        return bytes.fromhex(signer["admin"]) if signer else None
    except (KeyError, TypeError, ValueError):
        return None


def verify_backup(source: Path, admin_public: bytes) -> int:
    """Check that `admin_public` certified the key that signed this backup, and the
    signature over the whole file; the length of the signed part. BackupError otherwise."""
    size = source.stat().st_size
    with open(source, "rb") as src:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source} is not a Sanad backup")
        header = json.loads(src.readline())
        src.seek(max(0, size - _TRAILER))
        trailer = src.read(_TRAILER)
    if not header.get("signer") or not trailer.endswith(SIG_MAGIC):
        raise BackupError("the backup is not signed: it may be forged; do not restore it")
    signing_public = _check_cert(header["signer"], admin_public)
    try:
        Ed25519PublicKey.from_public_bytes(signing_public).verify(
            trailer[:64], _SIGNED_PREFIX + _digest(source, size - _TRAILER)
        )
    except (ValueError, InvalidSignature) as exc:
        raise BackupError(
            "the backup's signature does not verify: it was altered or forged; do not restore it"
        ) from exc
    return size - _TRAILER


class _Bounded:
    """A file read up to `end` (the signed part, without the trailer)."""

    def __init__(self, fh: IO[bytes], end: int) -> None:
        self.fh, self.end = fh, end

    def read(self, n: int = -1) -> bytes:
        left = self.end - self.fh.tell()
        if left <= 0:
            return b""
        return self.fh.read(left if n < 0 else min(n, left))


def restore_backup(
    source: Path,
    recovery_private: Any,
    settings: Settings,
    db: Database,
    admin_public: bytes | None = None,
) -> dict[str, int]:
    """Restore into an empty home and an empty database; returns row counts per table.

    With `admin_public` (what `sanad restore` always gives) the backup must be signed by a
    key that administrator certified, and the home it installs must pin that same key."""
    if (settings.home / "keys" / "pepper").exists():
        raise BackupError(f"{settings.home} already holds a Sanad home: restore into an empty one")
    end = verify_backup(source, admin_public) if admin_public is not None else None
    with open(source, "rb") as raw:
        if raw.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source} is not a Sanad backup")
        header = json.loads(raw.readline())
        if end is None and header.get("signer"):  # signed, but not checked by this caller
            end = source.stat().st_size - _TRAILER
        src: Any = _Bounded(raw, end) if end is not None else raw
        try:
            key = crypto.unwrap_key(
                base64.b64decode(header["wrapped"]), f"backup:{header['id']}", recovery_private
            )
        except crypto.CryptoError as exc:
            raise BackupError("this recovery key does not open the backup") from exc
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=settings.home, prefix=".restore-")
        try:
            with os.fdopen(fd, "w+b") as plain:
                crypto.open_attachment(key, CONTEXT, header["id"], src, plain)
                plain.seek(0)
                if admin_public is not None:
                    _check_pin(plain, admin_public)
                    plain.seek(0)
                return _load_tar(plain, settings, db)
        finally:
            os.unlink(name)


def _check_pin(plain: IO[bytes], admin_public: bytes) -> None:
    """The pinned administrator key inside the backup is the one the operator named."""
    with tarfile.open(fileobj=plain, mode="r:") as tar:
        try:
            member = tar.extractfile("keys/admin-signing.pub")
            pinned = bytes.fromhex(member.read().decode().strip()) if member else b""
        except (KeyError, ValueError):
            pinned = b""
    if pinned != admin_public:
        raise BackupError(
            "the backup would pin another administrator key "
            f"({fingerprint(pinned) if pinned else 'none'}): do not restore it"
        )


# Tables a fresh schema already holds a row of (the statistics generation counter, migration
# 0018): an empty home has it too, so it does not make the database "not empty".
SEEDED_BY_MIGRATIONS = frozenset({"stat_generation"})


def _load_tar(plain: IO[bytes], settings: Settings, db: Database) -> dict[str, int]:
    db.migrate()
    counts: dict[str, int] = {}
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with tarfile.open(fileobj=plain, mode="r:") as tar, db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in SEEDED_BY_MIGRATIONS:
                continue
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise BackupError(f"the database is not empty (table {table.name})")
        members = {m.name: m for m in tar.getmembers()}
        for name, table in tables.items():
            member = members.get(f"db/{name}.jsonl")
            if member is None:
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            rows = [
                {
                    k: _decode(v, table.c[k].type)
                    for k, v in json.loads(line).items()
                    if k in table.c
                }
                for line in fh
                if line.strip()
            ]
            if rows:
                if name in SEEDED_BY_MIGRATIONS:  # the backup's row replaces the seed
                    conn.execute(table.delete())
                conn.execute(table.insert(), rows)
            counts[name] = len(rows)
        if db.engine.dialect.name == "postgresql":
            for table in tables.values():  # explicit ids were inserted: move sequences on
                if "id" in table.c and table.c["id"].autoincrement is True:
                    # Table names come from our own models, never from the backup.
                    top = conn.execute(select(func.max(table.c["id"]))).scalar() or 1
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                        {"t": table.name, "v": top},
                    )
        objects = settings.objects()  # restored into the store these settings name
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith("db/"):
                continue
            top, _, rel = member.name.partition("/")
            if (
                top not in ("attachments", "keys")
                or ".." in Path(rel).parts
                or Path(rel).is_absolute()
            ):
                raise BackupError(f"unexpected entry in the backup: {member.name}")
            fh = tar.extractfile(member)
            assert fh is not None
            if top == "attachments":
                with objects.writer(rel) as out:
                    while piece := fh.read(PIECE):
                        out.write(piece)
                continue
            target = settings.home / "keys" / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(target, "wb") as out:
                while piece := fh.read(PIECE):
                    out.write(piece)
            os.chmod(target, 0o600)
    for folder in (settings.home / "offline", settings.logs_dir):
        folder.mkdir(mode=0o700, exist_ok=True)
    return counts


def sign_document(signer: BackupSigner, body: dict[str, Any], prefix: bytes) -> dict[str, Any]:
    """A JSON document signed by the home's certified backup key (e.g. audit checkpoints)."""
    blob = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return {**body, "signer": signer.cert, "signature": signer.key.sign(prefix + blob).hex()}


def verify_document(document: Any, admin_public: bytes, prefix: bytes) -> dict[str, Any]:
    """The body of a signed document, if a key `admin_public` certified signed it."""
    try:
        body = {k: v for k, v in document.items() if k not in ("signer", "signature")}
        signing_public = _check_cert(document["signer"], admin_public)
        blob = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        Ed25519PublicKey.from_public_bytes(signing_public).verify(
            bytes.fromhex(document["signature"]), prefix + blob
        )
        return body
    except (AttributeError, KeyError, TypeError, ValueError, InvalidSignature) as exc:
        raise BackupError("the signature does not verify for the administrator key") from exc
