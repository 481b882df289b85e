"""Console, Telegram (typed and pressed) and Signal record the same answers for the same
numbers, in both digit sets (issue 11: one interpretation order in every channel).

The console conversation decides the lines (a number for every question with options, /skip
for free text); the same lines then go through the real python-telegram-bot client and the
real signalbot client against their loopback fakes, on the shipped built-in model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caseworker.cases import list_queue
from intake.service import IntakeService
from tests.bot.conftest import Reporter as TelegramReporter
from tests.bot.conftest import Running
from tests.bot.signal_harness import Reporter as SignalReporter
from tests.bot.signal_harness import run, signal_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.support import Chat, open_report

ARABIC = "٠١٢٣٤٥٦٧٨٩"


def _digits(n: int, arabic: bool) -> str:
    return "".join(ARABIC[int(d)] for d in str(n)) if arabic else str(n)


def _console_lines(service: IntakeService) -> tuple[list[str], dict[str, Any]]:
    """Answer every question by number, alternating digit sets; return the lines and the
    fields the caseworker decrypts."""
    chat = Chat(service, user="agree-console")
    lines: list[str] = []
    for i in range(80):
        q = chat.question
        arabic = i % 2 == 1
        if q.field == "language":
            line = _digits(2, arabic)  # English
        elif q.field in ("consent_store", "confirm_submit", "consent_followup"):
            line = _digits(1, arabic)
        elif q.kind == "multi":
            line = f"{_digits(1, arabic)},{_digits(2, not arabic)}"
        elif q.options and q.kind != "files":
            line = _digits(2 if len(q.options) > 1 else 1, arabic)  # mostly "No"
        else:
            line = "/skip"
        lines.append(line)
        chat.say(line)
        if chat.outcome.case_ref:
            return lines, _answers(service, chat.outcome.case_ref)
    raise AssertionError("the numbered conversation never reached a receipt")


def _answers(service: IntakeService, case_ref: str) -> dict[str, Any]:
    return dict(open_report(service, case_ref)["fields"])


def _another(
    make_service: Callable[..., IntakeService], base: IntakeService, name: str
) -> IntakeService:
    """A separate home and database, so each channel's report is the only one in it."""
    home = base.settings.home.parent / name
    return make_service(database_url=f"sqlite:///{home / 'sanad.db'}", home=home)


def _only_case(service: IntakeService) -> str:
    queue = list_queue(service.db)
    assert len(queue) == 1
    return str(queue[0].case_ref)


def test_numbers_mean_the_same_in_every_channel(
    make_service: Callable[..., IntakeService],
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    console = make_service()
    lines, expected = _console_lines(console)
    assert expected["consent_share_identity"] == "no"  # "2" / "٢" is No, in every channel
    assert sum(any(c in line for c in ARABIC) for line in lines) > 5

    typed = _another(make_service, console, "tg-typed")
    typed_bot = start_bot(typed)
    reporter = TelegramReporter(fake, 700_000_201)
    reporter.say("/start")
    for line in lines:
        reporter.say(line)
    assert _answers(typed, _only_case(typed)) == expected
    # Both bots poll the one fake with the same token: a typed bot left running could take the
    # presser's updates into its own database (this made the test fail now and then).
    typed_bot.stop()

    pressed = _another(make_service, console, "tg-pressed")
    start_bot(pressed)
    presser = TelegramReporter(fake, 700_000_202)
    presser.say("/start")
    for line in lines:
        buttons = [b for b in presser.buttons() if not b.startswith("m:")]
        n = line.translate({ord(c): str(i) for i, c in enumerate(ARABIC)})
        if n.isdecimal() and buttons and int(n) <= len(buttons):
            presser.press(buttons[int(n) - 1])  # the button that number names
        else:
            presser.say(line)
    assert _answers(pressed, _only_case(pressed)) == expected

    signal = _another(make_service, console, "signal")

    async def scenario() -> None:
        async with signal_bot(signal) as (server, channel):
            phone = SignalReporter.new(server, channel)
            await phone.say("hello")
            for line in lines:
                await phone.say(line)

    run(scenario)
    assert _answers(signal, _only_case(signal)) == expected
