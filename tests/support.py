"""Shared test support: an intake service on a real database with real crypto, a chat driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.console import dispatch
from caseworker.cases import show_case
from flows import FlowSet, Reply, load_flowset
from intake.app import open_keyring
from intake.home import Home, init_demo
from intake.service import Incoming, IntakeService
from intake.settings import Settings
from nlu import HybridInterpreter, builtin_interpreter
from storage.db import Database

if TYPE_CHECKING:
    from tests.conftest import TestDatabases

PASSPHRASE = "correct horse battery staple"
# The offline keys have passphrases of their own (review finding 4).
ADMIN_PASSPHRASE = "administrator signing passphrase"
RECOVERY_PASSPHRASE = "organisation recovery passphrase"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Chat:
    """One reporter talking to the service, as the console channel would."""

    def __init__(
        self,
        service: IntakeService,
        user: str = "reporter-1",
        lang: str | None = None,
        open_now: bool = True,
    ) -> None:
        self.service = service
        self.src = Incoming("console", user)
        self.replies: list[Reply] = []
        if open_now:
            self.replies = service.open(self.src, lang).replies

    @property
    def question(self) -> Reply:
        asked = [r for r in self.replies if r.kind != "info"]
        assert asked, f"the bot asked nothing; it said: {[r.text[:60] for r in self.replies]}"
        return asked[-1]

    def say(self, line: str) -> list[Reply]:
        self.outcome = dispatch(self.service, self.src, line)
        self.replies = self.outcome.replies
        return self.replies

    def answer(self, field: str, line: str) -> list[Reply]:
        assert self.question.field == field, (
            f"expected the bot to ask '{field}', it asked '{self.question.field}'"
        )
        return self.say(line)

    def run(self, script: list[tuple[str, str]]) -> list[Reply]:
        for field, line in script:
            self.answer(field, line)
        return self.replies


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def nlu_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private model cache for the test process, never the user's: the built-in model is
    trained into it once (about 7 s) and loaded from it by every test that needs one."""
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture(scope="session")
def shipped_nlu(nlu_model_cache: Path) -> HybridInterpreter:
    """The shipped default backend: the built-in model, trained once per test process the
    way `sanad init` prepares it."""
    return builtin_interpreter(cache_dir=nlu_model_cache)


@pytest.fixture(scope="session")
def shipped_flows() -> Iterator[FlowSet]:
    """The shipped flows and catalogues, loaded once for every service the tests make (read
    only: frozen steps in dicts nothing writes to); at the end of the run they must still
    equal a fresh load, so a test that changed them would fail the run."""
    flows = load_flowset()
    yield flows
    assert flows == load_flowset(), "a test changed the shared shipped flows"


@pytest.fixture
def make_service(
    settings: Settings,
    clock: Clock,
    shipped_nlu: HybridInterpreter,
    shipped_flows: FlowSet,
    test_databases: TestDatabases,
) -> Iterator[Callable[..., IntakeService]]:
    databases: list[Database] = []

    def factory(database_url: str | None = None, **overrides: Any) -> IntakeService:
        cfg = replace(
            settings, **({"database_url": database_url} if database_url else {}), **overrides
        )
        cfg.home.mkdir(parents=True, exist_ok=True)
        initialise = not Home(cfg.home).is_initialised()
        if initialise:
            test_databases.seed(cfg.database_url)  # the schema init_demo would migrate
        db = Database(cfg.database_url)
        databases.append(db)
        if initialise:
            init_demo(cfg, db, PASSPHRASE, None, ADMIN_PASSPHRASE, RECOVERY_PASSPHRASE)
        home = Home(cfg.home)
        keyring = open_keyring(cfg, home.pepper(), clock)  # as `sanad run` chooses it
        return IntakeService(
            cfg,
            db,
            shipped_flows,
            shipped_nlu,
            home.pepper(),
            home.admin_public(),
            keyring,
            clock=clock,
        )

    yield factory
    for db in databases:
        db.dispose()


@pytest.fixture
def service(make_service: Callable[..., IntakeService]) -> IntakeService:
    return make_service()


def open_report(service: IntakeService, case_ref: str) -> dict[str, Any]:
    return show_case(service.db, case_ref, "demo", PASSPHRASE)


def home_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]
