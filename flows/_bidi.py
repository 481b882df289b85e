"""Bidi isolation for what a reporter reads in Arabic: phone numbers, codes, references,
commands and other left-to-right runs keep their order inside right-to-left text.

Each run is wrapped in FSI (U+2068) ... PDI (U+2069), the isolates Unicode recommends for
embedding text of unknown direction (UAX #9); "+961 1 234 567" then never shows as
"567 234 1 961+". Pure functions, no I/O.
"""

from __future__ import annotations

import re

__all__ = ["isolate", "isolate_ltr_runs"]

FSI, PDI = "\u2068", "\u2069"
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# A command (/exit), or a run of Latin letters and digits possibly joined by spaces, dots,
# dashes, plus signs or slashes (a phone number, a case reference, a receipt code, a URL).
_LTR_RUN = re.compile(
    r"(?<![\w\u2068])(?:/[a-z]+\b|\+?[A-Za-z0-9](?:[A-Za-z0-9+./:@\-]|"
    r" (?=[A-Za-z0-9+]))*[A-Za-z0-9])(?![\w\u2069])"
)


def isolate(value: str) -> str:
    """One value, isolated as a unit (idempotent)."""
    if not value or (value.startswith(FSI) and value.endswith(PDI)):
        return value
    return f"{FSI}{value}{PDI}"


def isolate_ltr_runs(text: str) -> str:
    """Isolate each left-to-right run of a right-to-left text; runs already isolated stay.

    Only runs that would be reordered are touched: a lone number of one to three digits
    displays the same either way and is left as it is."""
    if not _ARABIC.search(text):
        return text

    def wrap(match: re.Match[str]) -> str:
        run = match.group(0)
        if run.isdigit() and len(run) <= 3:
            return run
        return isolate(run)

    parts = re.split(f"({FSI}[^{PDI}]*{PDI})", text)
    return "".join(p if p.startswith(FSI) else _LTR_RUN.sub(wrap, p) for p in parts)
