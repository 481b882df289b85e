"""Encrypted backups: `sanad backup FILE` and `sanad restore FILE`.

A backup is a tar stream (every table as JSON lines, the sealed attachment files, the
intake's pepper and pinned key) sealed with Cobblestone-256 under a fresh key that is
wrapped with HPKE to the organisation recovery key. Making one needs no private key;
restoring needs the recovery key, which lives offline. Report content inside is sealed
twice: once as always, once by the backup.

    file = b"SANADBK1\\n" + header JSON + b"\\n" + sealed tar stream
"""

from __future__ import annotations

import base64
import json
import os
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, text
from sqlalchemy.types import DateTime, LargeBinary

import alerts.models  # noqa: F401  (the alerts table lives outside storage/models.py)
from intake.settings import Settings
from storage import crypto
from storage.db import Database
from storage.models import Base

MAGIC = b"SANADBK1\n"
CONTEXT = "backup"
PIECE = 1 << 16


class BackupError(Exception):
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
        for folder, prefix in ((settings.attachments_dir, "attachments"),
                               (settings.home / "keys", "keys")):
            if folder.exists():
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and not path.name.endswith(".partial"):
                        tar.add(path, arcname=f"{prefix}/{path.relative_to(folder)}")
    return counts


def make_backup(settings: Settings, db: Database, recovery_public: bytes,
                destination: Path) -> dict[str, int]:
    """Write an encrypted backup; returns row counts per table (progress for the caller)."""
    key = crypto.new_data_key()
    backup_id = str(uuid.uuid4())
    header = {"version": 1, "id": backup_id, "created": datetime.now().astimezone().isoformat(),
              "recipient": crypto.key_id(recovery_public).hex(),
              "wrapped": base64.b64encode(crypto.wrap_key(key, f"backup:{backup_id}",
                                                          recovery_public)).decode()}
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
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def restore_backup(source: Path, recovery_private: Any, settings: Settings,
                   db: Database) -> dict[str, int]:
    """Restore into an empty home and an empty database; returns row counts per table."""
    if (settings.home / "keys" / "pepper").exists():
        raise BackupError(f"{settings.home} already holds a Sanad home: restore into an "
                          "empty one")
    with open(source, "rb") as src:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source} is not a Sanad backup")
        header = json.loads(src.readline())
        try:
            key = crypto.unwrap_key(base64.b64decode(header["wrapped"]),
                                    f"backup:{header['id']}", recovery_private)
        except crypto.CryptoError as exc:
            raise BackupError("this recovery key does not open the backup") from exc
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=settings.home, prefix=".restore-")
        try:
            with os.fdopen(fd, "w+b") as plain:
                crypto.open_attachment(key, CONTEXT, header["id"], src, plain)
                plain.seek(0)
                return _load_tar(plain, settings, db)
        finally:
            os.unlink(name)


def _load_tar(plain: IO[bytes], settings: Settings, db: Database) -> dict[str, int]:
    db.migrate()
    counts: dict[str, int] = {}
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with tarfile.open(fileobj=plain, mode="r:") as tar, db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise BackupError(f"the database is not empty (table {table.name})")
        members = {m.name: m for m in tar.getmembers()}
        for name, table in tables.items():
            member = members.get(f"db/{name}.jsonl")
            if member is None:
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            rows = [{k: _decode(v, table.c[k].type) for k, v in json.loads(line).items()
                     if k in table.c} for line in fh if line.strip()]
            if rows:
                conn.execute(table.insert(), rows)
            counts[name] = len(rows)
        if db.engine.dialect.name == "postgresql":
            for table in tables.values():  # explicit ids were inserted: move sequences on
                if "id" in table.c and table.c["id"].autoincrement is True:
                    # Table names come from our own models, never from the backup.
                    top = conn.execute(select(func.max(table.c["id"]))).scalar() or 1
                    conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                                 {"t": table.name, "v": top})
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith("db/"):
                continue
            top, _, rel = member.name.partition("/")
            base = {"attachments": settings.attachments_dir, "keys": settings.home / "keys"}
            if top not in base or ".." in Path(rel).parts or Path(rel).is_absolute():
                raise BackupError(f"unexpected entry in the backup: {member.name}")
            target = base[top] / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fh = tar.extractfile(member)
            assert fh is not None
            with open(target, "wb") as out:
                while piece := fh.read(PIECE):
                    out.write(piece)
            os.chmod(target, 0o600)
    for folder in (settings.home / "offline", settings.logs_dir):
        folder.mkdir(mode=0o700, exist_ok=True)
    return counts
