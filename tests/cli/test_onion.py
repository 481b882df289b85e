"""The onion service helper: `sanad onion torrc` writes a configuration Debian's tor accepts
(`tor --verify-config`), and a tor started on it (with its network off: tests reach nothing
outside the loopback) makes the v3 onion address for the web chat."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from cli._onion import torrc_for
from tests.cli.conftest import sanad

TOR = shutil.which("tor")
needs_tor = pytest.mark.skipif(
    TOR is None,
    reason="Debian's tor is not installed (apt-get install -y tor; .ci/run does "
    "it when run as root)",
)


def test_torrc_has_the_onion_service_and_its_defences(tmp_path: Path) -> None:
    text = torrc_for(tmp_path / "hs", 8090)
    assert f"HiddenServiceDir {tmp_path / 'hs'}" in text
    assert "HiddenServicePort 80 127.0.0.1:8090" in text
    assert "HiddenServiceVersion 3" in text and "HiddenServicePoWDefensesEnabled 1" in text
    assert "DataDirectory" not in text  # for the system tor unless asked
    with pytest.raises(ValueError, match="loopback"):
        torrc_for(tmp_path / "hs", 8090, host="0.0.0.0")


@needs_tor
def test_tor_accepts_the_written_config_and_makes_an_onion_address(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    out = tmp_path / "torrc"
    hs, data = tmp_path / "hs", tmp_path / "data"
    sanad(
        cli_env,
        "onion",
        "torrc",
        "--hidden-service-dir",
        str(hs),
        "--data-dir",
        str(data),
        "--port",
        "8090",
        "--out",
        str(out),
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert TOR is not None
    verify = subprocess.run(
        [TOR, "--verify-config", "-f", str(out)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0, verify.stdout[-2000:]
    assert "Configuration was valid" in verify.stdout
    tor = subprocess.Popen(
        [TOR, "-f", str(out), "--DisableNetwork", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        hostname = hs / "hostname"
        deadline = time.monotonic() + 30
        while not hostname.exists() and time.monotonic() < deadline and tor.poll() is None:
            time.sleep(0.1)
        assert hostname.exists(), "tor made no onion address"
        assert re.fullmatch(r"[a-z2-7]{56}\.onion\n?", hostname.read_text())
        assert stat.S_IMODE(hs.stat().st_mode) == 0o700  # tor keeps the keys private
    finally:
        tor.terminate()
        tor.wait(timeout=20)


@needs_tor
def test_tor_refuses_a_broken_config(tmp_path: Path) -> None:
    bad = tmp_path / "torrc"
    bad.write_text(
        torrc_for(tmp_path / "hs", 8090, data_dir=tmp_path / "d").replace(
            "HiddenServicePort 80", "HiddenServicePort eighty"
        )
    )
    assert TOR is not None
    verify = subprocess.run(
        [TOR, "--verify-config", "-f", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode != 0
