"""The report's appendix: data dictionary, cleaning, definitions, parameters and run, model
tracking, database export."""

from __future__ import annotations

import json

from ...narrative import select
from ..db_select import client_prompt, final_url, with_prompt
from ..formatting import format_value, human_label, plain_words
from .page import Page
from .tables import esc, findings_html, table_html, text_table_html


def dictionary_section(page: Page) -> str:
    d = page.data
    return "".join([
        findings_html(select.for_section(d.insights, "data")),
        table_html(d.table("variables"), "Columns of the input, their types and use",
                   max_rows=200, units={"missing_pct": "percent"},
                   note="Missing: empty fields in the input. Kind says how a column is used "
                   "(identifiers are never imputed or used as features)."),
    ])


def cleaning_section(page: Page) -> str:
    d, m = page.data, page.data.manifest
    inp, rows = m.get("input", {}), m.get("rows", {})
    why = rows.get("why", {})
    files = [(f.get("path", ""), format_value(f.get("bytes"), "bytes"), f.get("sha256", ""))
             for f in inp.get("files", [])]
    parts = ["<h3>Input</h3>",
             (f"<p>Source: <code>{esc(inp.get('source', 'unknown'))}</code>. Duration unit: "
              f"{esc(inp.get('duration_unit', 'unknown'))}.</p>"),
             text_table_html(files, ("File", "Size", "SHA-256"), "Input files")]
    parts += [f'<p class="note">{esc(plain_words(note))}</p>' for note in inp.get("notes", [])]
    if inp.get("absent_columns"):
        parts.append(f"<p>Columns absent from the input: {esc(', '.join(inp['absent_columns']))}"
                     "</p>")
    labels = {"read": "rows read", "dropped_artifact": "dropped: artifact rows",
              "sessions": "sessions analysed", "sessions_without_msisdn":
              "sessions without MSISDN", "users": "users (distinct MSISDN)"}
    counted = [(k, v) for k, v in rows.items() if k != "why"]
    parts += ["<h3>Rows read, dropped and why</h3>",
              text_table_html([(labels.get(k, k), format_value(v, "count"),
                                plain_words(why.get(k, ""))) for k, v in counted],
                              ("Rows", "Count", "Why"),
                              raws=[(None, v, None) for _, v in counted])]
    hs = m.get("handsets")
    if hs:
        facts = [(k, v) for k, v in hs.items() if k != "rule"]
        parts += [text_table_html([(human_label(k), format_value(v, "count")) for k, v in facts],
                                  ("Unknown handsets", "Sessions"),
                                  raws=[(None, v) for _, v in facts]),
                  f'<p class="note">{esc(plain_words(hs.get("rule", "")))}</p>']
    rule = plain_words(m.get("definitions", {}).get("cleaning", ""))
    parts += ["<h3>Missing values and outliers treated</h3>",
              f"<p>{esc(rule)}</p>" if rule else "",
              table_html(d.table("cleaning_report"), max_rows=200, row_unit="column",
                         note="Fences and replacement in the unit of each column; replaced = "
                         "missing + outliers set to the replacement value.")]
    return "".join(parts)


def definitions_section(page: Page) -> str:
    defs = "".join(f"<dt>{esc(human_label(k))}</dt><dd>{esc(plain_words(str(v)))}</dd>"
                   for k, v in page.data.manifest.get("definitions", {}).items())
    return f'<dl class="defs">{defs}</dl>'


def parameters_section(page: Page) -> str:
    m = page.data.manifest
    params = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v)
              for k, v in m.get("parameters", {}).items()]
    steps = list(m.get("seconds_per_step", {}).items())
    code = m.get("code", {})
    seconds = m.get("seconds")
    run_facts = [("run id", m.get("run_id", "")), ("started", m.get("started_at", "")),
                 ("ended", m.get("ended_at", "")),
                 ("wall time", format_value(seconds, "seconds") if seconds is not None else ""),
                 ("code version", code.get("version", "")), ("git commit", code.get("commit", "")),
                 ("uncommitted changes", format_value(code.get("dirty"), "flag")
                  if code.get("dirty") is not None else "")]
    parts = [text_table_html(params, ("Parameter", "Value"), "Parameters"),
             text_table_html(run_facts, ("Fact", "Value"), "The run"),
             text_table_html([(k, f"{v:,.2f} s") for k, v in steps], ("Step", "Time"),
                             "Time per step", raws=[(None, v) for _, v in steps]),
             text_table_html(list(m.get("libraries", {}).items()), ("Library", "Version"),
                             "Libraries")]
    return "".join(parts)


def tracking_section(page: Page) -> str:
    d = page.data
    parts = [findings_html(select.for_section(d.insights, "tracking"))]
    runs = d.tracking_runs
    if runs is not None and not runs.empty:
        # the model's test quality beside the baseline's, named so that the two are never
        # mistaken for each other; the first metric name present wins (older runs differ)
        wanted = [("model R² (test)", ("metrics.satisfaction_regression_test_r2",
                                       "metrics.test_r2")),
                  ("model RMSE (test)", ("metrics.satisfaction_regression_test_rmse",
                                         "metrics.test_rmse")),
                  ("baseline RMSE (test)", ("metrics.satisfaction_baseline_test_rmse",
                                            "metrics.baseline_test_rmse"))]
        keep = [c for c in ("run_id", "start", "duration_s") if c in runs.columns]
        labels = {"run_id": "Run", "start": "Started", "duration_s": "Duration"}
        for label, names in wanted:
            name = next((n for n in names if n in runs.columns), None)
            if name is not None:
                keep.append(name)
                labels[name] = label
        shown = runs[keep].copy()
        if "run_id" in shown:
            shown["run_id"] = shown["run_id"].astype(str).str[:10]
        if "start" in shown:
            shown["start"] = shown["start"].astype(str).str[:19].str.replace("T", " ")
        parts.append(table_html(shown.tail(20), "Tracked runs (tracking/runs.csv, oldest first)",
                                units={"duration_s": "seconds"}, labels=labels))
    else:
        parts.append('<p class="note">No tracking table in this run folder (tracking/runs.csv '
                     "is written when the run is tracked with MLflow).</p>")
    loss = page.figure("loss_curve", "Training and validation loss per boosting iteration")
    parts.append(loss or page.figure("regression_loss"))
    page.placed.add("regression_loss")  # the same curve: not repeated under "Other figures"
    return "".join(parts)


def database_section(page: Page) -> str:
    d = page.data
    db = dict(d.manifest.get("database", {}))
    if not db and not d.db_select:
        return '<p class="note">No database export in this run folder.</p>'
    url = final_url(str(db.get("url", ""))) if db.get("url") else ""
    prompt = client_prompt(url) if url else None
    labels = {"url": "database", "table": "table", "rows": "rows written"}
    facts = [(labels.get(k, human_label(k)),
              format_value(v, "count") if k == "rows" else (url if k == "url" else v))
             for k, v in db.items() if k != "client"]
    if prompt:
        facts.append(("client", "SQLite (sqlite3)" if prompt == "sqlite>" else
                      "MySQL / MariaDB (mysql)"))
    parts = [text_table_html(facts, ("Export", "Value"))] if facts else []
    if d.db_select:
        text = with_prompt(d.db_select, prompt) if prompt else d.db_select
        parts += ["<p>The query run against the database after the export, and its answer:</p>",
                  f"<pre>{esc(text)}</pre>"]
    # the picture repeats the text above: shown only when there is no text (older runs)
    if not d.db_select:
        parts.append(page.figure("db_select", "The SELECT, as run against the database"))
    page.placed.add("db_select")
    return "".join(parts)


def other_figures(page: Page) -> str:
    rest = [s for s in sorted(set(page.data.figures) | set(page.charts)) if s not in page.placed]
    return ("<h3>Other figures</h3>" + page.figures(rest)) if rest else ""
