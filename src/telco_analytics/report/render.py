"""Render Altair charts to PNG/SVG/HTML with vl-convert (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import vl_convert as vlc


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """PNG bytes of a chart (scale 2 keeps text sharp on slides)."""
    # schema validation costs more than the rendering; the figure tests validate every chart
    return vlc.vegalite_to_png(chart.to_dict(validate=False), scale=scale)


def save_png(chart: alt.TopLevelMixin, path: Path, scale: float = 2.0) -> Path:
    """Write a chart as PNG (atomically: never a partial file)."""
    from ..run.catalog import write_atomic

    return write_atomic(Path(path), chart_png(chart, scale))
