"""Spoken questions on Telegram: after /voice each question also arrives as a voice note
(sendVoice, OGG/Opus), in the conversation's language, until /voice off; quick exit deletes the
notes with the rest of the conversation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot import voice
from intake.service import IntakeService
from tests.bot.conftest import Reporter, Running
from tests.fakes.telegram_server import FakeTelegram

pytestmark = pytest.mark.skipif(
    voice.check() is not None, reason=f"{voice.check()} (.ci/run installs them when root)"
)


def _notes(fake: FakeTelegram, chat: int) -> list[bytes]:
    return [
        c.params["voice"] for c in fake.calls_of("sendVoice") if int(c.params["chat_id"]) == chat
    ]


def test_voice_notes_follow_each_question_until_turned_off(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service)
    reporter = Reporter(fake, 700_000_303, "ar")
    reporter.say("/start")
    reporter.press("ar")
    assert _notes(fake, reporter.id) == []
    reporter.say("/voice")
    assert "رسالة صوتية" in reporter.replies[0]["text"]
    first = _notes(fake, reporter.id)
    assert len(first) == 1 and 1 < voice.ogg_opus_seconds(first[0]) < 120
    reporter.press("yes")  # consent_store: the next question brings its own note
    notes = _notes(fake, reporter.id)
    assert len(notes) == 2 and notes[1] != notes[0]
    reporter.say("/voice off")
    reporter.press("no")
    assert len(_notes(fake, reporter.id)) == 2
    reporter.say("/voice")
    assert len(_notes(fake, reporter.id)) == 3
    reporter.say("/exit")  # the voice notes are deleted with the conversation
    deleted = fake.deleted.get(reporter.id, set())
    voice_ids = {
        mid
        for mid, m in fake.chat_messages[reporter.id].items()
        if "voice" in m and m.get("by") == "bot"
    }
    assert voice_ids and voice_ids <= deleted
