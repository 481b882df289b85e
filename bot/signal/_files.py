"""Incoming Signal attachments: what we accept, and a bounded stream from the REST API's copy
straight into the service's attachment encryption.

signalbot can download attachments itself, but it reads each one whole into memory as base64
before any handler runs (and a failed download restarts its receive loop). The channel turns that
off and streams `GET /v1/attachments/<id>` chunk by chunk into `IntakeService.file` (which runs
in a worker thread): memory stays at one chunk, nothing clear is written to disk, and the
declared size and type are checked before a byte is fetched.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import aiohttp

__all__ = ["CHUNK", "AttachmentPolicy", "Verdict", "stream_chunks"]

CHUNK = 64 * 1024

_DOCUMENTS = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/msword",
        "application/rtf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    }
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None  # "too_large" | "type"


@dataclass(frozen=True)
class AttachmentPolicy:
    """Photos, voice notes and other audio, videos and common documents, up to max_bytes."""

    max_bytes: int

    def check(self, content_type: str | None, declared_size: int | None) -> Verdict:
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        if not (kind.startswith(("image/", "audio/", "video/")) or kind in _DOCUMENTS):
            return Verdict(False, "type")
        if declared_size is not None and declared_size > self.max_bytes:
            return Verdict(False, "too_large")
        return Verdict(True)

    @staticmethod
    def name_for(filename: str | None, content_type: str | None, voice: bool) -> str:
        """The sender's file name without any folder; a neutral one when there is none."""
        if filename:
            base = PurePosixPath(filename.replace("\\", "/")).name
            if base:
                return base[:120]
        ext = mimetypes.guess_extension((content_type or "").split(";", 1)[0].strip()) or ""
        return ("voice-note" if voice else "attachment") + ext


def stream_chunks(
    loop: asyncio.AbstractEventLoop, response: aiohttp.ClientResponse, timeout: float = 120.0
) -> Iterator[bytes]:
    """A plain iterator, for code running in a worker thread, that reads the response body on
    the event loop one chunk at a time."""
    while True:
        future: Any = asyncio.run_coroutine_threadsafe(response.content.read(CHUNK), loop)
        chunk: bytes = future.result(timeout)
        if not chunk:
            return
        yield chunk
