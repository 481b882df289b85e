"""The Signal channel delivers the caseworker outbox as jobs of the engine (PostgreSQL): the
message queued on the dashboard is a job on the Signal queue, which the channel's runner
consumes and sends behind the reporter's own messages, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from caseworker.followup import queue_reply
from intake.home import Home
from intake.service import IntakeService
from jobs import ProcrastinateRunner, channel_runner
from storage.models import OutboxMessage
from tests.bot.signal_harness import Reporter, run, signal_bot
from tests.bot.test_signal_channel import _case_ref, _converse
from tests.support import PASSPHRASE

pytestmark = pytest.mark.postgres


def test_signal_outbox_message_is_delivered_by_its_job(
    make_service: Callable[..., IntakeService], postgres_url: str
) -> None:
    service = make_service(postgres_url)
    runner = channel_runner(service, "signal")
    assert isinstance(runner, ProcrastinateRunner)
    script = [
        ("g", "hello"),
        ("language", "en"),
        ("consent_store", "yes"),
        ("consent_followup", "yes"),
        ("consent_share_identity", "no"),
        ("consent_refer", "no"),
        ("consent_stats", "no"),
        ("consent_publish", "no"),
        ("report_type", "reprisal"),
    ]

    async def scenario() -> dict[str, Any]:
        async with signal_bot(service, jobs=runner) as (server, channel):
            r = Reporter.new(server, channel)
            await _converse(r, script)
            texts: list[str] = []
            for _ in range(40):
                texts = await r.say("/skip")
                if any("Send this report now?" in t for t in texts):
                    break
            texts = await r.say("yes")
            case_ref = _case_ref(texts, service)
            before = len(server.sent_to(r.uuid))
            queue_reply(
                service.db,
                Home(service.settings.home).pepper(),
                case_ref,
                "demo",
                PASSPHRASE,
                "Are you safe where you are now?",
                now=service._now(),
            )
            # no deliver_outbox here: the job does it
            await server.wait_for(lambda: len(server.sent_to(r.uuid)) >= before + 2, timeout=20)
            return {"delivered": [m["message"] for m in server.sent_to(r.uuid)[before:]]}

    out = run(scenario, timeout=90)
    assert "Are you safe where you are now?" in out["delivered"][0]
    assert out["delivered"][1].endswith("1. Done")
    assert sum("Are you safe" in m for m in out["delivered"]) == 1
    assert runner.delivered == {"sent": 1}
    with service.db.transaction() as session:
        assert session.query(OutboxMessage).one().status == "sent"
