"""`sanad nlu eval FILE --json` exactly as contracts.md, through the real command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nlu import TEST_PATH
from tests import preloaded_sanad

SMALL = """\
version: "3.1"
nlu:
- intent: affirm
  examples: |
    - yes
    - ايوه
    - aywa
- intent: deny
  examples: |
    - la2
    - مش موافق
- intent: out_of_scope
  examples: |
    - the wall was painted green
"""


def _sanad(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return preloaded_sanad.run(args, env, timeout=120)


@pytest.fixture
def env(cli_env: dict[str, str], model_cache: Path) -> dict[str, str]:
    return {**cli_env, "SANAD_NLU_CACHE": str(model_cache)}


def _check_shape(report: dict) -> None:
    assert set(report) == {"n", "accuracy", "macro_f1", "per_intent", "confusions"}
    assert isinstance(report["n"], int)
    assert 0.0 <= report["accuracy"] <= 1.0 and 0.0 <= report["macro_f1"] <= 1.0
    for metrics in report["per_intent"].values():
        assert set(metrics) == {"precision", "recall", "f1", "support"}
        assert isinstance(metrics["support"], int)
    assert isinstance(report["confusions"], list)
    for c in report["confusions"]:
        assert set(c) == {"intent", "predicted", "count"}


def test_eval_json_on_a_small_file(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "small.yml"
    path.write_text(SMALL, encoding="utf-8")
    proc = _sanad(env, "nlu", "eval", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    _check_shape(report)
    assert report["n"] == 6
    assert report["accuracy"] == 1.0
    assert set(report["per_intent"]) == {"affirm", "deny", "nlu_fallback"}
    assert report["per_intent"]["affirm"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 3,
    }


def test_eval_json_on_the_held_out_split_with_each_local_backend(env: dict[str, str]) -> None:
    reports = {}
    for backend in ("builtin", "rules"):
        proc = _sanad(env, "nlu", "eval", str(TEST_PATH), "--json", "--backend", backend)
        assert proc.returncode == 0, proc.stderr
        reports[backend] = json.loads(proc.stdout)
        _check_shape(reports[backend])
    assert reports["builtin"]["accuracy"] > reports["rules"]["accuracy"]
    assert reports["builtin"]["confusions"] == sorted(
        reports["builtin"]["confusions"], key=lambda c: -c["count"]
    )


def test_eval_of_a_file_that_is_not_nlu_data_is_one_clear_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "stories.yml"
    path.write_text("stories: []\n")
    proc = _sanad(env, "nlu", "eval", str(path), "--json")
    assert proc.returncode == 2
    assert proc.stderr.startswith("sanad: ") and len(proc.stderr.strip().splitlines()) == 1


def test_rasa_backend_without_a_url_is_one_clear_line(env: dict[str, str]) -> None:
    proc = _sanad(env, "nlu", "parse", "hello", "--backend", "rasa")
    assert proc.returncode == 2
    assert "SANAD_RASA_URL" in proc.stderr


def test_parse_uses_the_rasa_server_when_sanad_rasa_url_is_set(env: dict[str, str]) -> None:
    from tests.fakes.rasa import FakeRasa, fake_rasa_server

    with fake_rasa_server(FakeRasa({"the sky is green": [("greet", 0.93)]})) as fake:
        proc = _sanad(
            {**env, "SANAD_RASA_URL": fake.url}, "nlu", "parse", "the sky is green", "--json"
        )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["intent"] == {"name": "greet", "confidence": 0.93}
