"""Property 8 (crypto half): drafts die with their epoch key after two rotations."""

from __future__ import annotations

import os
import stat
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storage.crypto import (
    CryptoError,
    DraftKeyring,
    RedisKeyring,
    default_epoch_dir,
    open_draft,
    seal_draft,
)

if TYPE_CHECKING:
    from conftest import FakeClock

EPOCH = 24 * 3600
HANDLE = bytes(range(32))
DRAFT = "draft-1"
EXPIRES = 1_700_100_000
STATE = '{"step": "q_location", "answers": {"q_name": "سامي"}}'.encode()


@pytest.fixture(params=["memory", "file", pytest.param("redis", marks=pytest.mark.redis)])
def keyring(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> DraftKeyring:
    """Each property holds for every keyring: in memory, the tmpfs folder, and Redis."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_keyring_url")
        return RedisKeyring(url, EPOCH, uuid.uuid4().hex[:16], clock)  # type: ignore[return-value]
    directory = None if request.param == "memory" else tmp_path / "epochs"
    return DraftKeyring(directory, EPOCH, clock)


def test_round_trip(keyring: DraftKeyring) -> None:
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    assert STATE not in sealed
    assert open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed) == STATE


def test_survives_one_rotation_not_two(keyring: DraftKeyring, clock: FakeClock) -> None:
    """Crypto property 8 (crypto-design.md)."""
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    clock.advance(EPOCH)
    assert open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed) == STATE
    clock.advance(EPOCH)
    with pytest.raises(CryptoError):
        open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed)


def test_a_long_gap_also_expires(keyring: DraftKeyring, clock: FakeClock) -> None:
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    clock.advance(10 * EPOCH)
    with pytest.raises(CryptoError):
        open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed)


def test_only_current_and_previous_keys_kept(keyring: DraftKeyring, clock: FakeClock) -> None:
    first = keyring.current()
    assert keyring.epochs() == (first,)
    clock.advance(EPOCH)
    assert keyring.rotate() == (first, first + 1)
    clock.advance(EPOCH)
    assert keyring.epochs() == (first + 1, first + 2)


@pytest.mark.parametrize(
    ("draft_id", "handle", "expires"),
    [("draft-2", HANDLE, EXPIRES), (DRAFT, bytes(32), EXPIRES), (DRAFT, HANDLE, EXPIRES + 1)],
)
def test_moved_or_altered_fails(
    keyring: DraftKeyring, draft_id: str, handle: bytes, expires: int
) -> None:
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    with pytest.raises(CryptoError):
        open_draft(keyring, draft_id, handle, expires, sealed)


def test_every_byte_flip_detected(keyring: DraftKeyring) -> None:
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, b"short")
    for position in range(len(sealed)):
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        with pytest.raises(CryptoError):
            open_draft(keyring, DRAFT, HANDLE, EXPIRES, bytes(altered))


def test_another_keyring_cannot_open(clock: FakeClock) -> None:
    sealed = seal_draft(DraftKeyring(None, EPOCH, clock), DRAFT, HANDLE, EXPIRES, STATE)
    with pytest.raises(CryptoError):
        open_draft(DraftKeyring(None, EPOCH, clock), DRAFT, HANDLE, EXPIRES, sealed)


def test_keys_file_modes_and_no_old_keys(tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "epochs"
    keyring = DraftKeyring(directory, EPOCH, clock)
    seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    path = keyring.path
    assert path is not None and path.parent == directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first_key = path.read_bytes()[8 + 8 :]
    assert len(first_key) == 32
    clock.advance(2 * EPOCH)
    keyring.rotate()
    content = path.read_bytes()
    assert first_key not in content
    assert len(content) == 8 + 40  # one entry: only the current epoch
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [path.name, f"{path.name}.lock", "items"]
    )
    assert stat.S_IMODE((directory / "items").stat().st_mode) == 0o700


def test_processes_share_the_file(tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "epochs"
    sealed = seal_draft(DraftKeyring(directory, EPOCH, clock), DRAFT, HANDLE, EXPIRES, STATE)
    assert (
        open_draft(DraftKeyring(directory, EPOCH, clock), DRAFT, HANDLE, EXPIRES, sealed) == STATE
    )


def test_concurrent_keyrings_agree(tmp_path: Path, clock: FakeClock) -> None:
    """Separate instances only share the flock, so this exercises it, not the thread lock."""
    directory = tmp_path / "epochs"
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            ring = DraftKeyring(directory, EPOCH, clock)
            for _ in range(20):
                results.append(seal_draft(ring, DRAFT, HANDLE, EXPIRES, STATE))
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    reader = DraftKeyring(directory, EPOCH, clock)
    assert all(open_draft(reader, DRAFT, HANDLE, EXPIRES, s) == STATE for s in results)


def test_unsafe_keys_file_refused(tmp_path: Path, clock: FakeClock) -> None:
    keyring = DraftKeyring(tmp_path / "epochs", EPOCH, clock)
    keyring.rotate()
    assert keyring.path is not None
    os.chmod(keyring.path, 0o644)
    with pytest.raises(CryptoError):
        keyring.rotate()


def test_corrupt_keys_file_refused(tmp_path: Path, clock: FakeClock) -> None:
    keyring = DraftKeyring(tmp_path / "epochs", EPOCH, clock)
    keyring.rotate()
    assert keyring.path is not None
    keyring.path.write_bytes(b"garbage")
    with pytest.raises(CryptoError):
        keyring.rotate()


def test_existing_directory_tightened(tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "epochs"
    directory.mkdir(mode=0o755)
    DraftKeyring(directory, EPOCH, clock)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_repr_hides_keys(tmp_path: Path, clock: FakeClock) -> None:
    keyring = DraftKeyring(tmp_path / "e", EPOCH, clock)
    seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE)
    assert keyring.path is not None
    key = keyring.path.read_bytes()[16:]
    assert key.hex() not in repr(keyring) and repr(key) not in repr(keyring)


def test_default_epoch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("SANAD_EPOCH_DIR", str(tmp_path / "explicit"))
    assert default_epoch_dir(home) == tmp_path / "explicit"
    monkeypatch.delenv("SANAD_EPOCH_DIR")
    runtime = tmp_path / "xdg"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    chosen = default_epoch_dir(home)
    assert chosen.parent == runtime and chosen.name.startswith("sanad-")
    assert default_epoch_dir(tmp_path / "other") != chosen
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    fallback = default_epoch_dir(home)
    assert fallback.parent == Path("/dev/shm") or fallback == home / "run"


# ---- item keys: erasing one draft or inbox row is crypto-shredding ----------------------


def test_an_erased_item_opens_for_no_one_though_the_epoch_key_is_still_held(
    keyring: DraftKeyring,
) -> None:
    """What a PostgreSQL dead tuple, pg_wal or a morning backup keeps of a deleted draft is the
    sealed blob; with the item key erased, the host's own keyring cannot open it."""
    copy = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE, item="draft:1")
    assert open_draft(keyring, DRAFT, HANDLE, EXPIRES, copy, item="draft:1") == STATE
    assert keyring.forget(["draft:1"]) == 1
    assert keyring.epochs()  # the epoch key is still there
    with pytest.raises(CryptoError, match="erased"):
        open_draft(keyring, DRAFT, HANDLE, EXPIRES, copy, item="draft:1")
    # Nor can a blob sealed with an item be opened as an epoch-only one, or under another item.
    with pytest.raises(CryptoError):
        open_draft(keyring, DRAFT, HANDLE, EXPIRES, copy)
    other = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE, item="draft:2")
    with pytest.raises(CryptoError):
        open_draft(keyring, DRAFT, HANDLE, EXPIRES, other, item="draft:3")


def test_item_keys_are_shared_by_processes_and_never_hold_the_plaintext(
    tmp_path: Path, clock: FakeClock
) -> None:
    directory = tmp_path / "epochs"
    sealed = seal_draft(
        DraftKeyring(directory, EPOCH, clock), DRAFT, HANDLE, EXPIRES, STATE, item="draft:1"
    )
    other = DraftKeyring(directory, EPOCH, clock)  # another worker on the same host
    assert open_draft(other, DRAFT, HANDLE, EXPIRES, sealed, item="draft:1") == STATE
    files = list((directory / "items").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert b"draft:1" not in files[0].name.encode() and STATE not in files[0].read_bytes()
    other.forget(["draft:1"])
    assert not list((directory / "items").iterdir())


def test_unused_item_keys_go_with_their_epoch(keyring: DraftKeyring, clock: FakeClock) -> None:
    sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE, item="draft:old")
    clock.advance(EPOCH)
    keyring.rotate()
    assert keyring.item_key("draft:old") is not None  # the previous epoch still opens
    assert open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed, item="draft:old") == STATE
    clock.advance(EPOCH)
    keyring.rotate()
    assert keyring.item_key("draft:old") is None


def test_resealing_keeps_an_item_key_alive(keyring: DraftKeyring, clock: FakeClock) -> None:
    for _ in range(4):  # a conversation that goes on for days, a message per epoch
        sealed = seal_draft(keyring, DRAFT, HANDLE, EXPIRES, STATE, item="draft:long")
        clock.advance(EPOCH)
        keyring.rotate()
    assert open_draft(keyring, DRAFT, HANDLE, EXPIRES, sealed, item="draft:long") == STATE
