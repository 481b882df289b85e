"""Shared fixtures for the NLU tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from nlu import HybridInterpreter, Interpreter, RuleInterpreter, builtin_interpreter

FIXED_NOW = datetime(2025, 6, 15, 12, 0)


@pytest.fixture
def fixed_now() -> datetime:
    """The "now" that relative dates in the tests are computed from."""
    return FIXED_NOW


@pytest.fixture(scope="session")
def model_cache(nlu_model_cache: Path) -> Path:
    """A private model cache: the tests train once per session and never touch the home (the
    one `shipped_nlu` trains into: the same model, trained once)."""
    return nlu_model_cache


@pytest.fixture(scope="session")
def rules() -> RuleInterpreter:
    """The lexicon backend alone (construction compiles the lexicon once)."""
    return RuleInterpreter(clock=lambda: FIXED_NOW)


@pytest.fixture(scope="session")
def builtin(model_cache: Path) -> HybridInterpreter:
    """The default backend: rules plus the built-in classifier, trained once per session."""
    return builtin_interpreter(clock=lambda: FIXED_NOW, cache_dir=model_cache)


@pytest.fixture(scope="session", params=["rules", "builtin"])
def interpreter(request: pytest.FixtureRequest) -> Interpreter:
    """Each behavioural test runs against both the rules and the default backend."""
    return request.getfixturevalue(request.param)
