"""Library log records without their arguments: what the messaging libraries log can quote a
reporter's words, a phone number or a chat id (python-telegram-bot logs a whole update it
could not parse at CRITICAL; signalbot logs frames and sent texts).

`Redact` keeps a record's message template and drops its arguments, exception text and
traceback. `redact_library_logs()` is called by the `sanad run` commands: every record that
is not the application's own (`sanad.*`, which logs kinds and counts only) reaches stderr
redacted, instead of through Python's last-resort handler, which prints it whole.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["Redact", "redact_library_logs"]


class Redact(logging.Filter):
    """Keep the message template, drop the arguments and exception texts."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "sanad" or record.name.startswith("sanad."):
            return True
        if record.args:
            record.msg = f"{record.msg} [details withheld]"
            record.args = ()
        if record.exc_info:
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__})"
            record.exc_info = None
            record.exc_text = None
        record.stack_info = None
        return True


def redact_library_logs(
    stream: TextIO | None = None, level: int = logging.WARNING
) -> logging.Handler:
    """A redacting stderr handler on the root logger (once; returns the one installed)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if any(isinstance(f, Redact) for f in handler.filters):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(level)
    handler.addFilter(Redact())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    return handler
