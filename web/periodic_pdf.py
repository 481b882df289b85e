"""The periodic report for people: its tables with labels in the reader's language (for the
dashboard page and the PDF), and the PDF itself, shaped and laid out like the case file
(web.pdf: HarfBuzz shaping, right to left in Arabic, Arabic-Indic digits there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

from caseworker import (
    JOINER,
    RESPONSES,
    SECTIONS,
    STATE_STEPS,
    STEPS,
    TIMING,
    PeriodicReport,
    Translator,
    whole_years,
)
from web import labels
from web.pdf import ARABIC_FONTS, LATIN_FONTS, PdfUnavailable, _find, _is_arabic, _prepared
from web.render import FieldRenderer

__all__ = ["Table", "labelled", "local_digits", "report_pdf"]


local_digits = labels.digits  # Arabic-Indic digits in Arabic (counts, dates, `<5`)


@dataclass(frozen=True)
class Table:
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, count as shown)
    level: int = 2  # 1: a section heading over the tables that follow
    note: str = ""


def labelled(
    report: PeriodicReport, t: Translator, fields: FieldRenderer | None = None
) -> list[Table]:
    """The report's tables in reading order, every label from the catalogues."""
    fields = fields or FieldRenderer()
    lang = t.lang

    def n(text: str) -> str:
        return local_digits(text, lang)

    def value_label(dim: str, value: str) -> str:
        if dim == "status":
            return t("status." + value)
        if dim == "country":
            return t("report.country_none") if value == "none" else value
        return fields.option(value, lang) or value

    out = [Table(t("report.total"), ((t("report.total"), n(report.total)),), level=1)]
    types = report.table("report_type")
    if not types:
        return [
            Table(
                t("report.total"),
                ((t("report.total"), n(report.total)),),
                level=1,
                note=t("report.withheld"),
            )
        ]
    out.append(Table(t("report.by_type"), tuple((t("type." + r.value), n(r.count)) for r in types)))
    status = report.table("status")
    if status:
        out.append(
            Table(
                t("report.dim.status"),
                tuple((value_label("status", r.value), n(r.count)) for r in status),
            )
        )

    def part(dimension: str, *prefix: str) -> list[list[str]]:
        return [
            [*r.value.split(JOINER), r.count]
            for r in report.table(dimension)
            if r.value.split(JOINER)[: len(prefix)] == list(prefix)
        ]

    for section in SECTIONS:
        country = part(f"report_type{JOINER}country", section)
        if country:
            out.append(Table(t(f"report.section.{section}"), (), level=1))
            out.append(
                Table(
                    t("report.dim.country"),
                    tuple((value_label("country", v), n(c)) for _, v, c in country),
                )
            )
    years = whole_years(report.first_month, report.last_month)
    if not years:
        out.append(Table(t("report.steps"), (), level=1, note=t("report.whole_years_only")))
    for year in years:
        out.append(Table(n(t("report.year", year=year)), (), level=1))
        shown = False
        for section in SECTIONS:
            steps = part(STEPS, year, section)
            timing = part(TIMING, year, section)
            if not steps and not timing:
                continue
            shown = True
            name = t(f"report.short.{section}")

            def title(key: str, name: str = name, **values: str) -> str:
                return t("report.part", section=name, what=t(key, **values))

            if steps:
                out.append(
                    Table(
                        title("report.dim.steps"),
                        tuple((t(f"report.step.{v}"), n(c)) for _, _, v, c in steps),
                    )
                )
            answers = part(RESPONSES, year, section)
            for step in STATE_STEPS:
                said = [(t(f"report.response.{v}"), n(c)) for _, _, s, v, c in answers if s == step]
                if said:
                    out.append(
                        Table(
                            title("report.dim.state_response", step=t(f"report.step.{step}")),
                            tuple(said),
                        )
                    )
            out.append(
                Table(
                    title("report.dim.timing"),
                    tuple((t(f"report.{v}"), _within(t, c)) for _, _, v, c in timing),
                    note="" if timing else t("report.no_timing"),
                )
            )
        if not shown:
            out[-1] = Table(out[-1].title, (), level=1, note=t("report.year_withheld"))
    return out


def _within(t: Translator, hours: str) -> str:
    """A bucket's bound as words: `24` within 24 hours, `>720` more than 720 hours."""
    if hours.startswith(">"):
        return labels.counted(t, "report.hours_over", int(hours[1:]))
    return labels.counted(t, "report.hours", int(hours))


def report_pdf(report: PeriodicReport, t: Translator, now: datetime) -> bytes:
    arabic, latin = _find(ARABIC_FONTS), _find(LATIN_FONTS)
    if arabic is None or latin is None:
        raise PdfUnavailable("no Arabic-capable font found: install fonts-noto-core")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.add_font("arabic", fname=str(arabic))
    pdf.add_font("latin", fname=str(latin))
    rtl = t.lang == "ar"

    def shaped(text: str, size: float) -> tuple[str, str]:
        text, direction = _prepared(local_digits(text, t.lang), rtl)
        is_ar = _is_arabic(text)
        pdf.set_font("arabic" if is_ar else "latin", size=size)
        pdf.set_fallback_fonts(["latin" if is_ar else "arabic"])
        pdf.set_text_shaping(
            use_shaping_engine=True,
            direction=direction,  # type: ignore[arg-type]
            script="arab" if is_ar else "latn",
            language="ar" if is_ar else "en",
        )
        return text, direction

    def para(text: str, size: float = 11, gap: float = 1.5) -> None:
        text, _ = shaped(text, size)
        pdf.multi_cell(
            0, size * 0.55, text, align="R" if rtl else "L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(gap)

    def row(label: str, count: str) -> None:
        width = pdf.epw
        cells = [(label, width * 0.75), (count, width * 0.25)]
        for text, w in reversed(cells) if rtl else cells:
            shown, _ = shaped(text, 10)
            pdf.cell(w, 6, shown, border="B", align="R" if rtl else "L")
        pdf.ln(6)

    para(t("report.title"), size=16, gap=2)
    para(
        local_digits(t("report.period", first=report.first_month, last=report.last_month), t.lang),
        size=11,
        gap=1,
    )
    para(
        local_digits(
            t("report.generated", at=now.strftime("%Y-%m-%d"), k=report.threshold), t.lang
        ),
        size=9,
        gap=1,
    )
    para(local_digits(t("report.note", k=report.threshold), t.lang), size=9, gap=4)
    for table in labelled(report, t):
        para(table.title, size=14 if table.level == 1 else 12, gap=1.5)
        for label, count in table.rows:
            row(label, count)
        if table.note:
            para(table.note, size=9, gap=1)
        pdf.ln(3)
    return bytes(pdf.output())
