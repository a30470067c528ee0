"""The one palette and the number formats shared by every chart."""

from __future__ import annotations

import altair as alt

PALETTE = ["#1f5aa6", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]
# Cluster colours: index = ordered cluster label (0 = least engaged / worst experience).
CLUSTER_COLORS = ["#e15759", "#edc948", "#59a14f", "#1f5aa6", "#b07aa1", "#76b7b2",
                  "#ff9da7", "#9c755f", "#bab0ac", "#f28e2b"]
PRIMARY = PALETTE[0]
WIDTH = 640
HEIGHT = 360
FONT_SIZE = 14
TITLE_SIZE = 18

# d3-format strings for axes
THOUSANDS = ",.0f"
DECIMAL = ",.2f"
SI = "~s"  # 1.2G, 35M: for bytes axes


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply the house look: readable at slide size."""
    return chart.configure_axis(
        labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE
    ).configure_title(fontSize=TITLE_SIZE, anchor="start").configure_legend(
        labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE
    ).configure_view(strokeWidth=0)


def cluster_scale(k: int) -> alt.Scale:
    """Colour scale for ordered cluster labels 0..k-1."""
    return alt.Scale(domain=list(range(k)), range=CLUSTER_COLORS[:k])


def human_bytes(value: float, decimals: int = 2) -> str:
    """1234567 -> '1.23 MB' (decimal units, as operators bill); more decimals on request."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    v = float(value)
    for unit in units:
        if abs(v) < 1000 or unit == units[-1]:
            return f"{v:,.0f} {unit}" if unit == "B" else f"{v:,.{decimals}f} {unit}"
        v /= 1000
    return f"{v:,.{decimals}f} PB"


def human_duration_ms(value: float, decimals: int = 1) -> str:
    """Milliseconds to '3.2 h' / '12.5 min' / '45.0 s'."""
    s = float(value) / 1000
    if abs(s) >= 3600:
        return f"{s / 3600:,.{decimals}f} h"
    if abs(s) >= 60:
        return f"{s / 60:,.{decimals}f} min"
    return f"{s:,.{decimals}f} s"
