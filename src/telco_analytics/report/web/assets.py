"""The report's inline style sheet and scripts, and the cached Vega bundle.

Charts are drawn by vega-embed from their specs as soon as the page has loaded, a few at a time
so that the page stays responsive, and all at once before printing: a printed or saved PDF has
every chart (drawing only what is scrolled into view left printouts without charts).
"""

from __future__ import annotations

import functools
import logging
import os
from importlib import metadata

from ..figures.style import PALETTE, PRIMARY

log = logging.getLogger(__name__)

COLUMN_PX = 1100  # the page column: nothing in it may be wider

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #222; line-height: 1.45; }}
header {{ background: {PRIMARY}; color: white; padding: 1.5em 2em; }}
header h1 {{ margin: 0 0 .3em 0; }} header p {{ margin: .2em 0; opacity: .9; }}
header code {{ word-break: break-all; }}
main {{ max-width: {COLUMN_PX}px; margin: 0 auto; padding: 1em 2em 4em; }}
nav.toc {{ background: #f4f6fa; border-left: 4px solid {PRIMARY}; padding: .5em 1.5em;
  margin: 1em 0; }}
nav.toc ol {{ margin: .3em 0; }}
h2 {{ border-bottom: 2px solid {PRIMARY}; padding-bottom: .2em; margin-top: 2.5em; }}
h3 {{ color: {PRIMARY}; margin-top: 1.8em; }}
table {{ border-collapse: collapse; margin: .8em 0; font-size: .86em; max-width: 100%; }}
th, td {{ border: 1px solid #d8dde6; padding: .25em .45em; vertical-align: top;
  overflow-wrap: break-word; }}
td.long {{ overflow-wrap: anywhere; }}
th {{ background: #eef1f6; text-align: left; overflow-wrap: normal; }}
th.sortable {{ cursor: pointer; }}
th.sortable::after {{ content: " \\2195"; color: #99a; font-size: .8em; }}
td:first-child {{ overflow-wrap: normal; }}
td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
tr:nth-child(even) td {{ background: #fafbfc; }}
caption {{ caption-side: top; text-align: left; font-weight: 600; padding: .3em 0; }}
.table-wrap {{ max-width: 100%; overflow-x: auto; }}
.summary {{ font-size: 1.05em; }}
.findings {{ background: #fff8ec; border-left: 4px solid {PALETTE[1]}; padding: .6em 1.2em; }}
.findings li {{ margin: .35em 0; }}
.findings .action {{ font-weight: 600; }}
.note {{ color: #555; font-size: .92em; }}
figure {{ margin: 1.2em 0; max-width: 100%; break-inside: avoid; page-break-inside: avoid; }}
figure img {{ max-width: 100%; height: auto; }}
.chart {{ max-width: 100%; min-height: 60px; }}
.chart .vega-embed {{ max-width: 100%; }}
.chart svg, .chart canvas {{ max-width: 100% !important; height: auto !important; }}
figcaption {{ color: #555; font-size: .9em; }}
pre {{ background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .8em; }}
dl.defs dt {{ font-weight: 600; margin-top: .6em; }} dl.defs dd {{ margin-left: 1.5em; }}
/* printed landscape: the page is about as wide as the 1,100 px screen column */
@page {{ size: A4 landscape; margin: 12mm; }}
@media print {{
  header {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  main {{ max-width: none; padding: 0; }}
  section.new-page {{ break-before: page; }}
  section.new-page h2 {{ margin-top: 0; }}
  h2 {{ break-after: avoid; }}
  h3, caption {{ break-after: avoid; }}
  .table-wrap {{ overflow: visible; }}
  tr, .findings li, .summary {{ break-inside: avoid; }}
  /* two charts to a printed page: scaled down whole, never cut */
  .chart svg, .chart canvas, figure img {{ max-height: 88mm; width: auto !important; }}
  th.sortable::after {{ content: none; }}
  pre {{ white-space: pre-wrap; overflow: visible; }}
  a {{ color: inherit; text-decoration: none; }}
}}
"""

# Charts: drawn one after another once the page has loaded (fifty at once would stall it),
# all at once when printing starts. document.body.dataset.charts says "done" when every chart
# is drawn (the browser test waits for it before printing).
LOADER_JS = """
(function () {
  var options = {actions: false, renderer: "svg"};
  var charts = Array.prototype.slice.call(document.querySelectorAll("div.chart[data-spec]"));
  var pending = charts.length;
  function finished() { if (--pending === 0) document.body.dataset.charts = "done"; }
  function render(el) {
    if (el.getAttribute("data-done")) return null;
    el.setAttribute("data-done", "1");
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
    return vegaEmbed(el, spec, options)
      .catch(function (e) { el.textContent = "chart failed: " + e; })
      .then(finished);
  }
  if (!charts.length) { document.body.dataset.charts = "done"; return; }
  var next = 0;
  function step() {
    var until = Date.now() + 40;  // a slice of work, then let the page breathe
    while (next < charts.length && Date.now() < until) render(charts[next++]);
    if (next < charts.length) setTimeout(step, 0);
  }
  window.addEventListener("beforeprint", function () { charts.forEach(render); });
  if (document.readyState === "complete") step(); else window.addEventListener("load", step);
})();
"""

# Clicking a header of a sortable table sorts its rows by that column: numbers by their value
# (data-v holds the raw number: "10" after "9", "2.00 GB" after "900 MB"), text by its text.
SORT_JS = """
(function () {
  function key(td) {
    var v = td.getAttribute("data-v");
    return v === null ? null : parseFloat(v);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.classList.add("sortable");
      th.addEventListener("click", function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var up = th.getAttribute("data-order") !== "asc";
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col], kx = key(x), ky = key(y), d;
          if (kx !== null && ky !== null) d = kx - ky;
          else d = x.textContent.localeCompare(y.textContent);
          return up ? d : -d;
        });
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
        th.setAttribute("data-order", up ? "asc" : "desc");
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega + Vega-Lite + vega-embed as one script, cached on disk per vl-convert version.

    Bundling takes 1-2 s; the cache makes every report after the first one cheaper.
    """
    import vl_convert as vlc

    from ...sample import cache_dir

    try:
        version = metadata.version("vl-convert-python")
    except metadata.PackageNotFoundError:
        version = "unknown"
    path = cache_dir() / f"vega-bundle-{version}.js"
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vlc.javascript_bundle().replace("</script", "<\\/script")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home: no cache, same report
        log.debug("vega bundle not cached: %s", exc)
    return bundle
