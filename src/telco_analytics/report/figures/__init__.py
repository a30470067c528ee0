"""Charts declared once as Altair specs: pure functions from tables to charts.

One module per analysis section; the report, the slides and the dashboard all use them.
Shared palette and number formats live in `style`.
"""

from collections.abc import Callable, Mapping

import pandas as pd

# The figures the slide deck places (report/slides.py and report/deck/: each slide takes the
# first of its figures that exists). The run renders PNGs of these only: report.html draws every
# chart from its spec in the browser, so PNGs of the others were written for nobody.
# tests/unit/test_report_speed_paths.py checks that every figure a slide names is listed here.
SLIDE_FIGURES: tuple[str, ...] = (
    "app_correlation", "app_totals", "decile_data", "engagement_cluster_profile",
    "engagement_elbow", "engagement_scatter", "engagement_top3_apps",
    "experience_cluster_profile", "experience_scatter", "experience_tcp_per_handset",
    "experience_throughput_per_handset", "handsets_top10", "handsets_top5_per_manufacturer",
    "loss_curve", "manufacturers_top3", "pca_loadings", "pca_scree", "regression_loss",
    "regression_metrics", "regression_predictions", "satisfaction_clusters",
    "satisfaction_scatter", "satisfaction_top10",
)


def charts_for(tables: Mapping[str, pd.DataFrame],
               builders: Mapping[str, tuple[str, Callable[[pd.DataFrame], object]]]) -> dict:
    """Figure stem -> chart, for every (table name, builder) whose table is present and not
    empty (a run without some analyses still gets all its other charts)."""
    charts = {}
    for stem, (name, build) in builders.items():
        table = tables.get(name)
        if table is not None and len(table) > 0:
            charts[stem] = build(table)
    return charts
