"""Where sealed attachments live: a folder of this host, or an S3-compatible object store.

`SANAD_OBJECT_STORE_URL` chooses (`open_objects`, the one place that does):
- unset: `LocalObjects`, files under ``SANAD_HOME/attachments/<key>``, as always;
- ``s3://bucket[/prefix]``: `S3Objects`, objects ``[prefix/]<key>`` in that bucket, so every
  bot host and dashboard sees the same files. Endpoint, credentials and region come from the
  usual variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_DEFAULT_REGION``), read by boto3, which is imported only when an S3 store is opened.

A key is the attachment's relative path as the database keeps it (``<case_id>/<id>.sealed``):
its first part groups a case's (or a draft's) files, which is what `list_prefixes` and
`delete_prefix` work on. What is written is always ciphertext: `seal_attachment` writes into
`writer()`, so nothing leaves the process unsealed. S3 uploads go through a spooled temporary
file (ciphertext, in memory up to 8 MiB, then on disk), multipart above 8 MiB; reads stream.

Deletion is for real: a local file is overwritten with zeros, then unlinked; in a bucket with
versioning every version and delete marker of the key goes, not just the current one.

Exceptions: `ObjectStoreError` (an `OSError`, so callers that handle a full disk handle an
unreachable bucket the same way) and its subclass `ObjectMissing` (also a
`FileNotFoundError`); `ObjectStoreUrlError` (a `ValueError`) for a URL that cannot be used.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from core import ConfigurationError, UnavailableError

__all__ = [
    "LocalObjects",
    "ObjectMissing",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUrlError",
    "S3Objects",
    "open_objects",
    "parse_s3_url",
    "shred",
]

SPOOL_BYTES = 8 << 20  # in memory up to this, then a temporary file (ciphertext only)
MULTIPART_BYTES = 8 << 20
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
T = TypeVar("T")


class ObjectStoreError(UnavailableError, OSError):
    """The object store refused or did not answer; the message is one line, no secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)

    def __str__(self) -> str:
        return str(self.strerror)


class ObjectMissing(ObjectStoreError, FileNotFoundError):
    """No object under that key."""


class ObjectStoreUrlError(ConfigurationError, ValueError):
    """`SANAD_OBJECT_STORE_URL` is not a URL this program can use."""


@runtime_checkable
class ObjectStore(Protocol):
    """Put-stream, open-stream, delete, delete-prefix and list-prefixes over keys of the
    form ``<group>/<name>``."""

    url: str

    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A seekable file to write the object into; stored when the block ends without an
        exception, and nothing is left behind when it ends with one."""

    def reader(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The object as a file read in pieces; `ObjectMissing` when there is none."""

    def delete(self, key: str) -> None:
        """Delete an object for real; nothing happens when there is none."""

    def delete_prefix(self, group: str) -> int:
        """Delete every object of a group (``<group>/…``); how many went."""

    def list_prefixes(self) -> list[str]:
        """The groups that hold at least one object (or, locally, a folder)."""

    def walk(self) -> Iterator[tuple[str, int]]:
        """Every stored object as (key, size), in key order (for backups)."""

    def check(self) -> None:
        """Raise `ObjectStoreError` when the store cannot be used (for `sanad config check`)."""


def _checked_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".", "") for p in parts) or "\\" in key:
        raise ValueError("an object key is a relative path without '..'")
    return "/".join(parts)


def open_objects(url: str | None, root: Path) -> ObjectStore:
    """The store `url` names (`SANAD_OBJECT_STORE_URL`); the folder `root` when unset."""
    if not url:
        return LocalObjects(root)
    bucket, prefix = parse_s3_url(url)
    return S3Objects(bucket, prefix)


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket[/prefix]``; `ObjectStoreUrlError` otherwise."""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://…" if parts.scheme else repr(url[:40])
    if parts.scheme != "s3":
        raise ObjectStoreUrlError(
            f"SANAD_OBJECT_STORE_URL must be s3://bucket[/prefix], not {shown}"
        )
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ObjectStoreUrlError(
            "SANAD_OBJECT_STORE_URL takes no credentials, query or fragment: credentials "
            "come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ObjectStoreUrlError(
            f"SANAD_OBJECT_STORE_URL: '{bucket[:63]}' is not an S3 bucket name (3-63 "
            "lowercase letters, digits, dots and hyphens)"
        )
    prefix = parts.path.strip("/")
    if prefix:
        try:
            prefix = _checked_key(prefix)
        except ValueError:
            raise ObjectStoreUrlError(
                "SANAD_OBJECT_STORE_URL: the prefix must be a plain path"
            ) from None
    return bucket, prefix


def shred(path: Path) -> None:
    """Overwrite a file with zeros before unlinking it (best effort: copy-on-write and flash
    storage may keep old blocks; a sealed file is ciphertext either way)."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as out:
            chunk = bytes(min(size, 1 << 20))
            left = size
            while left > 0:
                left -= out.write(chunk[:left])
            out.flush()
            os.fsync(out.fileno())
        path.unlink()
    except FileNotFoundError:
        return


class LocalObjects:
    """Files under one folder of this host (``SANAD_HOME/attachments``): the default."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def __repr__(self) -> str:
        return f"LocalObjects({self.root})"

    def path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".partial")  # never the name of a stored object
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                yield out
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @contextmanager
    def reader(self, key: str) -> Iterator[BinaryIO]:
        try:
            src = open(self.path(key), "rb")  # closed by the with below
        except FileNotFoundError:
            raise ObjectMissing(f"no stored file {key}") from None
        with src:
            yield src

    def delete(self, key: str) -> None:
        shred(self.path(key))

    def delete_prefix(self, group: str) -> int:
        folder = self.path(group)
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def list_prefixes(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("*") if p.is_dir())

    def walk(self) -> Iterator[tuple[str, int]]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(".partial"):
                yield path.relative_to(self.root).as_posix(), path.stat().st_size

    def check(self) -> None:
        if self.root.exists() and not os.access(self.root, os.W_OK | os.X_OK):
            raise ObjectStoreError(f"cannot write to the attachments folder {self.root}")


class S3Objects:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Garage…) through boto3.

    The client is made once per store and shared by threads (boto3 clients are thread-safe);
    it makes no request until one is needed."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.url = f"s3://{bucket}/{prefix}".rstrip("/")
        self._client = client
        self._lock = threading.Lock()
        self._versioned: bool | None = None

    def __repr__(self) -> str:
        return f"S3Objects({self.url})"

    @property
    def client(self) -> Any:
        with self._lock:  # making a client is not thread-safe in boto3; using one is
            if self._client is None:
                import boto3  # lazily: processes without an object store never pay for it
                from botocore.config import Config

                self._client = boto3.session.Session().client(
                    "s3",
                    config=Config(
                        connect_timeout=5,
                        read_timeout=60,
                        retries={"mode": "standard", "max_attempts": 3},
                    ),
                )
            return self._client

    def _key(self, key: str) -> str:
        return self.prefix + _checked_key(key)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one request; its failure becomes an `ObjectStoreError` of one line."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound") and what.startswith("read"):
                raise ObjectMissing(f"no object {what[5:]} in {self.url}") from None
            raise ObjectStoreError(_client_error(self.url, what, code)) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise ObjectStoreError(
                f"object store {self.url}: {what} failed: {_one_line(exc)}"
            ) from exc

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        from boto3.s3.transfer import TransferConfig

        name = self._key(key)
        config = TransferConfig(
            multipart_threshold=MULTIPART_BYTES,
            multipart_chunksize=MULTIPART_BYTES,
            use_threads=False,
        )
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buf:
            yield buf  # type: ignore[misc]  # an exception here uploads nothing
            buf.seek(0)
            self._call(
                "upload", lambda: self.client.upload_fileobj(buf, self.bucket, name, Config=config)
            )

    @contextmanager
    def reader(self, key: str) -> Iterator[BinaryIO]:
        name = self._key(key)
        response = self._call(
            f"read {key}", lambda: self.client.get_object(Bucket=self.bucket, Key=name)
        )
        body = response["Body"]
        try:
            yield _Body(body, self)  # type: ignore[misc]
        finally:
            body.close()

    def versioned(self) -> bool:
        """Whether the bucket keeps old versions (asked once): deletion must remove them."""
        if self._versioned is None:
            answer = self._call(
                "versioning", lambda: self.client.get_bucket_versioning(Bucket=self.bucket)
            )
            self._versioned = answer.get("Status") in ("Enabled", "Suspended")
        return self._versioned

    def _versions(self, prefix: str) -> Iterator[dict[str, str]]:
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in self._call("list versions", lambda: list(pages)):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                yield {"Key": item["Key"], "VersionId": item["VersionId"]}

    def _names(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in self._call("list", lambda: list(pages)):
            yield from page.get("Contents", [])

    def _delete_many(self, items: list[dict[str, str]]) -> None:
        for start in range(0, len(items), 1000):
            batch = items[start : start + 1000]
            answer = self._call(
                "delete",
                lambda b=batch: self.client.delete_objects(  # type: ignore[misc]
                    Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}
                ),
            )
            if answer.get("Errors"):
                code = answer["Errors"][0].get("Code", "")
                raise ObjectStoreError(_client_error(self.url, "delete", str(code)))

    def delete(self, key: str) -> None:
        name = self._key(key)
        if self.versioned():
            self._delete_many([v for v in self._versions(name) if v["Key"] == name])
        else:
            self._call("delete", lambda: self.client.delete_object(Bucket=self.bucket, Key=name))

    def delete_prefix(self, group: str) -> int:
        prefix = self._key(group) + "/"
        names = [{"Key": o["Key"]} for o in self._names(prefix)]
        items = list(self._versions(prefix)) if self.versioned() else names
        self._delete_many(items)
        return len(names)

    def list_prefixes(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        )
        groups = []
        for page in self._call("list", lambda: list(pages)):
            for common in page.get("CommonPrefixes", []):
                groups.append(common["Prefix"][len(self.prefix) :].rstrip("/"))
        return sorted(g for g in groups if g)

    def walk(self) -> Iterator[tuple[str, int]]:
        for item in self._names(self.prefix):
            yield item["Key"][len(self.prefix) :], int(item["Size"])

    def check(self) -> None:
        self._call("check", lambda: self.client.head_bucket(Bucket=self.bucket))


class _Body:
    """A streamed object body whose failures are `ObjectStoreError`s."""

    def __init__(self, body: Any, store: S3Objects) -> None:
        self._body, self._store = body, store

    def read(self, n: int = -1) -> bytes:
        return self._store._call(
            "read", lambda: bytes(self._body.read() if n is None or n < 0 else self._body.read(n))
        )


def _client_error(url: str, what: str, code: str) -> str:
    bucket = url.removeprefix("s3://").split("/")[0]
    if code in ("404", "NoSuchBucket", "NotFound"):
        return f"object store {url}: no bucket {bucket} at this endpoint (AWS_ENDPOINT_URL)"
    if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return (
            f"object store {url}: access denied ({code}); check AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY and the bucket's policy"
        )
    return f"object store {url}: {what} failed ({code or 'error'})"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
