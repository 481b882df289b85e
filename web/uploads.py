"""A file posted by a caseworker, read into memory only (python-multipart's streaming parser).

Starlette's `request.form()` spools an uploaded file above 1 MB to a temporary file: a
medico-legal report would then be on disk in clear before it is sealed. Here the request body
is parsed as it arrives, the form's small fields and one file are kept in memory up to a
limit, and anything larger is refused before it is all read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from core import RefusedError

__all__ = ["Posted", "UploadRefused", "read_form_with_file"]

FIELD_LIMIT = 4096  # a form field (the CSRF token, a choice) is short


class UploadRefused(RefusedError, ValueError):
    """The upload was refused before it was stored; `code` names why (too_big, bad_form)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Posted:
    fields: dict[str, str] = field(default_factory=dict)
    name: str | None = None  # the file's name as the browser gave it
    content_type: str = "application/octet-stream"
    data: bytearray = field(default_factory=bytearray)

    def wipe(self) -> None:
        self.data[:] = bytes(len(self.data))
        self.data.clear()


async def read_form_with_file(request: Request, limit: int, file_field: str = "file") -> Posted:
    """The posted multipart form: its text fields and the one file of `file_field`."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadRefused("bad_form")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise UploadRefused("too_big")
    posted = Posted()
    part: dict[str, object] = {}
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    headers: dict[bytes, bytes] = {}

    def on_part_begin() -> None:
        headers.clear()
        part.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        headers[bytes(header["field"]).lower()] = bytes(header["value"])
        header["field"].clear()
        header["value"].clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        part["name"] = name
        part["buffer"] = bytearray()
        if name == file_field and b"filename" in disposition:
            posted.name = disposition[b"filename"].decode("utf-8", "replace")
            posted.content_type = (
                headers.get(b"content-type", b"application/octet-stream").decode("latin-1").strip()
                or "application/octet-stream"
            )
            part["buffer"] = posted.data

    def on_part_data(data: bytes, start: int, end: int) -> None:
        buffer = part.get("buffer")
        assert isinstance(buffer, bytearray)
        buffer += data[start:end]
        if buffer is posted.data and len(buffer) > limit:
            raise UploadRefused("too_big")
        if buffer is not posted.data and len(buffer) > FIELD_LIMIT:
            raise UploadRefused("bad_form")

    def on_part_end() -> None:
        buffer, name = part.get("buffer"), part.get("name")
        if isinstance(buffer, bytearray) and buffer is not posted.data and isinstance(name, str):
            posted.fields[name] = buffer.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadRefused:
        posted.wipe()
        raise
    except Exception as exc:  # a malformed body
        posted.wipe()
        raise UploadRefused("bad_form") from exc
    return posted
