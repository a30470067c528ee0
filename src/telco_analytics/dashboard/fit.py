"""The report's charts fitted to a dashboard page: full width, readable height, legends outside.

The report draws its charts at fixed sizes for slides (a 640 px plot, a bar 28 px a handset).
On a page of any width the dashboard wants each chart across the page and never squashed by a
filter, so it rewrites the chart's Vega-Lite specification (a plain dict, no Altair):

- a single or layered chart takes the container's width (`width: container`, `autosize: fit-x`,
  so axes and legends are inside that width) and keeps its plot height, at least MIN_PLOT_HEIGHT;
- a chart of side-by-side panels (`hconcat`) becomes one chart a panel, to be put in columns,
  their shared colour legend drawn once (`Fitted.legend`) instead of once a panel;
- a bar chart faceted into columns becomes grouped bars (`xOffset`), one chart that can stretch;
- a legend placed inside the plot (`bottom-right`...) moves to the right of it, off the marks;
- axis labels that would overlap are thinned out rather than drawn over each other;
- an axis of whole numbers (',.0f', 'd') gets ticks on whole numbers only: over a narrow
  range (31-34 ms) Vega put ticks at 32.5 and 33 and both read '33';
- an SI-formatted axis reads 0 rather than '0G' at its origin, and a bytes axis reads
  '20 GB' rather than '20G' (Vega gives every tick the same prefix, so the origin had one).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

Spec = dict[str, Any]

# the plot area (without title and axes) never gets lower than this: two handsets' bars and
# their labels stay apart, and the chart's box stays well above 150 px
MIN_PLOT_HEIGHT = 200
LABEL_LIMIT = 320  # px
TICKS = 8  # about as many ticks as on the report's 640 px charts
INSIDE = {"top-left", "top-right", "bottom-left", "bottom-right", "none"}
# what a panel keeps of the chart it was part of
SHARED = ("config", "datasets", "data", "$schema")


@dataclass
class Fitted:
    """A chart as the page shows it: one spec, or a row of panels under a common title."""

    specs: list[Spec]
    title: str | None = None
    subtitle: str | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)


def fit(spec: Spec) -> Fitted:
    """The page's version of a chart's Vega-Lite spec (the input is not changed)."""
    spec = copy.deepcopy(spec)
    if "hconcat" in spec:
        return _panels(spec)
    encoding = spec.get("encoding", {})
    if "column" in encoding and _mark(spec) == "bar":
        _columns_to_offsets(encoding)
    return Fitted([_stretched(spec)])


def _mark(spec: Spec) -> str | None:
    mark = spec.get("mark")
    return mark.get("type") if isinstance(mark, dict) else mark


def _stretched(spec: Spec) -> Spec:
    """The chart across its container, its plot at least MIN_PLOT_HEIGHT high, legends outside."""
    spec["width"] = "container"
    height = spec.get("height")
    spec["height"] = max(height, MIN_PLOT_HEIGHT) if isinstance(height, int | float) \
        else MIN_PLOT_HEIGHT
    # fit-x: the width holds axes and legends too; the height stays the plot's
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    config = spec.setdefault("config", {})
    axis = config.setdefault("axis", {})
    # a tick label that would overlap its neighbour is left out (log axes label 0.02, 0.03...)
    axis.setdefault("labelOverlap", "greedy")
    # a page has room for a handset's whole name (Vega cuts labels at 180 px by default)
    axis.setdefault("labelLimit", LABEL_LIMIT)
    # Vega puts a tick every 40 px: across a page that is 20+ ticks ("0.05k 0.1k 0.15k...")
    config.setdefault("axisQuantitative", {}).setdefault("tickCount", TICKS)
    for encoding in _encodings(spec):
        legend = encoding.get("color", {}).get("legend")
        if isinstance(legend, dict) and legend.get("orient") in INSIDE:
            legend["orient"] = "right"
        for channel in ("x", "y"):
            _axis_labels(encoding.get(channel))
    return spec


# datum.label is the tick's label as formatted ('20G', '0G'): a bare 0 at the origin, and on a
# bytes axis a space and the unit ('20 GB', '500 B')
SI_LABEL = "datum.value == 0 ? '0' : datum.label"
BYTES_LABEL = ("datum.value == 0 ? '0' : "
               "replace(datum.label, regexp('^(.*[0-9])([kMGTPE]?)$'), '$1 $2B')")


def _axis_labels(channel: Any) -> None:
    """Readable labels on an axis with a number format: whole-number ticks for a whole-number
    format, a bare 0 and the bytes unit for an SI format ('~s')."""
    if not isinstance(channel, dict) or channel.get("type") != "quantitative":
        return
    axis = channel.get("axis")
    if not isinstance(axis, dict):
        return
    if str(axis.get("format", "")).endswith((".0f", "d")):
        axis.setdefault("tickMinStep", 1)
    if not str(axis.get("format", "")).endswith("s") or "labelExpr" in axis:
        return
    title = str(channel.get("title") or axis.get("title") or "")
    bytes_axis = "bytes" in str(channel.get("field", "")) or "(bytes)" in title
    axis["labelExpr"] = BYTES_LABEL if bytes_axis else SI_LABEL


def _encodings(spec: Spec) -> list[dict[str, Any]]:
    """The encodings of a chart and of its layers."""
    found = [spec["encoding"]] if "encoding" in spec else []
    for layer in spec.get("layer", []):
        found.extend(_encodings(layer))
    return found


def _columns_to_offsets(encoding: dict[str, Any]) -> None:
    """Bars faceted into columns by F, with x = G, become bars grouped by F and offset by G."""
    column, x = encoding.pop("column"), encoding["x"]
    encoding["xOffset"] = {k: v for k, v in x.items() if k in ("field", "type", "sort")}
    encoding["x"] = {
        "field": column["field"], "type": column.get("type", "nominal"),
        "title": column.get("title"), "axis": {"labelAngle": 0},
        **({"sort": column["sort"]} if "sort" in column else {}),
    }


def _panels(spec: Spec) -> Fitted:
    """One stretched chart a panel; the title and a colour legend drawn once for the row."""
    shared = {k: spec[k] for k in SHARED if k in spec}
    legend: list[tuple[str, str]] = []
    panels = []
    for panel in spec["hconcat"]:
        color = panel.get("encoding", {}).get("color", {})
        if color.get("legend", {}) is not None:  # the row's legend, not one a panel
            legend = legend or _legend_entries(color)
            color["legend"] = None
        panels.append(_stretched({**shared, **panel}))
    title = spec.get("title")
    text, subtitle = (title.get("text"), title.get("subtitle")) if isinstance(title, dict) \
        else (title, None)
    return Fitted(panels, _line(text), _line(subtitle), legend)


def _legend_entries(color: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, colour) of a colour encoding with an explicit domain and range."""
    scale = color.get("scale", {})
    return [(str(label), str(colour))
            for label, colour in zip(scale.get("domain", []), scale.get("range", []))]


def _line(text: str | list[str] | None) -> str | None:
    """A Vega title (a string or a list of lines) as one line."""
    return " ".join(text) if isinstance(text, list) else text
