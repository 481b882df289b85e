"""Spoken questions: a question's text (and its numbered options) as a short voice note in
the reporter's language, made offline with Debian's espeak-ng and encoded as Opus in an OGG
container by ffmpeg (what Telegram, Signal and WhatsApp play as a voice note).

Everything runs through pipes (espeak-ng's WAV on stdout into ffmpeg's stdin): no text and no
audio is written to a temporary file. The cache (SANAD_HOME/cache/voice, 0700) holds only
the bot's own catalogue texts, keyed by a hash of the engine, voice, language and exact text,
so a changed text (a new flow version) gets a new note and the old one is never played. A
question whose text holds something the reporter wrote (the summary before sending) is
spoken in memory and never cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core import UnavailableError
from flows import Reply

__all__ = [
    "CACHE_VERSION",
    "MAX_SPOKEN_CHARS",
    "SPEED_WPM",
    "VOICES",
    "Speaker",
    "VoiceNote",
    "VoiceUnavailable",
    "catalogue_texts",
    "check",
    "ogg_opus_seconds",
    "speaker_for",
    "spoken_text",
    "ssml",
    "tools",
]

log = logging.getLogger("sanad.voice")

VOICES = {"ar": "ar", "en": "en-gb"}
CACHE_VERSION = "v1"
MAX_SPOKEN_CHARS = 1200  # a voice note, not an audiobook: the rest is read on screen
SPEED_WPM = 150


class VoiceUnavailable(UnavailableError):
    """espeak-ng or ffmpeg is missing or failed: the message says which, for `config check`."""


@dataclass(frozen=True)
class VoiceNote:
    data: bytes  # OGG/Opus
    seconds: float


def tools() -> tuple[str | None, str | None]:
    return shutil.which("espeak-ng"), shutil.which("ffmpeg")


def check() -> str | None:
    """None when voice notes can be made here, else one sentence saying what is missing."""
    espeak, ffmpeg = tools()
    missing = [name for name, path in (("espeak-ng", espeak), ("ffmpeg", ffmpeg)) if not path]
    if missing:
        return (
            f"{' and '.join(missing)} not installed: spoken questions (/voice) are off "
            f"(apt-get install {' '.join(missing)})"
        )
    return None


def spoken_text(reply: Reply) -> str:
    """What the note says: the question, then each option with its number (reporters who
    cannot read answer with the number, which every channel accepts)."""
    lines = [reply.text.replace("\u2068", "").replace("\u2069", "")]
    for number, (_, label) in enumerate(reply.options, start=1):
        lines.append(f"{number}. {label}.")
    return "\n".join(lines)[:MAX_SPOKEN_CHARS]


def ogg_opus_seconds(data: bytes) -> float:
    """The duration of an OGG/Opus stream, from its last page's granule position (48 kHz)
    less the pre-skip of the OpusHead header. Raises ValueError for anything else."""
    if not data.startswith(b"OggS"):
        raise ValueError("not an OGG stream")
    head = data.find(b"OpusHead")
    if head < 0 or head > 200:
        raise ValueError("not Opus in OGG")
    pre_skip = int.from_bytes(data[head + 10 : head + 12], "little")
    last = data.rfind(b"OggS")
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    return max(0.0, (granule - pre_skip) / 48_000)


class Speaker:
    """Makes voice notes; caches catalogue texts under `cache_dir` (None: no cache)."""

    def __init__(
        self, cache_dir: Path | None, catalogue_texts: Iterable[str] = (), timeout: float = 30.0
    ) -> None:
        self.cache_dir = cache_dir
        self._cacheable = frozenset(catalogue_texts)
        self.timeout = timeout
        self._lock = threading.Lock()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(cache_dir, 0o700)

    @property
    def available(self) -> bool:
        return check() is None

    def _key(self, lang: str, text: str) -> str:
        raw = f"{CACHE_VERSION}\0{VOICES.get(lang, lang)}\0{SPEED_WPM}\0{text}".encode()
        return hashlib.sha256(raw).hexdigest()

    def cacheable(self, reply: Reply) -> bool:
        """Only the bot's own words: the question's text exactly as the catalogue has it."""
        return reply.text in self._cacheable

    def note(self, reply: Reply) -> VoiceNote:
        text = spoken_text(reply)
        path = None
        if self.cache_dir is not None and self.cacheable(reply):
            path = self.cache_dir / f"{self._key(reply.lang, text)}.ogg"
            try:
                data = path.read_bytes()
                return VoiceNote(data, ogg_opus_seconds(data))
            except (OSError, ValueError):
                pass
        data = self.synthesise(text, reply.lang)
        if path is not None:
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return VoiceNote(data, ogg_opus_seconds(data))

    def synthesise(self, text: str, lang: str) -> bytes:
        espeak, ffmpeg = tools()
        if not espeak or not ffmpeg:
            raise VoiceUnavailable(check() or "voice tools missing")
        voice = VOICES.get(lang, "en-gb")
        try:
            speech = subprocess.run(  # noqa: S603 (fixed argv, text on stdin)
                [espeak, "-m", "-v", voice, "-s", str(SPEED_WPM), "--stdout", "--stdin"],
                input=ssml(text, lang).encode("utf-8"),
                capture_output=True,
                timeout=self.timeout,
                check=True,
            )
            encoded = subprocess.run(  # noqa: S603 (fixed argv)
                [
                    ffmpeg,
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-f",
                    "wav",
                    "-i",
                    "pipe:0",
                    "-ac",
                    "1",
                    "-ar",
                    "48000",
                    "-c:a",
                    "libopus",
                    "-b:a",
                    "24k",
                    "-application",
                    "voip",
                    "-map_metadata",
                    "-1",
                    "-f",
                    "ogg",
                    "pipe:1",
                ],
                input=speech.stdout,
                capture_output=True,
                timeout=self.timeout,
                check=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            # stderr may echo the text: never log it
            log.error("a voice note could not be made (%s)", type(exc).__name__)
            raise VoiceUnavailable("espeak-ng or ffmpeg failed") from None
        return encoded.stdout


def _script_of(line: str, lang: str) -> str:
    arabic = sum(1 for ch in line if "\u0600" <= ch <= "\u06ff")
    latin = sum(1 for ch in line if ch.isascii() and ch.isalpha())
    if arabic > latin:
        return "ar"
    return "en" if latin > arabic else lang


def ssml(text: str, lang: str) -> str:
    """SSML for espeak-ng: each line in the voice of its own script, so the bilingual
    language question is spoken in both languages rather than spelt out letter by letter."""
    from html import escape  # the XML-special characters; espeak-ng reads nothing else

    parts = []
    for line in text.split("\n"):
        if line.strip():
            code = _script_of(line, lang)
            parts.append(f'<voice xml:lang="{code}">{escape(line.strip())}</voice>')
    return "<speak>" + '\n<break time="300ms"/>'.join(parts) + "</speak>"


def catalogue_texts(catalog: dict[str, dict[str, str]]) -> list[str]:
    """Every catalogue text as the engine shows it (Arabic with its isolate marks)."""
    from flows import isolate_ltr_runs

    out = []
    for lang, entries in catalog.items():
        for text in entries.values():
            out.append(isolate_ltr_runs(text) if lang == "ar" else text)
    return out


def speaker_for(home: Path, catalog: dict[str, dict[str, str]]) -> Speaker:
    return Speaker(home / "cache" / "voice", catalogue_texts(catalog))
