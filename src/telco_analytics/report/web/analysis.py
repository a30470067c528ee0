"""The four analyses of the report: user overview, engagement, experience, satisfaction."""

from __future__ import annotations

import pandas as pd

from ...narrative import select
from ..formatting import format_distinct, format_table, header_label, unit_of
from .page import Page
from .tables import findings_html, table_html, text_table_html


def overview_section(page: Page) -> str:
    d = page.data
    overview = select.for_section(d.insights, "overview")
    handsets = select.for_section(d.insights, "handsets")
    pca, corr = d.table("pca"), d.table("app_correlation")
    pca_cols = ["component", "explained_variance_ratio", "cumulative_ratio"]
    loadings = {c: "number" for c in (pca.columns if pca is not None else [])}
    univariate = d.table("univariate")
    if univariate is not None:  # variances of byte counts (1e17 squared bytes) help nobody,
        # the range is max - min and the IQR Q3 - Q1, the count is every user: left out so the
        # table fits its column
        univariate = univariate.drop(columns=[c for c in ("var", "range", "iqr", "count")
                                              if c in univariate])
    deciles = d.table("decile_data_all")
    return "".join([
        findings_html(overview),
        "<h3>Handsets and manufacturers</h3>", findings_html(handsets, "Handset findings"),
        page.figures(["handsets_top10", "manufacturers_top3", "handsets_top5_per_manufacturer"]),
        table_html(d.table("handsets_top10"), "Top 10 handsets by sessions"),
        table_html(d.table("manufacturers_top3"), "Top 3 manufacturers"),
        table_html(d.table("handsets_top5_per_manufacturer"), "Top 5 handsets per manufacturer"),
        "<h3>Applications</h3>", page.figure("app_totals"),
        table_html(d.table("app_totals"), "Traffic per application (DL + UL, all users)"),
        page.figures(page.stems("app_vs_total")),
        "<h3>Per-user variables (univariate analysis)</h3>",
        table_html(univariate, "Dispersion of the per-user variables",
                   row_unit="variable", name_rows=True, note="Over every user. Skew, kurtosis and CV (standard "
                   "deviation / mean) have no unit; every other column is in the unit of its "
                   "variable."),
        page.figures(page.stems("hist_")),
        "<h3>Duration deciles</h3>", page.figure("decile_data"),
        table_html(deciles if deciles is not None else d.table("decile_data"),
                   "Users by total session duration, ten deciles (1 = longest)"),
        "<h3>Correlation between applications</h3>", page.figure("app_correlation"),
        table_html(corr, "Pearson r of per-user app volumes",
                   units={c: "number" for c in (corr.columns if corr is not None else [])}),
        "<h3>Principal components</h3>", page.figures(["pca_scree", "pca_loadings"]),
        table_html(pca[pca_cols] if pca is not None and set(pca_cols) <= set(pca.columns) else pca,
                   "Explained variance per component"),
        table_html(pca.drop(columns=[c for c in pca_cols[1:] + ["explained_variance"]
                                     if c in pca.columns]) if pca is not None else None,
                   "Loadings (standardized variables)", units=loadings),
    ])


def wide_by_rank(df: pd.DataFrame, key: str, row_unit: str, value: str = "value",
                 label: str = "msisdn") -> tuple[list[list[str]], list[str], list[list[object]]]:
    """Long 'metric, rank, id, value' rows as one column per metric ('id · value'), ranks in
    numeric order: (rows, headers, raw values for sorting)."""
    text = format_table(df, row_unit=row_unit)
    text["cell"] = text[label] + " · " + text[value] if label in text else text[value]
    text["_rank"] = pd.to_numeric(df["rank"]).to_numpy()
    wide = text.pivot(index="_rank", columns=key, values="cell").sort_index()
    order = list(dict.fromkeys(df[key]))
    wide = wide[order].fillna("")
    rows = [[f"{int(r)}", *wide.loc[r].tolist()] for r in wide.index]
    raws = [[r, *[None] * len(order)] for r in wide.index]
    return rows, ["Rank", *[header_label(c) for c in order]], raws


def engagement_section(page: Page) -> str:
    d = page.data
    clusters = d.table("engagement_clusters")
    parts = [findings_html(select.for_section(d.insights, "engagement")),
             "<h3>Engagement clusters</h3>",
             page.figures(["engagement_cluster_profile", "engagement_scatter"])]
    if clusters is not None:
        # the statistics a reader compares across clusters (the comparisons with the median
        # user are in the findings' words), each metric's mean, min, max and sum
        stats = ["users", "users_share", "traffic_share"] + [
            f"{m}_{s}" for m in ("sessions", "duration_ms", "total_bytes")
            for s in ("mean", "min", "max", "sum")]
        keep = ["cluster", *[c for c in stats if c in clusters.columns]]
        text = format_table(clusters[keep]).set_index("cluster").T
        rows = [[header_label(stat), *values] for stat, values in
                zip(text.index, text.to_numpy().tolist(), strict=True)]
        parts.append(text_table_html(rows, ["Statistic", *[f"Cluster {c}" for c in text.columns]],
                                     "Non-normalized metrics per cluster (0 = least engaged)"))
    top10 = d.table("engagement_top10")
    if top10 is not None and not top10.empty:
        rows, headers, raws = wide_by_rank(top10, "metric", "metric")
        parts += ["<h3>Top 10 users per engagement metric</h3>",
                  text_table_html(rows, headers, "MSISDN · value", raws)]
    parts += ["<h3>Choosing k: the elbow</h3>", page.figure("engagement_elbow"),
              table_html(d.table("engagement_elbow"), "Inertia (within-cluster sum of squares)")]
    chosen = d.manifest.get("engagement_chosen_k")
    k = d.manifest.get("parameters", {}).get("k_engagement")
    if chosen is not None and k is not None and chosen != k:
        parts.append(table_html(d.table("engagement_clusters_best_k"),
                                f"Clusters at the elbow's k = {chosen}"))
    apps = d.table("app_top10_users")
    parts += ["<h3>Applications: top users</h3>", page.figure("engagement_top3_apps")]
    if apps is not None and not apps.empty:
        rows, headers, raws = wide_by_rank(
            apps.rename(columns={"bytes": "value"}).assign(unit="bytes"), "app", "unit")
        parts.append(text_table_html(rows, headers,
                                     "Top 10 users per application: MSISDN · DL+UL volume", raws))
    return "".join(parts)


def values_table(metric: str, group: pd.DataFrame) -> str:
    """Top, bottom and most frequent values of one metric, rank 1 first; values that differ
    never read the same (more decimals when the usual rounding would merge them)."""
    unit = unit_of(metric)
    group = group.assign(rank=pd.to_numeric(group["rank"]))
    texts = format_distinct(list(group["value"]), [unit] * len(group))
    cells = []
    for text, kind, count in zip(texts, group["kind"], group.get("count", [None] * len(group)),
                                 strict=True):
        if kind == "frequent" and count is not None and not pd.isna(count):
            text = f"{text} ({int(count):,} users)"
        cells.append(text)
    wide = group.assign(cell=cells).pivot(index="rank", columns="kind", values="cell").sort_index()
    kinds = [k for k in ("top", "bottom", "frequent") if k in wide.columns] + \
        [k for k in wide.columns if k not in ("top", "bottom", "frequent")]
    wide = wide[kinds].fillna("")
    rows = [[f"{int(r)}", *wide.loc[r].tolist()] for r in wide.index]
    raws = [[r, *[None] * len(kinds)] for r in wide.index]
    headers = ["Rank", *[{"top": "Highest", "bottom": "Lowest",
                          "frequent": "Most frequent"}.get(k, k) for k in kinds]]
    return text_table_html(rows, headers, f"{header_label(metric)} per user", raws)


def experience_section(page: Page) -> str:
    d = page.data
    parts = [findings_html(select.for_section(d.insights, "experience"))]
    values = d.table("experience_values")
    if values is not None and not values.empty:
        parts.append("<h3>Highest, lowest and most frequent values</h3>")
        parts += [values_table(metric, group)
                  for metric, group in values.groupby("metric", sort=False)]
    n_min = d.manifest.get("parameters", {}).get("handset_min_users")
    note = f"Handsets with at least {n_min} users, most users first." if n_min else ""
    parts += ["<h3>Experience per handset</h3>",
              page.figures(["experience_throughput_per_handset", "experience_tcp_per_handset"]),
              table_html(d.table("throughput_per_handset"), "Throughput per user by handset",
                         max_rows=15, note=note,
                         units={c: "kbps" for c in ("mean", "median", "p25", "p75")}),
              table_html(d.table("tcp_per_handset"), "TCP retransmission per user by handset",
                         max_rows=15, note=note, units={c: "bytes" for c in ("mean", "median")}),
              "<h3>Experience per cell and hour</h3>",
              page.figures(["experience_per_cell", "experience_per_hour"]),
              "<h3>Experience clusters</h3>",
              page.figures(["experience_cluster_profile", "experience_scatter"])]
    clusters = d.table("experience_clusters")
    if clusters is not None:
        keep = [c for c in ("cluster", "users", "users_share", "tcp_retrans_bytes_mean",
                            "rtt_ms_mean", "throughput_kbps_mean", "description")
                if c in clusters.columns]
        parts.append(table_html(clusters[keep], "Experience clusters (0 = worst)"))
    return "".join(parts)


def satisfaction_section(page: Page) -> str:
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
                   note="R², RMSE and MAE in score units; n = users in the split."),
        ("<p><strong>Leakage.</strong> The model's inputs are the users' raw engagement and "
         "experience metrics, never their engagement or experience scores: the target is the "
         "mean of those two scores, so giving them to the model would make the fit perfect and "
         "meaningless.</p>"),
    ])
