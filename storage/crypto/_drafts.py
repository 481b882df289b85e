"""Drafts: conversations in progress, sealed under short-lived epoch keys.

The bot must read drafts to continue a conversation, so they cannot be sealed to
caseworkers. Epoch keys live in memory or in a tmpfs file, never in the database; only
the current and previous epoch's keys are kept, so a stolen database plus a later
compromise reveals no draft older than two epochs.

Draft blob: ``version(1) | epoch(8, big-endian) | nonce(12) | AESGCM ciphertext`` with
AAD = ``sanad/v1/draft|draft_id|user_handle hex|expires_at``.

Item keys (version 2): a draft or inbox row may also be sealed under a key of its own, held
beside the epoch keys (never in the database) and deleted the moment the row is erased. The
sealing key is then HKDF(epoch key || item key), so a copy of the row that outlives its
deletion (a PostgreSQL dead tuple before VACUUM, pg_wal, a SQLite WAL frame, a backup of the
database taken that morning) can no longer be opened by anyone, the host included: erasing is
crypto-shredding, in both databases' terms. An item key unused for two epochs is dropped with
the epoch key it was used with (it could open nothing more).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import secrets
import stat
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._errors import CryptoError
from ._util import component, context, number

__all__ = [
    "ITEMS_DIR",
    "KEYS_FILE",
    "LOCK_FILE",
    "VERSION",
    "VERSION_ITEM",
    "DraftKeyMissing",
    "DraftKeyring",
    "Keyring",
    "default_epoch_dir",
    "open_draft",
    "seal_draft",
]

VERSION = 1
VERSION_ITEM = 2  # sealed under epoch key and item key (erasable on its own)
KEYS_FILE = "draft-epoch-keys"
LOCK_FILE = "draft-epoch-keys.lock"
ITEMS_DIR = "items"
_MAGIC = b"SANADEK1"
_ENTRY = struct.Struct(">Q32s")
_EPOCH = struct.Struct(">Q")
_NONCE = 12
_PREFIX = b"sanad/v1/draft|"


def default_epoch_dir(home: Path) -> Path:
    """Where the epoch-keys file should live for a Sanad home directory.

    Preference order and why:

    1. ``$SANAD_EPOCH_DIR``: the operator knows best.
    2. ``$XDG_RUNTIME_DIR/sanad-<hash>``: per-user tmpfs (mode 0700, wiped at logout and
       reboot); the key never reaches a disk.
    3. ``/dev/shm/sanad-<uid>-<hash>``: tmpfs too, but shared and world-writable, so the
       keyring checks ownership and mode of the directory it is given.
    4. ``home/run``: on disk as a last resort. Keys then survive reboots and may reach
       backups or swap; drafts stay readable for at most two epochs either way.

    The hash (of the resolved home path) keeps two Sanad homes on one host apart.
    """
    explicit = os.environ.get("SANAD_EPOCH_DIR")
    if explicit:
        return Path(explicit)
    tag = hashlib.sha256(str(Path(home).resolve()).encode("utf-8")).hexdigest()[:12]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / f"sanad-{tag}"
    shm = Path("/dev/shm")  # noqa: S108  # nosec B108 - deliberate tmpfs; the keyring checks owner and mode
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        # Shared and world-writable: a name no other user can know in advance (a random tag
        # kept in the home's private keys folder), so it cannot be squatted (review 24).
        return shm / f"sanad-{os.getuid()}-{_shm_tag(Path(home)) or tag}"
    return Path(home) / "run"


def _shm_tag(home: Path) -> str | None:
    """The home's random epoch-folder tag (keys/epoch-tag, 0600), made on first use."""
    keys = home / "keys"
    if not keys.is_dir():
        return None
    path = keys / "epoch-tag"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return path.read_text().strip() or None
    except OSError:
        return None
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(16) + "\n")
    return path.read_text().strip()


class Keyring(Protocol):
    """Where draft and inbox keys live: `DraftKeyring` (memory or a tmpfs folder, one host)
    or `RedisKeyring` (shared by several hosts). Never the database."""

    @property
    def path(self) -> Path | None: ...
    def current(self) -> int: ...
    def rotate(self) -> tuple[int, ...]: ...
    def epochs(self) -> tuple[int, ...]: ...
    def item_key(self, name: str, create: bool = False) -> bytes | None: ...
    def forget(self, names: Iterable[str]) -> int: ...
    def _sealing_key(self) -> tuple[int, bytes]: ...
    def _key_for(self, epoch: int) -> bytes | None: ...


class DraftKeyring:
    """Epoch keys for drafts, in a 0600 file under a 0700 directory or in memory only.

    The epoch is ``int(clock() // epoch_seconds)``. Every access drops keys older than
    the previous epoch and creates the current one if missing. File writes are atomic
    (temp file + ``os.replace``) and serialised across processes with ``flock``.
    """

    def __init__(
        self,
        directory: Path | None,
        epoch_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(epoch_seconds, bool) or not isinstance(epoch_seconds, int):
            raise TypeError("epoch_seconds must be int")
        if epoch_seconds <= 0:
            raise ValueError("epoch_seconds must be positive")
        self._directory = None if directory is None else Path(directory)
        self._epoch_seconds = epoch_seconds
        self._clock = clock
        self._memory: dict[int, bytes] = {}
        self._items: dict[str, tuple[bytes, float]] = {}  # in-memory item keys, last used
        self._swept: int | None = None  # the epoch whose stale item keys were last dropped
        self._thread_lock = threading.Lock()
        # The keys file as last read: (epoch, file identity, keys). Reused while neither the
        # epoch nor the file changed, so sealing does not take the flock and read the file
        # for every message; any change by another process (rotation) is seen at once.
        self._cached: tuple[int, tuple[int, ...], dict[int, bytes]] | None = None
        if self._directory is not None:
            _prepare_directory(self._directory)
            _prepare_directory(self._directory / ITEMS_DIR)

    def __repr__(self) -> str:
        where = "memory" if self._directory is None else str(self._directory)
        return f"DraftKeyring({where}, epoch_seconds={self._epoch_seconds})"

    @property
    def path(self) -> Path | None:
        """The keys file, or None for an in-memory keyring."""
        return None if self._directory is None else self._directory / KEYS_FILE

    def current(self) -> int:
        """The current epoch number (by the keyring's clock)."""
        return int(self._clock() // self._epoch_seconds)

    def rotate(self) -> tuple[int, ...]:
        """Apply retention now (e.g. from a scheduled job), item keys included; return the
        epochs kept."""
        kept = tuple(sorted(self._refresh()))
        self._drop_stale_items(self.current())
        return kept

    def epochs(self) -> tuple[int, ...]:
        """Epochs whose keys are held, after applying retention."""
        return self.rotate()

    # ---- item keys: one per draft or inbox row, deleted when the row is erased -----------

    def item_key(self, name: str, create: bool = False) -> bytes | None:
        """The key of one sealed item (a draft, an inbox row), or None if it was erased or
        never made. ``create`` makes a fresh one when missing, and marks it as used now
        (an unused key goes after two epochs)."""
        if self._directory is None:
            with self._thread_lock:
                held = self._items.get(name)
                if held is None and create:
                    held = (AESGCM.generate_key(bit_length=256), self._clock())
                elif held is not None and create:
                    held = (held[0], self._clock())
                if held is not None:
                    self._items[name] = held
                return None if held is None else held[0]
        path = self._item_path(name)
        key = _read_item(path)
        if key is None and create:
            key = _create_item(path, self._clock())
        elif key is not None and create:
            os.utime(path, (self._clock(), self._clock()), follow_symlinks=False)
        return key

    def forget(self, names: Iterable[str]) -> int:
        """Erase these items' keys (their sealed rows can never be opened again); the count
        erased. Call it once the rows' deletion is committed."""
        erased = 0
        for name in names:
            if self._directory is None:
                with self._thread_lock:
                    erased += self._items.pop(name, None) is not None
                continue
            try:
                self._item_path(name).unlink()
                erased += 1
            except FileNotFoundError:
                pass
        return erased

    def _item_path(self, name: str) -> Path:
        assert self._directory is not None
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]
        return self._directory / ITEMS_DIR / digest

    def _drop_stale_items(self, now: int) -> None:
        """Item keys last used before the previous epoch began: their epoch keys are gone."""
        oldest = (now - 1) * self._epoch_seconds
        now_s = self._clock()
        if self._directory is None:
            with self._thread_lock:
                self._items = {k: v for k, v in self._items.items() if v[1] >= oldest}
            return
        for path in (self._directory / ITEMS_DIR).iterdir():
            try:
                if os.lstat(path).st_mtime < oldest or (
                    path.name.endswith(".tmp") and os.lstat(path).st_mtime < now_s - 60
                ):
                    path.unlink()
            except FileNotFoundError:
                pass

    def _sealing_key(self) -> tuple[int, bytes]:
        keys = self._refresh()
        epoch = max(keys)
        if self._swept != epoch:  # once per epoch per process, whoever runs the purge
            self._swept = epoch
            self._drop_stale_items(epoch)
        return epoch, keys[epoch]

    def _key_for(self, epoch: int) -> bytes | None:
        return self._refresh().get(epoch)

    def _refresh(self) -> dict[int, bytes]:
        with self._thread_lock:
            now = self.current()
            if self._directory is None:
                self._memory = _retain(self._memory, now)
                return dict(self._memory)
            path = self._directory / KEYS_FILE
            cached = self._cached
            if cached is not None and cached[0] == now and cached[1] == _identity(path):
                return dict(cached[2])
            with _flocked(self._directory / LOCK_FILE):
                stored = _read_keys(path)
                kept = _retain(stored, now)
                if kept != stored:
                    _write_keys(path, kept)
                self._cached = (now, _identity(path), dict(kept))
                return kept


def _identity(path: Path) -> tuple[int, ...]:
    """Changes with any write, replacement, chmod or chown of the file (ctime moves)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return (-1,)
    return (st.st_ino, st.st_ctime_ns, st.st_mtime_ns, st.st_size, st.st_mode, st.st_uid)


def _retain(keys: dict[int, bytes], now: int) -> dict[int, bytes]:
    """Keep only the current and previous epoch; add the current key if missing."""
    kept = {epoch: key for epoch, key in keys.items() if now - 1 <= epoch <= now}
    if now not in kept:
        kept[now] = AESGCM.generate_key(bit_length=256)
    return kept


def _prepare_directory(directory: Path) -> None:
    """Create the directory 0700 and refuse one owned by someone else (e.g. in /dev/shm)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(
            f"the epoch key folder {directory} is not a folder of this user "
            "(someone else made it): remove it or set SANAD_EPOCH_DIR"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)


@contextmanager
def _flocked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _read_keys(path: Path) -> dict[int, bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise CryptoError("epoch keys file has unsafe owner or mode; delete it")
        data = handle.read()
    body = data[len(_MAGIC) :]
    if not data.startswith(_MAGIC) or len(body) % _ENTRY.size:
        raise CryptoError("epoch keys file is corrupt; delete it (open drafts are lost)")
    return dict(_ENTRY.iter_unpack(body))


def _write_keys(path: Path, keys: dict[int, bytes]) -> None:
    body = b"".join(_ENTRY.pack(epoch, keys[epoch]) for epoch in sorted(keys))
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(_MAGIC + body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _create_item(path: Path, now: float) -> bytes:
    """Write a fresh item key atomically (temp file, then a hard link that fails if another
    process made it first: then that one is used)."""
    key = AESGCM.generate_key(bit_length=256)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        os.utime(temp, (now, now))
        try:
            os.link(temp, path)
        except FileExistsError:
            other = _read_item(path)
            if other is None:
                raise CryptoError("an item key vanished while it was made") from None
            return other
    finally:
        temp.unlink(missing_ok=True)
    return key


def _read_item(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise CryptoError("an item key file has unsafe owner or mode; delete it")
        key = handle.read()
    if len(key) != 32:
        raise CryptoError("an item key file is corrupt")
    return key


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _aad(draft_id: str, user_handle: bytes, expires_at: int, item: str | None = None) -> bytes:
    parts = [
        _PREFIX,
        component("draft_id", draft_id),
        bytes(user_handle).hex().encode("ascii"),
        number("expires_at", expires_at),
    ]
    if item is not None:
        parts.append(component("item", item))
    return context(*parts)


def _item_sealing_key(epoch_key: bytes, item_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"sanad/v1/draft-item-key"
    ).derive(epoch_key + item_key)


def seal_draft(
    keyring: Keyring,
    draft_id: str,
    user_handle: bytes,
    expires_at: int,
    plaintext: bytes,
    item: str | None = None,
) -> bytes:
    """Seal a draft under the current epoch key (the epoch is recorded in the blob); with
    ``item``, also under that item's own key (made if missing), so ``keyring.forget(item)``
    erases every copy of it."""
    aad = _aad(draft_id, user_handle, expires_at, item)
    epoch, key = keyring._sealing_key()
    version = VERSION
    if item is not None:
        item_key = keyring.item_key(item, create=True)
        assert item_key is not None
        key, version = _item_sealing_key(key, item_key), VERSION_ITEM
    nonce = os.urandom(_NONCE)
    return (
        bytes([version]) + _EPOCH.pack(epoch) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    )


def open_draft(
    keyring: Keyring,
    draft_id: str,
    user_handle: bytes,
    expires_at: int,
    sealed: bytes,
    item: str | None = None,
) -> bytes:
    """Open a draft; CryptoError if its epoch key or item key is gone, or it was altered or
    moved. A blob sealed with an item key opens only with that item named."""
    header = 1 + _EPOCH.size + _NONCE
    if len(sealed) < header + 16 or sealed[0] not in (VERSION, VERSION_ITEM):
        raise CryptoError("sealed draft is malformed")
    if (sealed[0] == VERSION_ITEM) != (item is not None):
        raise CryptoError("sealed draft cannot be opened")
    aad = _aad(draft_id, user_handle, expires_at, item)
    (epoch,) = _EPOCH.unpack(bytes(sealed[1 : 1 + _EPOCH.size]))
    key = keyring._key_for(epoch)
    if key is None:
        raise DraftKeyMissing("draft key has expired", epoch=epoch, current=keyring.current())
    if item is not None:
        item_key = keyring.item_key(item)
        if item_key is None:
            raise DraftKeyMissing(
                "draft item key was erased", epoch=epoch, current=keyring.current(), erased=True
            )
        key = _item_sealing_key(key, item_key)
    try:
        return AESGCM(key).decrypt(
            bytes(sealed[header - _NONCE : header]), bytes(sealed[header:]), aad
        )
    except InvalidTag as exc:
        raise CryptoError("sealed draft cannot be opened") from exc


class DraftKeyMissing(CryptoError):
    """The key a sealed draft needs is not in the keyring. ``unexpected`` when that should
    not happen (the epoch is still within retention and the item was not erased): the
    keyring was lost (a tmpfs host rebooted) or is not shared with the host that sealed it."""

    def __init__(self, message: str, epoch: int, current: int, erased: bool = False) -> None:
        super().__init__(message)
        self.epoch, self.current, self.erased = epoch, current, erased

    @property
    def unexpected(self) -> bool:
        return self.epoch >= self.current - 1
