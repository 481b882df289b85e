"""Offline keys and process hygiene (December 2026 review, findings 4, 12, 23)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage import crypto
from tests.cli.conftest import home_of, sanad


def test_offline_keys_are_argon2id_locked_with_their_own_passphrases(
    home_env: dict[str, str],
) -> None:
    """Finding 4: the recovery and admin keys were PKCS#8 with PBKDF2 at 2,048 iterations
    and the demo caseworker's passphrase. Now they use the Argon2id format, and the demo
    passphrase opens neither."""
    offline = home_of(home_env) / "offline"
    for name, variable in (
        ("recovery.pem", "SANAD_RECOVERY_PASSPHRASE"),
        ("admin-signing.pem", "SANAD_ADMIN_PASSPHRASE"),
    ):
        data = (offline / name).read_bytes()
        assert crypto.is_locked_offline_key(data) and b"ENCRYPTED PRIVATE KEY" not in data
        with pytest.raises(crypto.CryptoError):
            crypto.import_private_key_encrypted(data, home_env["SANAD_PASSPHRASE"])
        crypto.import_private_key_encrypted(data, home_env[variable])
    same = dict(
        home_env,
        SANAD_HOME=str(home_of(home_env).parent / "other"),
        SANAD_ADMIN_PASSPHRASE=home_env["SANAD_PASSPHRASE"],
    )
    refused = sanad(same, "init", "--demo", check=False)
    assert refused.returncode == 2 and "different passphrases" in refused.stderr


def test_the_offline_format_uses_production_argon2id_and_reads_old_files() -> None:
    """Finding 4: by default the format stores 256 MiB, t=3 (as for caseworker keys); files
    of older homes (PKCS#8) still open, so restore keeps working."""
    key = X25519PrivateKey.generate()
    blob = crypto.export_private_key_encrypted(key, "a long offline passphrase")
    import base64

    raw = base64.decodebytes(b"".join(blob.strip().split(b"\n")[1:-1]))
    params = crypto.KdfParams.unpack(raw[2:11])
    assert params == crypto.PRODUCTION_USER_KDF
    old = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"old passphrase"),
    )
    assert (
        crypto.import_private_key_encrypted(old, "old passphrase").private_bytes_raw()
        == key.private_bytes_raw()
    )


def test_export_offline_moves_the_keys_and_the_warning_goes(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    """Finding 4: the keys stayed in SANAD_HOME/offline. `config check` and long-running
    commands warn while they are there; `keys export-offline` moves them."""
    env = {k: v for k, v in home_env.items() if k != "PYTEST_CURRENT_TEST"}
    warned = sanad(env, "config", "check", check=False)
    assert "move them offline with `sanad keys export-offline DIR`" in warned.stdout
    assert "SANAD_INSECURE_FAST_KDF=1" in warned.stdout  # finding 23: flagged
    chat = sanad(env, "chat", "--jsonl", "--user", "w", stdin="")
    assert "private keys are still on this server" in chat.stderr
    assert "SANAD_INSECURE_FAST_KDF=1" in chat.stderr  # finding 23: loudly warned
    inside = sanad(env, "keys", "export-offline", str(home_of(env) / "x"), check=False)
    assert inside.returncode == 2
    moved = sanad(env, "keys", "export-offline", str(tmp_path / "usb"))
    assert "Moved recovery.pem" in moved.stdout
    assert not list((home_of(env) / "offline").glob("*.pem"))
    key = tmp_path / "usb" / "recovery.pem"
    crypto.import_private_key_encrypted(key.read_bytes(), env["SANAD_RECOVERY_PASSPHRASE"])
    assert "still on this server" not in sanad(env, "config", "check", check=False).stdout


def test_long_running_commands_cannot_dump_core() -> None:
    """Finding 12: a core of the bot or dashboard held answers and unlocked keys. A process
    that ran `harden` has RLIMIT_CORE 0 and is not dumpable; SIGABRT writes no core."""
    code = (
        "import resource; from intake.hygiene import disable_core_dumps, "
        "is_dumpable; ok = disable_core_dumps(); "
        "print(ok, is_dumpable(), resource.getrlimit(resource.RLIMIT_CORE))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.split() == ["True", "False", "(0,", "0)"]


def test_the_epoch_folder_name_cannot_be_guessed_and_a_squatted_one_is_one_line(
    home_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 24: /dev/shm/sanad-<uid>-<sha256(home)> could be made in advance by another
    user, and the bot then died with a traceback. The name now carries a random tag kept in
    the home's keys folder, and a folder that is not ours is refused in one line."""
    import hashlib

    home = home_of(home_env)
    monkeypatch.delenv("SANAD_EPOCH_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    chosen = crypto.default_epoch_dir(home)
    if str(chosen).startswith("/dev/shm"):
        guess = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        assert guess not in chosen.name
        assert (home / "keys" / "epoch-tag").read_text().strip() in chosen.name
        assert crypto.default_epoch_dir(home) == chosen  # stable for the same home
    squat = tmp_path / "squatted"
    squat.mkdir(mode=0o777)
    import os

    if os.geteuid() == 0:
        os.chown(squat, 65534, 65534)  # as the review did, with `nobody`
    else:
        pytest.skip("needs root to make a folder owned by another user")
    out = sanad(
        dict(home_env, SANAD_EPOCH_DIR=str(squat)), "chat", "--jsonl", stdin="", check=False
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "SANAD_EPOCH_DIR" in out.stderr
