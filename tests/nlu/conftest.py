"""Shared fixtures for the NLU tests."""

from __future__ import annotations

from datetime import datetime

import pytest

from nlu import RuleInterpreter

FIXED_NOW = datetime(2025, 6, 15, 12, 0)


@pytest.fixture
def fixed_now() -> datetime:
    """The "now" that relative dates in the tests are computed from."""
    return FIXED_NOW


@pytest.fixture(scope="session")
def interpreter() -> RuleInterpreter:
    """One interpreter for the session: construction compiles the lexicon once."""
    return RuleInterpreter(clock=lambda: FIXED_NOW)
