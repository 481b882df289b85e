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

__all__ = ["bar_chart"]

# pygal appends a legacy finder to sys.meta_path (for pygal.maps plugins, unused here) that
# has no find_spec, so every later import that nothing else resolves (e.g. uvicorn probing for
# uvloop) raises ImportWarning in this process: take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_STYLE = Style(background="white", plot_background="white", foreground="#222",
               foreground_strong="#111", foreground_subtle="#888", colors=("#2a6f97",),
               font_family="'Noto Naskh Arabic', 'Noto Sans', sans-serif",
               label_font_size=14, major_label_font_size=14, value_font_size=13,
               title_font_size=16)


def bar_chart(title: str, rows: list[dict[str, Any]], suppressed_note: str) -> bytes:
    """One dimension's rows (`label`, `count`) as a horizontal bar chart in SVG."""
    chart = pygal.HorizontalBar(style=_STYLE, js=[], show_legend=False, print_values=True,
                                width=720, height=max(160, 40 * len(rows) + 80),
                                title=title, disable_xml_declaration=False, x_labels_major=[])
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
