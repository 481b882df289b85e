"""Server-rendered SVG bar charts of the published statistics (pygal, no scripts).

A chart shows only what the table publishes: suppressed cells get no bar and their label
says `<N`, so a chart never reveals more than the CSV.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pygal
from pygal.style import Style

__all__ = ["bar_chart", "cross_chart"]

# pygal appends a legacy finder to sys.meta_path (for pygal.maps plugins, unused here) that
# has no find_spec, so every later import that nothing else resolves (e.g. uvicorn probing for
# uvloop) raises ImportWarning in this process: take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#2a6f97",),
    font_family="'Noto Naskh Arabic', 'Noto Sans', sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=13,
    title_font_size=16,
)


def bar_chart(title: str, rows: list[dict[str, Any]], suppressed_note: str) -> bytes:
    """One dimension's rows (`label`, `count`) as a horizontal bar chart in SVG."""
    chart = pygal.HorizontalBar(
        style=_STYLE,
        js=[],
        show_legend=False,
        print_values=True,
        width=720,
        height=max(160, 40 * len(rows) + 80),
        title=title,
        disable_xml_declaration=False,
        x_labels_major=[],
    )
    labels: list[str] = []
    values: list[dict[str, Any]] = []
    for row in rows:
        count = str(row["count"])
        if count.startswith("<"):
            labels.append(f"{row['label']} ({count}, {suppressed_note})")
            values.append({"value": None})
        else:
            labels.append(str(row["label"]))
            values.append({"value": int(count), "formatter": str})
    chart.x_labels = labels
    chart.add("", values)
    # pygal writes its config as an inline script even with js=[]: nothing may run, so it goes
    return re.sub(rb"<script.*?</script>", b"", bytes(chart.render()), flags=re.DOTALL)


_CROSS_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#2a6f97", "#e07a1f", "#5a9e3a", "#8a4fa0", "#b23a48", "#6b6b6b"),
    font_family="'Noto Naskh Arabic', 'Noto Sans', sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=12,
    legend_font_size=14,
    title_font_size=16,
)


def cross_chart(
    title: str,
    rows: list[str],
    cols: list[str],
    cells: dict[tuple[str, str], str],
    suppressed_note: str,
    digits: Any = str,
    below: Any = None,
) -> bytes:
    """A cross-table as grouped horizontal bars: one group per column value (e.g. a violation
    type), one series per row value (e.g. a gender). A suppressed cell has no bar; its value
    is printed as `<N` (or `below(N)`, e.g. «أقل من ٥»: SVG text has no bidi isolation, so
    `<٥` would read `٥>` in Arabic) with the note, so the chart never shows more than the
    table. `digits` renders numbers (Arabic-Indic in Arabic)."""
    height = max(200, 30 * len(cols) * max(1, len(rows)) + 40 * len(cols) + 120)
    chart = pygal.HorizontalBar(
        style=_CROSS_STYLE,
        js=[],
        print_values=True,
        print_zeroes=True,
        width=760,
        height=height,
        title=title,
        legend_at_bottom=True,
        disable_xml_declaration=False,
        x_labels_major=[],
        value_formatter=lambda v: digits(f"{v:g}"),
    )
    chart.x_labels = cols
    for r in rows:
        values: list[Any] = []
        for c in cols:
            shown = cells.get((r, c))
            if shown is None:
                values.append({"value": 0, "formatter": lambda _v: digits("0")})
            elif shown.startswith("<"):
                bound = below(shown[1:]) if below else digits(shown)
                text = f"{bound} {suppressed_note}"
                values.append(
                    {
                        "value": 0,
                        "formatter": lambda _v, text=text: text,
                        "style": "stroke: #888; stroke-dasharray: 4 3",
                    }
                )
            else:
                n = int(shown)
                values.append({"value": n, "formatter": lambda _v, n=n: digits(str(n))})
        chart.add(r, values)
    svg = re.sub(rb"<script.*?</script>", b"", bytes(chart.render()), flags=re.DOTALL)
    # a bar of width 0 (a zero or a withheld cell): its text starts at the axis instead of
    # being centred on it, so it does not run into the row labels
    zero = re.escape(digits("0").encode())
    return re.sub(
        rb'<text text-anchor="middle"( x="[^"]*" y="[^"]*" class="value">'
        rb"(?:[^<]*" + re.escape(suppressed_note.encode()) + rb"|" + zero + rb")<)",
        rb'<text text-anchor="start"\1',
        svg,
    )
