"""The real signalbot client, run by the Signal channel, against the loopback REST API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from bot.signal import SignalChannel, SignalConfig
from intake.home import Home
from intake.service import IntakeService
from tests.fakes.signal_server import FakeSignalServer

T = TypeVar("T")
BOT_NUMBER = "+12025550100"


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 45.0) -> T:
    """Run one async scenario to the end in a fresh event loop."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


def make_config(server: FakeSignalServer, **overrides: Any) -> SignalConfig:
    cfg = SignalConfig(
        service=server.service,
        number=server.number,
        reconnect_min=0.05,
        reconnect_max=0.2,
        outbox_interval=3600,
        startup_timeout=5,
    )
    return replace(cfg, **overrides)


@asynccontextmanager
async def signal_bot(
    service: IntakeService,
    server: FakeSignalServer | None = None,
    jobs: Any = None,
    **overrides: Any,
) -> AsyncIterator[tuple[FakeSignalServer, SignalChannel]]:
    """A started fake server and channel (with `jobs`, the process's job runner, delivering
    the outbox); both stopped afterwards."""
    own = server is None
    server = server or FakeSignalServer(BOT_NUMBER)
    if own:
        await server.start()
    channel = SignalChannel(
        make_config(server, **overrides), service, Home(service.settings.home).pepper(), jobs=jobs
    )
    try:
        await channel.start()
        await server.wait_for(lambda: server.receive_connections > 0)
        yield server, channel
    finally:
        await channel.stop()
        if own:
            await server.stop()


@dataclass
class Reporter:
    """One person writing to the bot from their phone."""

    server: FakeSignalServer
    channel: SignalChannel
    uuid: str
    number: str | None = None

    @classmethod
    def new(
        cls, server: FakeSignalServer, channel: SignalChannel, number: str | None = None
    ) -> Reporter:
        return cls(server, channel, str(uuid.uuid4()), number)

    @property
    def timer(self) -> int:
        """The disappearing timer the bot set for this chat (what the phone then sends)."""
        mine = [c for c in self.server.record.contacts if c.get("recipient") == self.uuid]
        return int(mine[-1]["expiration_in_seconds"]) if mine else 0

    async def push(self, frame: dict[str, Any] | str) -> list[str]:
        before = len(self.server.sent_to(self.uuid))
        handled = self.channel.stats.handled
        await self.server.push(frame)
        await self.channel.wait_handled(handled + 1)
        return [b["message"] for b in self.server.sent_to(self.uuid)[before:]]

    def frame(self, text: str | None = None, **kw: Any) -> dict[str, Any]:
        kw.setdefault("expires", self.timer)
        return self.server.frame(self.uuid, text, number=self.number, **kw)

    async def say(self, text: str) -> list[str]:
        return await self.push(self.frame(text))

    async def send_file(
        self,
        data: bytes,
        content_type: str,
        filename: str | None = None,
        voice: bool = False,
        caption: str | None = None,
    ) -> list[str]:
        up = self.server.upload(data, content_type, filename, voice)
        return await self.push(self.frame(caption, attachments=[up.entry()]))
