"""Charts declared once as Altair specs: pure functions from tables to charts.

One module per analysis section; the report, the slides and the dashboard all use them.
Shared palette and number formats live in `style`.
"""

from collections.abc import Callable, Mapping

import pandas as pd

# The figures the slide deck places (report/slides.py, report/deck/): a slide takes the first of
# its figures the run rendered, so the first of each slide's list is the one it shows. The run
# renders PNGs of these only: report.html draws every chart from its spec in the browser, and a
# PNG of any other chart was written for nobody. tests/unit/test_report_figure_outputs.py checks
# that the first figure every slide names is listed here.
SLIDE_FIGURES: tuple[str, ...] = (
    "app_correlation", "app_totals", "decile_data", "engagement_cluster_profile",
    "engagement_elbow", "experience_cluster_profile", "experience_throughput_per_handset",
    "handsets_top10", "handsets_top5_per_manufacturer", "loss_curve", "pca_scree",
    "regression_metrics", "satisfaction_clusters", "satisfaction_top10",
)
# per-user tables: only the histograms and scatters draw them, and no slide shows those
PER_USER_TABLES = frozenset({"user_overview", "engagement_users", "experience_users",
                             "satisfaction"})


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
