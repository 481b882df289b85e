"""A decrypted report as labelled rows in the caseworker's language; the reporter's own
words stay as written (the template isolates them with <bdi dir="auto">)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from flows import FlowSet, load_flowset

__all__ = ["FieldRenderer", "FieldRow", "builtin_flows"]


@cache
def builtin_flows() -> FlowSet:
    """The shipped flows and catalogues, loaded once per process for the dashboard's labels
    and messages (read only here; a PDF used to load them again for each consent line)."""
    return load_flowset()


@dataclass(frozen=True)
class FieldRow:
    field_id: str
    label: str
    value: str
    original: bool  # the reporter's own words, not a label chosen from options


class FieldRenderer:
    def __init__(self) -> None:
        self._catalog = builtin_flows().catalog

    def label(self, field_id: str, lang: str) -> str:
        return str(self._catalog[lang].get(f"field.{field_id}", field_id))

    def option(self, value: str, lang: str) -> str | None:
        return self._option(value, lang)

    def _option(self, value: str, lang: str) -> str | None:
        text = self._catalog[lang].get(f"opt.{value}")
        return str(text) if text is not None else None

    def _person(self, field_id: str, n: int, answers: dict[str, Any], lang: str) -> FieldRow:
        """One more person harmed or detained (a repeated block's entry) as one row: each
        answer labelled, the field id kept so that redaction by field still applies."""
        parts = []
        for key, value in answers.items():
            shown = (
                (self._option(value, lang) or value)
                if isinstance(value, str)
                else (value.get("raw", "") if isinstance(value, dict) else str(value))
            )
            parts.append(f"{self.label(key, lang)}: {shown}")
        person = str(self._catalog[lang]["sys.repeat.person"]).format(n=n).rstrip(":")
        sep = "؛ " if lang == "ar" else "; "
        return FieldRow(
            field_id, f"{self.label(field_id, lang)} — {person}", sep.join(parts) or "—", True
        )

    def rows(self, fields: dict[str, Any], lang: str) -> list[FieldRow]:
        out = []
        for field_id, value in fields.items():
            label = self.label(field_id, lang)
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                if not field_id.endswith("_identity"):  # how many people, before them
                    out.append(
                        FieldRow(
                            "victims_total",
                            self.label("victims_total", lang),
                            str(len(value) + 1),
                            False,
                        )
                    )
                # person 1 is the one the report is about: the others are 2, 3, ...
                out += [
                    self._person(field_id, i + 2, person, lang) for i, person in enumerate(value)
                ]
            elif isinstance(value, dict) and "raw" in value:
                # the normalised date isolated left to right (LRI…PDI), so inside Arabic
                # free text it reads [2026-11-17], not [17-11-2026] (walkthrough, web minors)
                iso = f" \u2066[{value['iso']}]\u2069" if value.get("iso") else ""
                out.append(FieldRow(field_id, label, f"{value['raw']}{iso}", True))
            elif isinstance(value, list):
                shown = [self._option(str(v), lang) or str(v) for v in value]
                original = any(self._option(str(v), lang) is None for v in value)
                out.append(
                    FieldRow(
                        field_id,
                        label,
                        "، ".join(shown) if lang == "ar" else ", ".join(shown),
                        original,
                    )
                )
            elif isinstance(value, str):
                option = self._option(value, lang)
                out.append(FieldRow(field_id, label, option or value, option is None))
            elif value is None:
                continue
            else:
                out.append(FieldRow(field_id, label, str(value), True))
        return out
