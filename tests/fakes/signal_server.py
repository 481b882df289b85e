"""A loopback signal-cli-rest-api in json-rpc mode, speaking what signalbot 2.x really calls.

Start-up: GET /v1/health (204), /v1/about, /v1/groups/<n>, then the WebSocket
/v1/receive/<n> on which tests push envelopes. Everything the bot calls is recorded so tests can
look at it: sent bodies, remote deletes, contact (disappearing-timer) updates, typing indicators,
receipts, reactions, attachment downloads and deletions. See ../../shared/wire-notes.md.

Use it inside a running event loop::

    server = FakeSignalServer("+12025550100")
    await server.start()            # server.service == "127.0.0.1:<port>"
    await server.push(server.frame(uuid, text="hello"))
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

__all__ = ["FakeSignalServer", "Upload"]

ABOUT = {
    "versions": ["v1", "v2"],
    "build": 2,
    "mode": "json-rpc",
    "version": "0.101",
    "capabilities": {},
}


@dataclass
class Upload:
    """A file a test 'sends' from a reporter's phone; served at GET /v1/attachments/<id>."""

    id: str
    data: bytes
    content_type: str
    filename: str | None = None
    voice: bool = False

    def entry(self, declared_size: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "contentType": self.content_type,
            "size": len(self.data) if declared_size is None else declared_size,
            "isVoiceNote": self.voice,
        }
        if self.filename is not None:
            out["filename"] = self.filename
        return out


@dataclass
class _Record:
    sent: list[dict[str, Any]] = field(default_factory=list)
    remote_deletes: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    typing: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    attachment_deletes: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # "send", "contacts", ... in arrival order


class FakeSignalServer:
    def __init__(self, number: str = "+12025550100") -> None:
        self.number = number
        self.record = _Record()
        self.uploads: dict[str, Upload] = {}
        self.receive_connections = 0  # WebSocket connections accepted so far
        self.health_status = 204
        self._sockets: set[web.WebSocketResponse] = set()
        self._clock = itertools.count(int(time.time() * 1000))
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def service(self) -> str:
        """host:port, the form signalbot's `signal_service` takes."""
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        n = self.number
        app.router.add_get("/v1/health", self._health)
        app.router.add_get("/v1/about", self._about)
        app.router.add_get(f"/v1/groups/{n}", self._groups)
        app.router.add_get(f"/v1/receive/{n}", self._receive)
        app.router.add_post("/v2/send", self._send)
        app.router.add_delete(f"/v1/remote-delete/{n}", self._remote_delete)
        app.router.add_put(f"/v1/contacts/{n}", self._contacts)
        app.router.add_put(f"/v1/typing-indicator/{n}", self._typing)
        app.router.add_delete(f"/v1/typing-indicator/{n}", self._typing)
        app.router.add_post(f"/v1/receipts/{n}", self._receipt)
        app.router.add_post(f"/v1/reactions/{n}", self._reaction)
        app.router.add_delete(f"/v1/reactions/{n}", self._reaction)
        app.router.add_get("/v1/attachments/{id}", self._attachment)
        app.router.add_delete("/v1/attachments/{id}", self._attachment_delete)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        await self.close_receive()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- what tests do ---------------------------------------------------------------------

    def upload(
        self, data: bytes, content_type: str, filename: str | None = None, voice: bool = False
    ) -> Upload:
        up = Upload(f"att{next(self._ids)}", data, content_type, filename, voice)
        self.uploads[up.id] = up
        return up

    def frame(
        self,
        source_uuid: str | None,
        text: str | None = None,
        *,
        number: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        timestamp: int | None = None,
        expires: int = 0,
        group_id: str | None = None,
    ) -> dict[str, Any]:
        """One incoming envelope, as signal-cli-rest-api writes it on the receive socket."""
        ts = timestamp if timestamp is not None else next(self._clock)
        data: dict[str, Any] = {
            "timestamp": ts,
            "message": text,
            "expiresInSeconds": expires,
            "viewOnce": False,
        }
        if attachments:
            data["attachments"] = attachments
        if group_id:
            data["groupInfo"] = {
                "groupId": group_id,
                "groupName": "G",
                "revision": 1,
                "type": "DELIVER",
            }
        return {
            "account": self.number,
            "envelope": {
                "source": source_uuid or number,
                "sourceNumber": number,
                "sourceUuid": source_uuid,
                "sourceName": "S",
                "sourceDevice": 1,
                "timestamp": ts,
                "serverReceivedTimestamp": ts,
                "serverDeliveredTimestamp": ts,
                "dataMessage": data,
            },
        }

    async def push(self, frame: dict[str, Any] | str, timeout: float = 5.0) -> None:
        """Write one frame on every open receive socket (waiting for the bot to connect)."""
        await self.wait_for(lambda: bool(self._sockets), timeout)
        raw = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        for ws in list(self._sockets):
            await ws.send_str(raw)

    async def close_receive(self) -> None:
        """Close the receive sockets cleanly (code 1000), as a restarting server does."""
        for ws in list(self._sockets):
            await ws.close()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def sent_to(self, recipient: str) -> list[dict[str, Any]]:
        return [b for b in self.record.sent if recipient in b.get("recipients", [])]

    # ---- handlers --------------------------------------------------------------------------

    async def _touch(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _ts(self) -> str:
        return str(next(self._clock))

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(status=self.health_status)

    async def _about(self, request: web.Request) -> web.Response:
        return web.json_response(ABOUT)

    async def _groups(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def _receive(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        self.receive_connections += 1
        await self._touch()
        try:
            async for msg in ws:  # the client never writes; wait for the close
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
            await self._touch()
        return ws

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.text()  # signalbot sends JSON as text/plain
        return json.loads(raw) if raw else {}

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        stamps = [self._ts() for _ in body.get("recipients", [])]
        self.record.sent.append({**body, "_timestamps": stamps})
        self.record.calls.append("send")
        await self._touch()
        return web.json_response([{"timestamp": ts} for ts in stamps], status=201)

    async def _remote_delete(self, request: web.Request) -> web.Response:
        self.record.remote_deletes.append(await self._body(request))
        self.record.calls.append("remote-delete")
        await self._touch()
        return web.json_response({"timestamp": self._ts()}, status=201)

    async def _contacts(self, request: web.Request) -> web.Response:
        self.record.contacts.append(await self._body(request))
        self.record.calls.append("contacts")
        await self._touch()
        return web.Response(status=204)

    async def _typing(self, request: web.Request) -> web.Response:
        self.record.typing.append((request.method, await self._body(request)))
        return web.Response(status=204)

    async def _receipt(self, request: web.Request) -> web.Response:
        self.record.receipts.append(await self._body(request))
        return web.Response(status=204)

    async def _reaction(self, request: web.Request) -> web.Response:
        self.record.reactions.append((request.method, await self._body(request)))
        return web.Response(status=204)

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        up = self.uploads.get(request.match_info["id"])
        if up is None:
            return web.Response(status=404, text="no such attachment")
        self.record.downloads.append(up.id)
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        for i in range(0, len(up.data), 16 * 1024):  # several chunks, as a real server sends
            await resp.write(up.data[i : i + 16 * 1024])
        await resp.write_eof()
        return resp

    async def _attachment_delete(self, request: web.Request) -> web.Response:
        att_id = request.match_info["id"]
        self.record.attachment_deletes.append(att_id)
        self.uploads.pop(att_id, None)
        await self._touch()
        return web.Response(status=204)
