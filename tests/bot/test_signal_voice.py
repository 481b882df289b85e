"""Spoken questions on Signal: after /voice each question also arrives as an OGG/Opus voice
note attachment; quick exit remotely deletes the notes with the rest."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bot import voice
from intake.service import IntakeService
from tests.bot.signal_harness import Reporter, run, signal_bot

pytestmark = pytest.mark.skipif(
    voice.check() is not None, reason=f"{voice.check()} (.ci/run installs them when root)"
)


def test_voice_notes_follow_each_question_and_go_with_quick_exit(service: IntakeService) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            for line in ("hello", "en"):
                await r.say(line)
            await r.say("/voice")
            await r.say("yes")
            sent = server.sent_to(r.uuid)
            notes = [b for b in sent if b.get("base64_attachments")]
            stamps = [ts for b in sent for ts in b["_timestamps"]]
            await r.say("/exit")
            return {
                "notes": notes,
                "stamps": stamps,
                "deletes": [d["timestamp"] for d in server.record.remote_deletes],
            }

    out = run(scenario)
    assert len(out["notes"]) == 2
    for body in out["notes"]:
        head, _, data = body["base64_attachments"][0].partition(";base64,")
        assert head.startswith("data:audio/ogg")
        assert 1 < voice.ogg_opus_seconds(base64.b64decode(data)) < 120
    assert sorted(out["deletes"]) == sorted(map(int, out["stamps"]))
