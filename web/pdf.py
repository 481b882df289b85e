"""The case file as PDF for referral: fields, files with SHA-256, history, in the caseworker's
language. Arabic is shaped by HarfBuzz (fpdf2's text shaping) and laid out right to left;
the text stays extractable in logical order."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from caseworker.dashboard import CaseView
from flows._bidi import isolate_ltr_runs
from web import labels
from web.i18n import Translator
from web.render import FieldRow

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
ARABIC_FONTS = ("NotoNaskhArabic-Regular.ttf", "DejaVuSans.ttf")
LATIN_FONTS = ("NotoSans-Regular.ttf", "DejaVuSans.ttf")


class PdfUnavailable(Exception):
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
    return "".join(ch for ch in text if ch not in "\u202a\u202b\u202c\u202d\u202e"
                   "\u2066\u2067\u2068\u2069\u200e\u200f")


def _prepared(text: str, rtl_document: bool) -> tuple[str, str]:
    """The text to print and its direction: a paragraph goes the way its first strong letter
    does (an English answer in an Arabic file stays left to right); inside Arabic, numbers,
    dates, codes and Latin runs are isolated (FSI/PDI) so they keep their order."""
    text = _clean(text)
    first = next((ch for ch in text if ch.isalpha()), "")
    is_rtl = _is_arabic(first) if first else rtl_document
    return (isolate_ltr_runs(text) if _is_arabic(text) else text), ("rtl" if is_rtl else "ltr")


def case_pdf(view: CaseView, rows: list[FieldRow], t: Translator) -> bytes:
    arabic, latin = _find(ARABIC_FONTS), _find(LATIN_FONTS)
    if arabic is None or latin is None:
        raise PdfUnavailable("no Arabic-capable font found: install fonts-noto-core")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.add_font("arabic", fname=str(arabic))
    pdf.add_font("latin", fname=str(latin))
    rtl = t.lang == "ar"
    align = "R" if rtl else "L"

    def para(text: str, size: float = 11, gap: float = 1.5) -> None:
        text, direction = _prepared(text, rtl)
        is_ar = _is_arabic(text)
        pdf.set_font("arabic" if is_ar else "latin", size=size)
        pdf.set_fallback_fonts(["latin" if is_ar else "arabic"])
        pdf.set_text_shaping(use_shaping_engine=True,
                             direction=direction,
                             script="arab" if is_ar else "latn",
                             language="ar" if is_ar else "en")
        pdf.multi_cell(0, size * 0.55, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(t("case.title", case_ref=view.case_ref), size=16, gap=3)
    para(f"{t('queue.status')}: {t('status.' + view.status)}")
    reasons = [labels.reason(t, r) for r in view.reasons]
    sep = "، " if rtl else ", "
    para(f"{t('queue.priority')}: {view.priority} ({sep.join(reasons)})")
    para(f"{t('queue.type')}: {t('type.' + (view.report_type or 'none'))}")
    para(f"{t('case.received')}: {view.received_at.strftime('%Y-%m-%d %H:%M UTC')}", gap=4)
    para(t("case.report"), size=13, gap=2)
    if view.identity_protected:  # names and contact details only once a custodian approved
        para(t("identity.pdf_left_out"), size=10, gap=2)
    for row in rows:
        para(f"{row.label}:", size=10, gap=0.5)
        para(row.value, size=11, gap=2)
    if view.attachments:
        para(t("case.files"), size=13, gap=2)
        for att in view.attachments:
            para(f"{att['name']} — {t('case.bytes', n=att['size'])}", size=10, gap=0.5)
            para(f"SHA-256 {att['sha256']}", size=8, gap=2)
    para(t("case.history"), size=13, gap=2)
    for event in view.history:
        label = labels.event(t, event)
        actor = f" — {event['actor']}" if event.get("actor") else ""
        para(f"{str(event['at'])[:16].replace('T', ' ')} — {label}{actor}", size=9, gap=0.5)
    return bytes(pdf.output())
