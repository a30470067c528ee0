"""The figures of a report page: each placed at most once, as its Vega-Lite spec (drawn in the
browser) or, when the chart cannot be rebuilt, as the run's saved PNG."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .tables import esc

if TYPE_CHECKING:
    from ..run_data import RunData

log = logging.getLogger(__name__)


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no '</' can close it early)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


class Page:
    """Collects the figures placed so far (each at most once) and their specs."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self.charts = data.charts()
        self.placed: set[str] = set()

    def stems(self, prefix: str) -> list[str]:
        """Every figure of the run whose name starts with prefix, sorted."""
        return [s for s in sorted(set(self.data.figures) | set(self.charts))
                if s.startswith(prefix)]

    def figure(self, stem: str, caption: str = "") -> str:
        """An interactive chart when it can be rebuilt, else the saved PNG, else ''."""
        if stem in self.placed:
            return ""
        chart = self.charts.get(stem)
        body = ""
        if chart is not None:
            try:
                spec = chart.to_dict(validate=False)  # the figure tests validate
                body = (f'<div class="chart" id="fig-{esc(stem)}" data-spec="spec-{esc(stem)}">'
                        f'</div><script type="application/json" id="spec-{esc(stem)}">'
                        f"{script_json(spec)}</script>")
            except Exception as exc:  # noqa: BLE001 - fall back to the PNG
                log.warning("chart %s has no valid spec (%s): PNG used", stem, exc)
        if not body and stem in self.data.figures:
            encoded = base64.b64encode(self.data.figures[stem].read_bytes()).decode("ascii")
            body = (f'<img id="fig-{esc(stem)}" alt="{esc(caption or stem)}" '
                    f'src="data:image/png;base64,{encoded}">')
        if not body:
            return ""
        self.placed.add(stem)
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        return f"<figure>{body}{cap}</figure>"

    def figures(self, stems: Iterable[str]) -> str:
        return "".join(self.figure(s) for s in stems)
