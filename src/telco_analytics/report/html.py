"""The self-contained HTML report of a run: sections, charts, formatted tables and findings.

Self-contained means it opens offline: the Vega, Vega-Lite and vega-embed scripts are inlined
once (vl_convert's bundle), each chart is its Vega-Lite spec in a JSON script tag, images are
base64 data URIs, the style sheet is inline. Nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import os
from collections.abc import Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..narrative import select
from ..narrative.records import Finding
from .figures.style import PALETTE, PRIMARY
from .formatting import format_table, format_value, human_label

if TYPE_CHECKING:
    from .run_data import RunData

log = logging.getLogger(__name__)

SECTIONS = [
    ("data", "Data and quality"),
    ("overview", "User overview"),
    ("engagement", "User engagement"),
    ("experience", "User experience"),
    ("satisfaction", "User satisfaction"),
    ("tracking", "Model tracking"),
    ("database", "Database export"),
    ("methodology", "Appendix: methodology"),
]
MAX_TABLE_ROWS = 60  # longer tables are cut (the full table is in tables/NAME.csv)

CSS = f"""
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #222; line-height: 1.45; }}
header {{ background: {PRIMARY}; color: white; padding: 1.5em 2em; }}
header h1 {{ margin: 0 0 .3em 0; }} header p {{ margin: .2em 0; opacity: .9; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 1em 2em 4em; }}
nav.toc {{ background: #f4f6fa; border-left: 4px solid {PRIMARY}; padding: .5em 1.5em; }}
nav.toc ol {{ margin: .3em 0; }}
h2 {{ border-bottom: 2px solid {PRIMARY}; padding-bottom: .2em; margin-top: 2.5em; }}
h3 {{ color: {PRIMARY}; margin-top: 1.8em; }}
table {{ border-collapse: collapse; margin: .8em 0; font-size: .88em; }}
th, td {{ border: 1px solid #d8dde6; padding: .25em .6em; vertical-align: top; }}
th {{ background: #eef1f6; text-align: left; }}
td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
tr:nth-child(even) td {{ background: #fafbfc; }}
caption {{ caption-side: top; text-align: left; font-weight: 600; padding: .3em 0; }}
.table-wrap {{ overflow-x: auto; }}
.findings {{ background: #fff8ec; border-left: 4px solid {PALETTE[1]}; padding: .6em 1.2em; }}
.findings li {{ margin: .35em 0; }}
.findings .action {{ font-weight: 600; }}
.note {{ color: #555; font-size: .92em; }}
figure {{ margin: 1.2em 0; overflow-x: auto; }}
figure img {{ max-width: 100%; height: auto; }}
figcaption {{ color: #555; font-size: .9em; }}
pre {{ background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .8em; }}
dl.defs dt {{ font-weight: 600; margin-top: .6em; }} dl.defs dd {{ margin-left: 1.5em; }}
"""

LOADER_JS = """
(function () {
  var options = {actions: false, renderer: "canvas"};
  function render(el) {
    if (el.getAttribute("data-done")) return;
    el.setAttribute("data-done", "1");
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
    vegaEmbed(el, spec, options).catch(function (e) { el.textContent = "chart failed: " + e; });
  }
  var charts = document.querySelectorAll("div.chart[data-spec]");
  // render a chart when it comes near the screen: fifty charts at once would stall the page
  if ("IntersectionObserver" in window) {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); render(e.target); } });
    }, {rootMargin: "600px"});
    charts.forEach(function (el) { io.observe(el); });
  } else { charts.forEach(render); }
})();
"""


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega + Vega-Lite + vega-embed as one script, cached on disk per vl-convert version.

    Bundling takes 1-2 s; the cache makes every report after the first one cheaper.
    """
    import vl_convert as vlc

    from ..sample import cache_dir

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


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no '</' can close it early)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def table_html(df: pd.DataFrame | None, caption: str = "", *, max_rows: int = MAX_TABLE_ROWS,
               note: str = "", **fmt: Any) -> str:
    """A formatted HTML table (numbers with units, right-aligned); '' when there is no table."""
    if df is None or df.empty:
        return ""
    shown = df.head(max_rows)
    text = format_table(shown, **fmt)
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
               for c in shown.columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in text.columns)
    rows = []
    for values in text.itertuples(index=False):
        cells = "".join(f'<td class="num">{esc(v)}</td>' if num else f"<td>{esc(v)}</td>"
                        for v, num in zip(values, numeric, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    cut = len(df) - len(shown)
    extra = f" First {len(shown)} of {len(df):,} rows." if cut > 0 else ""
    notes = f'<p class="note">{esc(note)}{esc(extra)}</p>' if (note or extra) else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{notes}')


def text_table_html(rows: Iterable[tuple[Any, ...]], headers: tuple[str, ...],
                    caption: str = "") -> str:
    """A table of already formatted cells."""
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _finding_item(item: Finding) -> str:
    """One finding as a list item: its sentence, then the action it recommends (if any)."""
    action = f' <span class="action">{esc(item.action)}</span>' if item.action else ""
    return f"<li>{esc(item.text)}{action}</li>"


def findings_html(items: list[Finding], title: str = "Findings") -> str:
    """A box listing findings (nothing when there are none)."""
    if not items:
        return ""
    lis = "".join(_finding_item(i) for i in items)
    return f'<div class="findings"><strong>{esc(title)}</strong><ul>{lis}</ul></div>'


class Page:
    """Collects the figures placed so far (each at most once) and their specs."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self.charts = data.charts()
        self.placed: set[str] = set()

    def figure(self, stem: str, caption: str = "") -> str:
        """An interactive chart when it can be rebuilt, else the saved PNG, else ''."""
        if stem in self.placed:
            return ""
        chart = self.charts.get(stem)
        body = ""
        if chart is not None:
            try:
                spec = chart.to_dict()
                body = (f'<div class="chart" id="fig-{esc(stem)}" data-spec="spec-{esc(stem)}">'
                        f'</div><script type="application/json" id="spec-{esc(stem)}">'
                        f"{_script_json(spec)}</script>")
            except Exception as exc:  # noqa: BLE001 - fall back to the PNG
                log.warning("chart %s has no valid spec (%s): PNG used", stem, exc)
        if not body and stem in self.data.figures:
            encoded = base64.b64encode(self.data.figures[stem].read_bytes()).decode("ascii")
            body = f'<img alt="{esc(caption or stem)}" src="data:image/png;base64,{encoded}">'
        if not body:
            return ""
        self.placed.add(stem)
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        return f"<figure>{body}{cap}</figure>"

    def figures(self, stems: Iterable[str]) -> str:
        return "".join(self.figure(s) for s in stems)


# ---------------------------------------------------------------- sections


def _data_section(page: Page) -> str:
    d, m = page.data, page.data.manifest
    inp, rows = m.get("input", {}), m.get("rows", {})
    why = rows.get("why", {})
    files = [(f.get("path", ""), format_value(f.get("bytes"), "bytes"), f.get("sha256", ""))
             for f in inp.get("files", [])]
    parts = [findings_html(select.for_section(d.insights, "data")),
             "<h3>Input</h3>",
             (f"<p>Source: <code>{esc(inp.get('source', 'unknown'))}</code>. Duration unit: "
             f"{esc(inp.get('duration_unit', 'unknown'))}.</p>"),
             text_table_html(files, ("file", "size", "sha256"), "Input files")]
    for note in inp.get("notes", []):
        parts.append(f'<p class="note">{esc(note)}</p>')
    if inp.get("absent_columns"):
        parts.append(f"<p>Columns absent from the input: {esc(', '.join(inp['absent_columns']))}"
                     "</p>")
    labels = {"read": "rows read", "dropped_artifact": "dropped: artifact rows",
              "sessions": "sessions analysed", "sessions_without_msisdn":
              "sessions without MSISDN", "users": "users (distinct MSISDN)"}
    counts = [(labels.get(k, k), format_value(v, "count"), why.get(k, ""))
              for k, v in rows.items() if k != "why"]
    parts += ["<h3>Rows read, dropped and why</h3>",
              text_table_html(counts, ("rows", "count", "why"))]
    hs = m.get("handsets")
    if hs:
        facts = [(human_label(k), format_value(v, "count")) for k, v in hs.items() if k != "rule"]
        parts += [text_table_html(facts, ("unknown handsets", "sessions")),
                  f'<p class="note">{esc(hs.get("rule", ""))}</p>']
    parts += ["<h3>Variables and types</h3>",
              table_html(d.table("variables"), max_rows=200,
                         units={"missing_pct": "percent"},
                         note="missing: empty fields in the input; kind says how a column is "
                         "used (ids are never imputed or used as features).")]
    rule = m.get("definitions", {}).get("cleaning", "")
    parts += ["<h3>Missing values and outliers treated</h3>",
              f"<p>{esc(rule)}</p>" if rule else "",
              table_html(d.table("cleaning_report"), max_rows=200, row_unit="column",
                         note="Fences and replacement in the unit of each column; replaced = "
                         "missing + outliers set to the replacement value.")]
    return "".join(parts)


def _overview_section(page: Page) -> str:
    d = page.data
    overview = select.for_section(d.insights, "overview")
    handsets = select.for_section(d.insights, "handsets")
    hist = [s for s in sorted(d.figures) if s.startswith("hist_")] or \
        [s for s in page.charts if s.startswith("hist_")]
    vs_total = [s for s in sorted(set(d.figures) | set(page.charts)) if s.startswith("app_vs_total")]
    pca, corr = d.table("pca"), d.table("app_correlation")
    pca_cols = ["component", "explained_variance_ratio", "cumulative_ratio"]
    loadings = {c: "number" for c in (pca.columns if pca is not None else [])}
    return "".join([
        findings_html(overview),
        "<h3>Handsets and manufacturers</h3>", findings_html(handsets, "Handset findings"),
        page.figures(["handsets_top10", "manufacturers_top3", "handsets_top5_per_manufacturer"]),
        table_html(d.table("handsets_top10"), "Top 10 handsets by sessions"),
        table_html(d.table("manufacturers_top3"), "Top 3 manufacturers"),
        table_html(d.table("handsets_top5_per_manufacturer"), "Top 5 handsets per manufacturer"),
        "<h3>Applications</h3>", page.figure("app_totals"),
        table_html(d.table("app_totals"), "Traffic per application (DL + UL, all users)"),
        page.figures(vs_total),
        "<h3>Per-user variables (univariate analysis)</h3>",
        table_html(d.table("univariate"), "Dispersion of the per-user variables",
                   row_unit="variable", note="var is in squared units; skew, kurtosis and cv "
                   "(std / mean) have no unit."),
        page.figures(hist),
        "<h3>Duration deciles</h3>", page.figure("decile_data"),
        table_html(d.table("decile_data_all") if d.table("decile_data_all") is not None
                   else d.table("decile_data"), "Users by total session duration, ten deciles"),
        "<h3>Correlation between applications</h3>", page.figure("app_correlation"),
        table_html(corr, "Pearson r of per-user app volumes",
                   units={c: "number" for c in (corr.columns if corr is not None else [])}),
        "<h3>Principal components</h3>", page.figures(["pca_scree", "pca_loadings"]),
        table_html(pca[pca_cols] if pca is not None and set(pca_cols) <= set(pca.columns) else pca,
                   "Explained variance per component"),
        table_html(pca, "Loadings (standardized variables)", units=loadings),
    ])


def _wide(df: pd.DataFrame, key: str, row_unit: str, value: str = "value",
          label: str = "msisdn") -> pd.DataFrame:
    """Long 'metric, rank, id, value' rows as one column per metric: 'id · value'."""
    text = format_table(df, row_unit=row_unit)
    text["cell"] = text[label] + " · " + text[value] if label in text else text[value]
    text["_rank"] = df["rank"].to_numpy()
    wide = text.pivot(index="_rank", columns=key, values="cell")
    order = list(dict.fromkeys(df[key]))
    wide = wide[order].reset_index().rename(columns={"_rank": "rank"})
    return wide.astype(str)


def _engagement_section(page: Page) -> str:
    d = page.data
    clusters = d.table("engagement_clusters")
    parts = [findings_html(select.for_section(d.insights, "engagement")),
             "<h3>Engagement clusters</h3>",
             page.figures(["engagement_cluster_profile", "engagement_scatter"])]
    if clusters is not None:
        text = format_table(clusters).set_index("cluster").T.reset_index()
        text.columns = ["statistic"] + [f"cluster {c}" for c in text.columns[1:]]
        parts.append(text_table_html(text.itertuples(index=False), tuple(text.columns),
                                     "Non-normalized metrics per cluster (0 = least engaged)"))
    top10 = d.table("engagement_top10")
    if top10 is not None and not top10.empty:
        wide = _wide(top10, "metric", "metric")
        parts += ["<h3>Top 10 users per engagement metric</h3>",
                  text_table_html(wide.itertuples(index=False), tuple(wide.columns),
                                  "MSISDN · value")]
    parts += ["<h3>Choosing k: the elbow</h3>", page.figure("engagement_elbow"),
              table_html(d.table("engagement_elbow"), "Inertia (within-cluster sum of squares)")]
    chosen = d.manifest.get("engagement_chosen_k")
    k = d.manifest.get("parameters", {}).get("k_engagement")
    if chosen is not None and k is not None and chosen != k:
        best = d.table("engagement_clusters_best_k")
        parts.append(table_html(best, f"Clusters at the elbow's k = {chosen}"))
    apps = d.table("app_top10_users")
    parts += ["<h3>Applications: top users</h3>", page.figure("engagement_top3_apps")]
    if apps is not None and not apps.empty:
        wide = _wide(apps.rename(columns={"bytes": "value"}).assign(unit="bytes"), "app", "unit")
        parts.append(text_table_html(wide.itertuples(index=False), tuple(wide.columns),
                                     "Top 10 users per application: MSISDN · DL+UL volume"))
    return "".join(parts)


def _experience_section(page: Page) -> str:
    d = page.data
    parts = [findings_html(select.for_section(d.insights, "experience"))]
    values = d.table("experience_values")
    if values is not None and not values.empty:
        parts.append("<h3>Top, bottom and most frequent values</h3>")
        for metric, group in values.groupby("metric", sort=False):
            text = format_table(group, row_unit="metric")
            text["cell"] = text["value"].where(group["kind"].to_numpy() != "frequent",
                                               text["value"] + " (" + text["count"] + " users)")
            wide = text.pivot(index="rank", columns="kind", values="cell").reset_index()
            parts.append(text_table_html(wide.astype(str).itertuples(index=False),
                                         tuple(wide.columns), f"{metric} per user"))
    n_min = d.manifest.get("parameters", {}).get("handset_min_users")
    note = f"Handsets with at least {n_min} users, most users first." if n_min else ""
    parts += ["<h3>Experience per handset</h3>",
              page.figures(["experience_throughput_per_handset", "experience_tcp_per_handset"]),
              table_html(d.table("throughput_per_handset"), "Throughput per user by handset",
                         max_rows=15, note=note,
                         units={c: "kbps" for c in ("mean", "median", "p25", "p75")}),
              table_html(d.table("tcp_per_handset"), "TCP retransmission per user by handset",
                         max_rows=15, note=note, units={c: "bytes" for c in ("mean", "median")}),
              "<h3>Experience clusters</h3>",
              page.figures(["experience_cluster_profile", "experience_scatter"])]
    clusters = d.table("experience_clusters")
    if clusters is not None:
        keep = [c for c in ("cluster", "users", "users_share", "tcp_retrans_bytes_mean",
                            "rtt_ms_mean", "throughput_kbps_mean", "description")
                if c in clusters.columns]
        parts.append(table_html(clusters[keep], "Experience clusters (0 = worst)"))
    return "".join(parts)


def _satisfaction_section(page: Page) -> str:
    d = page.data
    return "".join([
        findings_html(select.for_section(d.insights, "satisfaction")),
        "<h3>Most satisfied users</h3>", page.figure("satisfaction_top10"),
        table_html(d.table("satisfaction_top10"), "Top 10 satisfaction scores"),
        "<h3>Satisfaction clusters</h3>",
        page.figures(["satisfaction_clusters", "satisfaction_scatter"]),
        table_html(d.table("satisfaction_clusters"), "Mean scores per cluster (1 = more satisfied)"),
        "<h3>Regression: predicting satisfaction</h3>",
        page.figures(["regression_metrics", "regression_predictions"]),
        table_html(d.table("regression_metrics"), "Model quality against the mean baseline",
                   note="r2, rmse and mae in score units; n = users in the split."),
        ("<p><strong>Leakage.</strong> The model's inputs are the users' raw engagement and "
        "experience metrics, never engagement_score or experience_score: the target is their "
        "mean, so giving them to the model would make the fit perfect and meaningless.</p>"),
    ])


def _tracking_section(page: Page) -> str:
    d = page.data
    parts = [findings_html(select.for_section(d.insights, "tracking"))]
    runs = d.tracking_runs
    if runs is not None and not runs.empty:
        keep = [c for c in runs.columns if c in ("run_id", "run_name", "status", "commit",
                                                 "start", "duration_s")
                or (c.startswith("metrics.") and ("test" in c or "r2" in c))]
        shown = runs[keep].copy()
        for c in ("run_id", "commit"):
            if c in shown:
                shown[c] = shown[c].astype(str).str[:10]
        parts.append(table_html(shown.tail(20), "Tracked runs (tracking/runs.csv, oldest first)",
                                units={"duration_s": "seconds"}))
    else:
        parts.append('<p class="note">No tracking table in this run folder (tracking/runs.csv '
                     "is written when the run is tracked with MLflow).</p>")
    loss = page.figure("loss_curve", "Training and validation loss per boosting iteration")
    parts.append(loss or page.figure("regression_loss"))
    page.placed.add("regression_loss")  # the same curve: not repeated under "Other figures"
    return "".join(parts)


def _database_section(page: Page) -> str:
    d = page.data
    db = d.manifest.get("database", {})
    facts = [(human_label(k), format_value(v, "count") if k == "rows" else v)
             for k, v in db.items()]
    parts = [text_table_html(facts, ("export", "value"))] if facts else []
    if d.db_select:
        parts.append(f"<pre>{esc(d.db_select)}</pre>")
    parts.append(page.figure("db_select", "The SELECT above, as run against the database"))
    if len(parts) == 1 and not facts:
        parts.append('<p class="note">No database export in this run folder.</p>')
    return "".join(parts)


def _methodology_section(page: Page) -> str:
    m = page.data.manifest
    defs = "".join(f"<dt>{esc(human_label(k))}</dt><dd>{esc(v)}</dd>"
                   for k, v in m.get("definitions", {}).items())
    params = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v)
              for k, v in m.get("parameters", {}).items()]
    steps = [(k, f"{v:.2f} s") for k, v in m.get("seconds_per_step", {}).items()]
    code = m.get("code", {})
    libs = list(m.get("libraries", {}).items())
    parts = ["<h3>Definitions</h3>", f'<dl class="defs">{defs}</dl>',
             "<h3>Parameters</h3>", text_table_html(params, ("parameter", "value")),
             "<h3>Run</h3>",
             text_table_html([("run id", m.get("run_id", "")), ("started", m.get("started_at", "")),
                              ("ended", m.get("ended_at", "")), ("seconds", m.get("seconds", "")),
                              ("code version", code.get("version", "")),
                              ("git commit", code.get("commit", "")),
                              ("uncommitted changes", code.get("dirty", ""))], ("fact", "value")),
             text_table_html(steps, ("step", "time")),
             text_table_html(libs, ("library", "version"))]
    rest = [s for s in sorted(set(page.data.figures) | set(page.charts)) if s not in page.placed]
    if rest:
        parts += ["<h3>Other figures</h3>", page.figures(rest)]
    return "".join(parts)


BUILDERS = {"data": _data_section, "overview": _overview_section,
            "engagement": _engagement_section, "experience": _experience_section,
            "satisfaction": _satisfaction_section, "tracking": _tracking_section,
            "database": _database_section, "methodology": _methodology_section}


def _header(data: RunData) -> str:
    m = data.manifest
    rows = m.get("rows", {})
    source = m.get("input", {}).get("source", "")
    facts = (f"{format_value(rows.get('sessions'), 'count')} sessions, "
             f"{format_value(rows.get('users'), 'count')} users")
    return (f"<header><h1>TellCo user analytics</h1><p>{esc(facts)} from "
            f"<code>{esc(source)}</code></p><p>Run {esc(m.get('run_id', ''))}, "
            f"{esc(m.get('started_at', '')[:19].replace('T', ' '))} UTC</p></header>")


def report_html(data: RunData) -> str:
    """The whole report as one HTML document (charts interactive, works offline)."""
    page = Page(data)
    toc = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title in SECTIONS)
    body = [findings_html(select.key_findings(data.insights), "Executive summary"),
            f'<nav class="toc" id="toc"><strong>Contents</strong><ol>{toc}</ol></nav>']
    for key, title in SECTIONS:
        body.append(f'<section id="{key}"><h2>{esc(title)}</h2>{BUILDERS[key](page)}</section>')
    scripts = ""
    if any('class="chart"' in part for part in body):
        scripts = f"<script>{vega_bundle()}</script><script>{LOADER_JS}</script>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>TellCo user analytics - run {esc(data.manifest.get('run_id', ''))}</title>"
            f"<style>{CSS}</style></head><body>{_header(data)}<main>{''.join(body)}</main>"
            f"{scripts}</body></html>\n")

