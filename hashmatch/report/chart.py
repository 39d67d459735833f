"""A small inline SVG bar chart for the HTML report (no script, no external resource)."""

from __future__ import annotations

from hashmatch.report.markup import Markup, escape

WIDTH = 520
BAR = 18
LABEL = 110


def bar_chart(bars: list[tuple[str, int, str]]) -> Markup:
    """Horizontal bars: (label, count, CSS colour); labels and colours are ours, not evidence."""
    top = max((count for _, count, _ in bars), default=0) or 1
    height = len(bars) * (BAR + 6) + 4
    parts = [
        f'<svg class="chart" role="img" aria-label="summary chart" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">'
    ]
    for row, (label, count, colour) in enumerate(bars):
        y = 2 + row * (BAR + 6)
        length = round((WIDTH - LABEL - 70) * count / top)
        parts.append(
            f'<text x="0" y="{y + BAR - 5}" font-size="12">{escape(label)}</text>'
            f'<rect x="{LABEL}" y="{y}" width="{length}" height="{BAR}" fill="{escape(colour)}"/>'
            f'<text x="{LABEL + length + 6}" y="{y + BAR - 5}" font-size="12">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
