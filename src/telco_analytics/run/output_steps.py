"""The nodes that turn results into the run's outputs: findings, figures, tables, database,
tracking, report. Each writes into the (staging) run folder only through the catalog."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .catalog import DB_SELECT, INSIGHTS, MANIFEST, TRACKING_RUNS, RunCatalog
from .execution import CoreBudget, parallel_map

log = logging.getLogger(__name__)

# the narrative modules, in the order their findings are listed
NARRATIVES = (("overview", "overview_insights"), ("engagement", "engagement_insights"),
              ("experience", "experience_insights"), ("satisfaction", "satisfaction_insights"))


def findings(tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """The written findings of every section, as records."""
    import importlib

    from ..narrative.summary import executive_summary_finding

    built = []
    for module, func in NARRATIVES:
        build = getattr(importlib.import_module(f"telco_analytics.narrative.{module}"), func)
        built.extend(build(tables))
    summary = executive_summary_finding(built)  # ranks the others: built last, listed first
    return [item.as_dict() for item in ([summary] if summary else []) + built]


def save_findings(catalog: RunCatalog, findings: list[dict[str, Any]]) -> None:
    catalog.write_json(INSIGHTS, findings)


def figures(catalog: RunCatalog, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The charts the slides use rendered to figures/NAME.png; the names, sorted.

    Only those: report.html draws every chart from its Vega-Lite spec in the browser, so a PNG
    of any other chart was written for nobody (and cost ~0.15 s each, 45 of them).
    """
    from ..report.figures import PER_USER_TABLES, SLIDE_FIGURES
    from ..report.figures.engagement import engagement_figures
    from ..report.figures.experience import experience_figures
    from ..report.figures.overview import overview_figures
    from ..report.figures.satisfaction import satisfaction_figures
    from ..report.figures.tracking import tracking_figures
    from ..report.render import chart_png

    # without the per-user tables the figure functions skip the charts drawn from them (the
    # histograms and scatters, the slowest to build and to render), none of them a slide's
    slide_tables = {k: v for k, v in tables.items() if k not in PER_USER_TABLES}
    charts: dict[str, Any] = {}
    for build in (overview_figures, engagement_figures, experience_figures, satisfaction_figures,
                  tracking_figures):
        charts.update(build(slide_tables))
    wanted = [name for name in SLIDE_FIGURES if name in charts]
    # one rendering engine: vl-convert does not render faster from several threads
    for name in wanted:
        catalog.write_figure(name, chart_png(charts[name]))
    return sorted(wanted)


def exportable(df: pd.DataFrame, pseudonym_key: bytes | None) -> pd.DataFrame:
    """The table as exported: MSISDN replaced by a keyed pseudonym when a key is given."""
    if pseudonym_key is None or "msisdn" not in df.columns:
        return df
    from ..privacy import pseudonymize

    out = df.copy()
    out["msisdn"] = pseudonymize(out["msisdn"], pseudonym_key)
    return out


def write_tables(catalog: RunCatalog, tables: dict[str, pd.DataFrame],
                 pseudonym_key: bytes | None, budget: CoreBudget) -> list[str]:
    """Every published table as Parquet and CSV (Arrow's writers release the GIL: several
    tables at a time); the names written."""
    parallel_map(lambda item: catalog.write_table(item[0], exportable(item[1], pseudonym_key)),
                 list(tables.items()), budget)
    return sorted(tables)


def database_export(catalog: RunCatalog, satisfaction: pd.DataFrame, db_url: str | None,
                    pseudonym_key: bytes | None, run_id: str) -> dict[str, Any]:
    """The satisfaction table exported (atomic replace), the SELECT of its top rows saved as
    text and picture; the manifest's `database` facts."""
    from ..io import database
    from ..privacy import mask_url
    from ..report.db_select import client_prompt, final_url, format_select, render_select_png

    url = database.resolve_db_url(db_url, catalog.root)
    # filled now, swapped in with the run folder (an interrupted or failed run leaves the
    # previous table as it was); shown from the staging table under its final name
    staged = database.stage_table(exportable(satisfaction, pseudonym_key), url, "satisfaction",
                                  run_id=run_id)
    catalog.publish_with_folder(staged.commit, staged.discard)
    rows = staged.rows
    top = database.select_top(url, staged.staging, 10, shown_as="satisfaction")
    prompt = client_prompt(url)
    text = format_select(top.attrs["sql"], top, prompt)
    catalog.write_text(DB_SELECT, text)
    render_select_png(text, catalog.figure_path("db_select"))
    # the SQLite file is written in the staging folder and read where the run folder ends up
    return {"database": {"url": mask_url(final_url(url)), "table": "satisfaction", "rows": rows,
                         "client": prompt.rstrip(">")}}


def track(catalog: RunCatalog, manifest: dict[str, Any], tables: dict[str, pd.DataFrame],
          models: dict[str, Any], metrics: dict[str, float], tracking_uri: str | None,
          warmups: Any = None) -> dict[str, Any]:
    """The run logged to MLflow, the model version registered, tracking/runs.csv written; the
    manifest's `tracking` facts.

    The logging happens in the run's tracking process when there is one (MLflow already
    imported there, see run.warmup), else here.
    """
    from .. import tracking
    from ..models.regression import FEATURES

    catalog.write_json(MANIFEST, manifest)  # logged as an artifact
    uri = tracking.resolve_tracking_uri(tracking_uri)
    args = {
        "catalog": catalog, "manifest": manifest, "tables": tracking.tables_to_log(tables),
        "models": {k: models[k] for k in tracking.CLUSTER_MODELS if k in models},
        "metrics": metrics, "loss_curve": tables["regression_loss"],
        "features": list(FEATURES), "regression_model": models["satisfaction_regression"],
        "sample": tracking.feature_sample(tables, list(FEATURES)),
    }
    worker = getattr(warmups, "tracking", None)
    if worker is not None:
        result, runs_csv = worker.call(tracking.log_run_and_list, uri, **args)
    else:
        result, runs_csv = tracking.log_run_and_list(uri, **args)
    catalog.write_bytes(TRACKING_RUNS, runs_csv)
    return {"tracking": {**result, "tracking_uri": tracking.mask_uri(uri)}}


def report_draft(catalog: RunCatalog, manifest: dict[str, Any]) -> Any:
    """The run folder read as the report reads it, its interactive charts built: all of the
    report's work that does not need the tracking table, done while the tracking process
    logs the run."""
    from ..report.run_data import load_run

    catalog.write_json(MANIFEST, manifest)  # a run folder is one with a manifest
    data = load_run(catalog.root)
    data.charts()
    return data


def report(catalog: RunCatalog, manifest: dict[str, Any], report_draft: Any) -> list[str]:
    """report.html and slides.pptx, built from the run folder as `telco report` would."""
    from ..report.build import build_report

    catalog.write_json(MANIFEST, manifest)  # the report shows it
    report_draft.manifest = manifest
    report_draft.tracking_runs = catalog.read_tracking_runs()
    return sorted(str(p) for p in build_report(catalog.root, data=report_draft).values())
