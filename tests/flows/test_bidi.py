"""What the reporter reads in Arabic is displayed in the right order: checked with the
Unicode bidi algorithm (python-bidi's UAX #9 implementation), not against hand-written text."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bidi import get_display

from flows import load_flowset
from flows._bidi import FSI, PDI, isolate_ltr_runs
from intake.support import Guidance


def _shown(text: str) -> str:
    """The text as an RTL bubble displays it, isolate marks removed."""
    return get_display(text, base_dir="R").replace(FSI, "").replace(PDI, "")


def test_the_urgent_line_keeps_its_digit_groups_in_arabic() -> None:
    guidance = replace(Guidance.load(), urgent_line="+961 1 234 567")
    arabic = guidance.text("ar", None)
    assert "+961 1 234 567" in _shown(arabic)
    assert "567 234 1 961+" not in _shown(arabic)
    # Without isolation the same sentence is garbled: the test can fail.
    assert "567 234 1 961+" in _shown(arabic.replace(FSI, "").replace(PDI, ""))


def test_case_reference_receipt_and_commands_read_left_to_right() -> None:
    flows = load_flowset()
    text = flows.text(
        "ar", "sys.receipt", case_ref="RPK-MAH", receipt="ABCD-EFGH-JKMN-PQRS-TUVW-XY34-7939-ACDE"
    )
    shown = _shown(text)
    assert "RPK-MAH" in shown and "ABCD-EFGH-JKMN-PQRS-TUVW-XY34-7939-ACDE" in shown
    commands = [k for k, v in flows.catalog["ar"].items() if "/exit" in v]
    assert commands
    for key in commands:
        shown = _shown(flows.text("ar", key))
        assert "/exit" in shown and "exit/" not in shown, key


@pytest.mark.parametrize(
    "sentence, kept",
    [
        ("قبل 3 أيام [2026-11-28]", "2026-11-28"),
        ("اتصل على +20 100 123 4567 مساءً", "+20 100 123 4567"),
        ("رمزك ABCD-1234 احفظه", "ABCD-1234"),
    ],
)
def test_latin_runs_inside_arabic_keep_their_order(sentence: str, kept: str) -> None:
    assert kept in _shown(isolate_ltr_runs(sentence))


def test_isolation_changes_nothing_in_english_and_is_idempotent() -> None:
    assert isolate_ltr_runs("Call +961 1 234 567 now") == "Call +961 1 234 567 now"
    once = isolate_ltr_runs("اتصل على +961 1 234 567")
    assert isolate_ltr_runs(once) == once


def test_console_wraps_arabic_before_reordering_so_it_reads_top_to_bottom() -> None:
    import unicodedata

    from bot.console import shape

    text = max(load_flowset().text("ar", "opening.welcome").split("\n"), key=len)
    assert len(text) > 60, "the test needs a line longer than the terminal"
    lines = shape(text, width=60).split("\n")
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    logical = [unicodedata.normalize("NFKC", line)[::-1] for line in lines]  # undo display
    words = [w.strip(".،") for w in text.split() if "ل" not in w]  # lam-alef is one glyph
    assert words[0] in logical[0] and words[-1] in logical[-1]
    assert FSI not in "".join(lines) and PDI not in "".join(lines)


def test_console_mirrors_brackets_and_keeps_tanween() -> None:
    from bot.console import shape

    shown = shape("أهلاً (محاماة أو منظمة) «سند»", width=80)
    assert "\u064b" in shown  # the tanween of أهلاً
    assert shown.index("(") < shown.index(")") and shown.index("«") < shown.index("»")


@pytest.mark.parametrize(
    "text, kept",
    [
        ("3 days ago [2026-11-28]", "3 days ago [2026-11-28]"),  # an English answer
        ("قبل 3 أيام [2026-11-28]", "2026-11-28"),
        ("تاريخ الاستلام: 2026-12-01 19:42 UTC", "2026-12-01 19:42 UTC"),
    ],
)
def test_the_arabic_case_pdf_prints_left_to_right_values_in_order(text: str, kept: str) -> None:
    """As the PDF lays out a paragraph (fpdf2's own bidi, with the direction we give it)."""
    from fpdf.bidi import BidiParagraph
    from fpdf.enums import TextDirection

    from web.pdf import _prepared

    prepared, direction = _prepared(text, rtl_document=True)
    base = TextDirection.RTL if direction == "rtl" else TextDirection.LTR
    shown = BidiParagraph(prepared, base_direction=base).get_reordered_string()
    if direction == "rtl":  # compare the Latin run: read as displayed, left to right
        assert kept in shown.replace(FSI, "").replace(PDI, "")
    else:
        assert shown == kept
