"""The console channel: machine mode (JSON lines) and human mode (a terminal conversation).

Both drive the same IntakeService as Telegram and Signal; only the rendering differs.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.commands import parse_command
from flows import FSI, PDI, Reply
from intake import Incoming, IntakeService, Outcome

__all__ = ["CHUNK", "dispatch", "render_human", "run_interactive", "run_jsonl", "shape"]

CHUNK = 64 * 1024


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def dispatch(service: IntakeService, src: Incoming, line: str) -> Outcome:
    """Turn one typed line into a service call: a slash command, an attachment, or text."""
    command = parse_command(line)
    if command is None:
        return service.text(src, line.rstrip("\r\n"))
    name, arg = command
    if name == "attach":
        path = Path(arg or "").expanduser()
        if not arg or not path.is_file():
            return Outcome([_local_error(service, "sys.attachment.rejected")])
        return service.file(src, path.name, _guess_type(path), _file_chunks(path))
    return service.command(src, name, arg)


def _guess_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _local_error(service: IntakeService, key: str) -> Reply:
    lang = "ar"
    return Reply(service.flows.text(lang, key), "info", lang)


def run_jsonl(
    service: IntakeService, user: str, lang: str | None, stdin: TextIO, stdout: TextIO
) -> None:
    src = Incoming("console", user)
    _emit_json(service.open(src, lang).replies, stdout)
    for line in stdin:
        if not line.strip():
            continue
        _emit_json(dispatch(service, src, line).replies, stdout)


def _emit_json(replies: list[Reply], stdout: TextIO) -> None:
    for reply in replies:
        stdout.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
    stdout.flush()


# ---- human mode ---------------------------------------------------------------------------

_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def shape(text: str, width: int | None = None) -> str:
    """Reorder and join Arabic letters for terminals that neither shape nor apply bidi.

    Each logical line is wrapped to the terminal's width first, then each piece reordered, so
    a sentence still reads top to bottom; brackets in right-to-left runs are mirrored,
    harakat (the tanween of أهلاً) kept, and the isolate marks (FSI/PDI) used for their order
    and then dropped, since terminals show them as boxes."""
    import arabic_reshaper
    from bidi import get_display

    width = width or shutil.get_terminal_size((80, 24)).columns
    reshaper = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})
    out: list[str] = []
    for line in text.split("\n"):
        pieces = textwrap.wrap(
            line,
            width=max(20, width - 1),
            break_long_words=False,
            break_on_hyphens=False,
            drop_whitespace=True,
        ) or [""]
        for piece in pieces:
            out.append(_mirror_rtl(get_display(reshaper.reshape(piece), base_dir="R")))
    return "\n".join(out)


def _mirror_rtl(visual: str) -> str:
    """Mirror brackets outside isolated left-to-right runs; drop the isolate marks."""
    chars, ltr = [], False
    for ch in visual:
        if ch in (FSI, PDI):
            ltr = not ltr
            continue
        chars.append(ch if ltr else ch.translate(_MIRROR))
    return "".join(chars)


def render_human(reply: Reply, shaped: bool) -> str:
    lines = [reply.text]
    if reply.kind == "receipt":
        lines.append("")
    for number, (_, label) in enumerate(reply.options, start=1):
        lines.append(f"  {number}. {label}")
    if reply.kind == "multi":
        lines.append("  (1,3 …)")
    text = "\n".join(lines)
    return shape(text) if shaped and reply.lang == "ar" else text


def run_interactive(
    service: IntakeService,
    user: str,
    lang: str | None,
    shaped: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    src = Incoming("console", user)
    for reply in service.open(src, lang).replies:
        stdout.write(render_human(reply, shaped) + "\n\n")
    while True:
        stdout.write("> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return
        if not line.strip():
            continue
        for reply in dispatch(service, src, line).replies:
            stdout.write("\n" + render_human(reply, shaped) + "\n")
        stdout.write("\n")
