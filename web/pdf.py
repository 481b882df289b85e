"""The case file as PDF for referral: fields, files with SHA-256, history, in the caseworker's
language. Arabic is shaped by HarfBuzz (fpdf2's text shaping) and laid out right to left;
the text stays extractable in logical order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from caseworker import CaseView, Translator
from core import UnavailableError
from flows import isolate_ltr_runs
from storage import casework
from web import labels
from web.render import FieldRow

__all__ = [
    "ARABIC_FONTS",
    "FONT_DIRS",
    "LATIN_FONTS",
    "REDACTED_ALWAYS",
    "Export",
    "PdfUnavailable",
    "case_pdf",
    "fonts_available",
]

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
ARABIC_FONTS = ("NotoNaskhArabic-Regular.ttf", "DejaVuSans.ttf")
LATIN_FONTS = ("NotoSans-Regular.ttf", "DejaVuSans.ttf")


class PdfUnavailable(UnavailableError):
    """No font able to draw Arabic is installed (Debian: fonts-noto-core)."""


def _find(names: tuple[str, ...]) -> Path | None:
    for name in names:
        for folder in FONT_DIRS:
            if (folder / name).exists():
                return folder / name
    return None


def fonts_available() -> bool:
    return _find(ARABIC_FONTS) is not None and _find(LATIN_FONTS) is not None


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


def _clean(text: str) -> str:
    # Bidi controls from a reporter must not reorder the document; drop them for print.
    return "".join(
        ch
        for ch in text
        if ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    )


def _prepared(text: str, rtl_document: bool) -> tuple[str, str]:
    """The text to print and its direction: a paragraph goes the way its first strong letter
    does (an English answer in an Arabic file stays left to right); inside Arabic, numbers,
    dates, codes and Latin runs are isolated (FSI/PDI) so they keep their order."""
    text = _clean(text)
    first = next((ch for ch in text if ch.isalpha()), "")
    # no letter at all (a phone number, a date, a hash): left to right, so "+961 1 234 567"
    # never prints as "567 234 1 961+" in an Arabic file (walkthrough M4/M7)
    is_rtl = _is_arabic(first) if first else False
    return (isolate_ltr_runs(text) if _is_arabic(text) else text), ("rtl" if is_rtl else "ltr")


# Left out of a redacted export whatever the reporter said: names and ways to reach them.
REDACTED_ALWAYS = frozenset({"reporter_name", "victim_name", "contact_safety", "urgent_who"})


@dataclass(frozen=True)
class Export:
    """Who exports, when, and whether the copy is redacted (for a recipient outside)."""

    by: str
    at: datetime
    redacted: bool = False


class _CaseFile(FPDF):
    """A4 with the footer on every page: confidential, who exported it and when, page N of M."""

    footer_line: Callable[[int], tuple[str, str, bool]] | None = None

    def footer(self) -> None:
        if self.footer_line is None:
            return
        text, direction, is_ar = self.footer_line(self.page_no())
        self.set_y(-12)
        self.set_font("arabic" if is_ar else "latin", size=8)
        self.set_fallback_fonts(["latin" if is_ar else "arabic"])
        self.set_text_shaping(
            use_shaping_engine=True,
            direction=direction,
            script="arab" if is_ar else "latn",
            language="ar" if is_ar else "en",
        )
        self.cell(0, 5, text, align="C")


def case_pdf(
    view: CaseView, rows: list[FieldRow], t: Translator, export: Export | None = None
) -> bytes:
    """The case file: everything the caseworker may export (report, files with hashes,
    consents, notes, conversation, actions, history with details), page numbers and the
    footer. `export.redacted`: for a recipient outside, without identity, contact details,
    the conversation, the internal notes, or any answer the reporter did not consent to
    share (the identity section unless consent_share_identity is yes)."""
    export = export or Export("-", datetime.now(UTC))
    first = _render(view, rows, t, export, None)
    pages = first[1]
    return _render(view, rows, t, export, pages)[0]


def _render(
    view: CaseView, rows: list[FieldRow], t: Translator, export: Export, pages: int | None
) -> tuple[bytes, int]:
    arabic, latin = _find(ARABIC_FONTS), _find(LATIN_FONTS)
    if arabic is None or latin is None:
        raise PdfUnavailable("no Arabic-capable font found: install fonts-noto-core")
    pdf = _CaseFile(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("arabic", fname=str(arabic))
    pdf.add_font("latin", fname=str(latin))
    rtl = t.lang == "ar"
    sep = "، " if rtl else ", "
    when = export.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def footer(n: int) -> tuple[str, str, bool]:
        key = "pdf.footer_redacted" if export.redacted else "pdf.footer"
        text = t(
            key,
            who=export.by,
            at=when,
            page=labels.digits(n, t.lang),
            pages=labels.digits(pages or n, t.lang),
        )
        prepared, direction = _prepared(text, rtl)
        return prepared, direction, _is_arabic(prepared)

    pdf.footer_line = footer
    pdf.add_page()

    def para(text: str, size: float = 11, gap: float = 1.5) -> None:
        text, direction = _prepared(text, rtl)
        is_ar = _is_arabic(text)
        pdf.set_font("arabic" if is_ar else "latin", size=size)
        pdf.set_fallback_fonts(["latin" if is_ar else "arabic"])
        pdf.set_text_shaping(
            use_shaping_engine=True,
            direction=direction,
            script="arab" if is_ar else "latn",
            language="ar" if is_ar else "en",
        )
        # each paragraph is aligned the way it reads: English in an Arabic file starts on
        # the left, Arabic in an English file on the right
        pdf.multi_cell(
            0,
            size * 0.55,
            text,
            align="R" if direction == "rtl" else "L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(gap)

    def heading(text: str) -> None:
        if pdf.get_y() > pdf.page_break_trigger - 30:  # never alone at the foot of a page
            pdf.add_page()
        para(text, size=13, gap=2)

    def labelled(label: str, value: str) -> None:
        if pdf.get_y() > pdf.page_break_trigger - 16:  # the label goes with its text
            pdf.add_page()
        para(f"{label}:", size=10, gap=0.5)
        para(value, size=11, gap=2)

    def stamp(value: Any) -> str:
        return (
            value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            if hasattr(value, "astimezone")
            else str(value or "")[:16].replace("T", " ")
        )

    para(t("case.title", case_ref=view.case_ref), size=16, gap=2)
    para(t("pdf.confidential"), size=10, gap=1)
    if export.redacted:
        para(t("pdf.redacted_note"), size=10, gap=3)
    heading(t("case.summary"))
    para(f"{t('queue.status')}: {t('status.' + view.status)}")
    reasons = [labels.reason(t, r) for r in view.reasons]
    para(f"{t('queue.priority')}: {labels.digits(view.priority, t.lang)} ({sep.join(reasons)})")
    para(f"{t('queue.type')}: {t('type.' + (view.report_type or 'none'))}")
    para(f"{t('case.received')}: {stamp(view.received_at)}")
    para(f"{t('case.language')}: {labels.language(t, view.lang)}")
    para(f"{t('case.channel')}: {labels.channel(t, view.channel)}")
    if not export.redacted:
        para(f"{t('case.assigned')}: {view.assigned_to or t('case.nobody')}")
    if view.deadline:
        para(f"{t('case.measure_deadline')}: {stamp(view.deadline)}")
    heading(t("case.consent"))
    consents = sorted({*casework.ACTION_CONSENT.values(), "consent_store", "consent_stats"})
    for key in consents:
        given = casework.consented_map(view.consent, key)
        para(
            f"{_label_of(rows, key, t)}: "
            f"{t('case.consent_yes') if given else t('case.consent_no')}",
            size=10,
            gap=0.5,
        )
    pdf.ln(2)
    heading(t("case.report"))
    hidden = set(REDACTED_ALWAYS) | set(view.identity_fields) if export.redacted else set()
    if export.redacted and casework.consented_map(view.consent, "consent_share_identity"):
        hidden -= set(view.identity_fields) - REDACTED_ALWAYS
    if view.identity_protected and not export.redacted:
        para(t("identity.pdf_left_out"), size=10, gap=2)
    for row in rows:
        if row.field_id in hidden or row.field_id.startswith("consent_"):
            continue
        labelled(row.label, row.value)
    heading(t("case.files"))
    if not view.attachments:
        para(t("case.no_files"), size=10)
    for att in view.attachments:
        para(f"{att['name']} — {t('case.bytes', n=att['size'])}", size=10, gap=0.5)
        para(f"SHA-256 {att['sha256']}", size=8, gap=2)
    if not export.redacted:
        heading(t("case.thread"))
        if not view.thread:
            para(t("case.thread_empty"), size=10)
        for m in view.thread:
            who = t("case.thread_reporter") if m["from"] == "reporter" else m["author"]
            para(f"{stamp(m['at'])} — {who} — {t('delivery.' + m['state'])}", size=9, gap=0.5)
            if m.get("text"):
                para(str(m["text"]), size=10, gap=2)
        heading(t("case.notes"))
        if not view.notes:
            para(t("case.no_notes"), size=10)
        for n in view.notes:
            para(f"{stamp(n['at'])} — {n['author']}", size=9, gap=0.5)
            para(str(n["text"]), size=10, gap=2)
    heading(t("case.actions"))
    for a in view.actions:
        state = (
            t("delivery." + a["delivery"]) if a.get("delivery") else t("outcome." + a["outcome"])
        )
        line = f"{stamp(a['at'])} — {t('action.' + a['kind'])} — {state} — {a['actor']}"
        if a.get("deadline"):
            line += " — " + t("case.action_deadline", date=stamp(a["deadline"]))
        para(line, size=9, gap=0.5)
    heading(t("case.history"))
    for event in view.history:
        detail = labels.event_detail(t, event)
        actor = f" — {event['actor']}" if event.get("actor") else ""
        para(
            f"{stamp(event['at'])} — {labels.event(t, event)}{actor}"
            f"{': ' + detail if detail else ''}",
            size=9,
            gap=0.5,
        )
    return bytes(pdf.output()), pdf.pages_count


def _label_of(rows: list[FieldRow], key: str, t: Translator) -> str:
    from web.render import FieldRenderer

    return FieldRenderer().label(key, t.lang)
