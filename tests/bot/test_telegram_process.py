"""`sanad run telegram` as a process: killed (SIGKILL) between receiving an update and replying,
before and after the service committed the answer; restarted, it loses nothing and doubles
nothing. Also: one clear sentence for a refused token, and no id or answer in the home's
database or logs."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.telegram._render import CLEAN
from tests import preloaded_sanad
from tests.bot.conftest import Reporter, answered_in, inbox_ids
from tests.cli.conftest import sanad
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.intake.test_conversations import COMPLAINT_EN_EXPECTED

pytestmark = pytest.mark.slow

USER = 700_123_456


class BotProcess:
    def __init__(self, env: dict[str, str], args: list[str] | None = None) -> None:
        self.proc = preloaded_sanad.PreloadedProcess(
            ["run", "telegram", *(args or [])],
            env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.ready = threading.Event()
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(30):
            self.kill()
            raise AssertionError(f"the bot did not start: {''.join(self.err)}")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            if "running" in line:
                self.ready.set()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def terminate(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(timeout=20)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return code


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def bot_env(
    cli_env: dict[str, str], fake: FakeTelegram, demo_home: Callable[[dict[str, str]], None]
) -> dict[str, str]:
    env = dict(
        cli_env,
        SANAD_TELEGRAM_TOKEN=TOKEN,
        SANAD_TELEGRAM_BASE_URL=fake.base_url,
        SANAD_TELEGRAM_CHAT_RATE="0",
        SANAD_TELEGRAM_GLOBAL_RATE="0",
        SANAD_TELEGRAM_POLL_TIMEOUT="1",
    )
    demo_home(env)  # a copy of what `sanad init --demo` makes
    return env


SCRIPT = [  # COMPLAINT_EN as a Telegram user answers it: buttons where there are buttons
    "en",
    "yes",
    "yes",
    "no",
    "yes",
    "unknown",
    "no",
    "complaint",
    "It happened to me",
    "no",  # not under 18 (issue 18 item 5)
    "no",
    "yes",
    "15 March 2024",
    "police_station",
    "/skip",
    "/skip",
    "official",
    "/skip",
    "no lawyer",
    "no",  # detention questions (issue 18)
    "Central station, Al-Hamra district",
    "Lebanon",
    "police, intelligence",
    "/skip",
    "1,5",
    "They kept me three days and beat me with cables. "
    "The officer told me to stop talking or they would come back.",
    "/skip",
    "Bruises on my back",
    "/skip",
    "no",
    "done",
    "none",
    "medical, legal",
    "man",
    "adult",
    "deprived_of_liberty",
    "any",
    "Karim Haddad-Nassar",
    "no",  # nobody else harmed or detained with them (issue 18 item 7)
    "Evenings only. Code word: zaytoun",
    "yes",
]


def test_sigkill_before_and_after_the_commit_loses_and_doubles_nothing(
    bot_env: dict[str, str], fake: FakeTelegram
) -> None:
    engine = create_engine(f"sqlite:///{Path(bot_env['SANAD_HOME']) / 'sanad.db'}")
    fake.answered = answered_in(engine)
    bot = BotProcess(bot_env)
    r = Reporter(fake, USER, "en")
    r.say("/start")
    for line in SCRIPT[:2]:
        r.answer(line)
    # 1. Killed before the service saw the answer (the bot is acknowledging the button).
    fake.hold("answerCallbackQuery")
    uid = fake.press(USER, SCRIPT[2])
    assert fake.held["answerCallbackQuery"].wait(10)
    bot.kill()
    fake.release("answerCallbackQuery")
    # Confirmed to Telegram, but held (sealed) in the bot's inbox until it is answered.
    assert uid in inbox_ids(engine)
    before = len(fake.sent(USER))
    bot = BotProcess(bot_env)
    fake.wait_answered(uid, timeout=20)
    r.replies = fake.sent(USER)[before:]
    assert len(r.replies) == 1 and r.buttons()  # the next question, once
    # 2. Killed after the service committed the answer, while the reply was on its way.
    fake.hold("sendMessage")
    uid = fake.press(USER, SCRIPT[3])
    assert fake.held["sendMessage"].wait(10)
    lost_reply = fake.calls_of("sendMessage")[-1].params["text"]
    bot.kill()
    fake.release("sendMessage")
    before = len(fake.sent(USER))
    bot = BotProcess(bot_env)
    fake.wait_answered(uid, timeout=20)
    r.replies = fake.sent(USER)[before:]
    # Handled once: the committed answer that never went out (the next question) is sent now.
    assert len(r.replies) == 1 and r.last_text == lost_reply and r.buttons()
    for line in SCRIPT[4:]:
        r.answer(line)
    assert bot.terminate() == 0
    queue = json.loads(sanad(bot_env, "queue", "--json").stdout)
    assert len(queue) == 1  # stored once
    shown = json.loads(
        sanad(bot_env, "show", queue[0]["case_ref"], "--as", "demo", "--json").stdout
    )
    fields = dict(shown["fields"])
    fields.pop("incident_date")
    fields.pop("evidence", None)
    assert fields == COMPLAINT_EN_EXPECTED
    # Nothing identifying or said in clear anywhere in the home: database, WAL, logs.
    home = Path(bot_env["SANAD_HOME"])
    logs = list((home / "logs").glob("*"))
    assert logs and any(p.stat().st_size for p in logs)
    needles = [str(USER).encode(), b"Al-Hamra", b"zaytoun", b"cables", b"Bruises", TOKEN.encode()]
    for path in (p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle[:20]!r} in clear in {path.name}"


def test_a_refused_token_or_no_api_is_one_sentence(bot_env: dict[str, str]) -> None:
    cases = {
        "refused": dict(bot_env, SANAD_TELEGRAM_TOKEN="42:not-the-token"),
        "missing": {k: v for k, v in bot_env.items() if k != "SANAD_TELEGRAM_TOKEN"},
        "unreachable": dict(bot_env, SANAD_TELEGRAM_BASE_URL="http://127.0.0.1:9/bot"),
    }
    procs = {
        name: preloaded_sanad.PreloadedProcess(
            ["run", "telegram"], env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name, env in cases.items()
    }
    errors = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (name, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (name, err)
        errors[name] = err.strip()
    assert errors["refused"] == "sanad: the Telegram token was refused"
    assert "SANAD_TELEGRAM_TOKEN" in errors["missing"]
    assert "could not be reached" in errors["unreachable"]


@pytest.mark.chaos
def test_killed_at_random_points_of_many_conversations_loses_and_doubles_nothing(
    bot_env: dict[str, str], fake: FakeTelegram
) -> None:
    """Four reporters talk at once while the bot is SIGKILLed at random moments and started
    again: every answer the bot took is kept, every report is stored once and whole, and
    nothing said is left in clear anywhere in the home."""
    engine = create_engine(f"sqlite:///{Path(bot_env['SANAD_HOME']) / 'sanad.db'}")
    fake.answered = answered_in(engine)
    bots = [BotProcess(bot_env)]
    users = [USER + n for n in range(1, 5)]
    errors: list[BaseException] = []
    finished = threading.Event()

    def converse(user: int) -> None:
        try:
            r = Reporter(fake, user, "en", timeout=90)
            r.answer("/start")
            for line in SCRIPT:
                r.answer(line)
                # Every answer taken got its next question: retries make no difference.
                assert r.replies, f"no answer to {line!r}"
            assert CLEAN in r.buttons()  # the report went in: "clean this chat" is offered
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    rng = random.Random(20261123)
    reporters = [threading.Thread(target=converse, args=(u,)) for u in users]
    for t in reporters:
        t.start()
    kills = 0
    while any(t.is_alive() for t in reporters) and kills < 6:
        time.sleep(rng.uniform(0.2, 1.5))
        bots[-1].kill()
        kills += 1
        time.sleep(rng.uniform(0.0, 0.5))  # updates pile up at Telegram meanwhile
        bots.append(BotProcess(bot_env))
    for t in reporters:
        t.join(timeout=180)
    finished.set()
    assert not errors, errors[0]
    assert kills >= 3
    assert bots[-1].terminate() == 0
    assert inbox_ids(engine) == set()  # nothing left half-handled
    queue = json.loads(sanad(bot_env, "queue", "--json").stdout)
    assert len(queue) == len(users)  # each report stored once
    for item in queue:
        shown = json.loads(
            sanad(bot_env, "show", item["case_ref"], "--as", "demo", "--json").stdout
        )
        fields = dict(shown["fields"])
        fields.pop("incident_date")
        fields.pop("evidence", None)
        assert fields == COMPLAINT_EN_EXPECTED  # whole: no answer lost or taken twice
    home = Path(bot_env["SANAD_HOME"])
    needles = [*(str(u).encode() for u in users), b"Al-Hamra", b"zaytoun", b"cables"]
    for path in (p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle[:20]!r} in clear in {path.name}"


def test_the_running_bot_purges_at_start_and_logs_only_counts(bot_env: dict[str, str]) -> None:
    """Retention runs beside the channel (cli/_channels.py), not inside it."""
    log = Path(bot_env["SANAD_HOME"]) / "logs" / "sanad.log"
    bot = BotProcess(bot_env)
    try:
        for _ in range(200):
            if log.exists() and "purge done" in log.read_text(encoding="utf-8"):
                break
            threading.Event().wait(0.05)
    finally:
        code = bot.terminate()
    assert code == 0
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if "purge" in line]
    assert len(lines) == 1 and lines[0].endswith(
        "sanad.retention purge done drafts=0 folders=0 closed_cases=0 attachments=0"
    )
