"""The numbers the deck shows, read from the run's saved tables (never recomputed, never from
the wording of a finding): key numbers, the model's test metrics, tracked runs, the data and
cleaning summary, the tables behind finding slides, and the recommendations.

Each function returns None (or an empty table) when its table is absent: the slide then says so
instead of showing another number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...formats import share_text
from ...narrative import select
from ...narrative.records import Finding
from ..formatting import format_value, human_label

if TYPE_CHECKING:
    from ..run_data import RunData

BASELINE = "baseline_mean"
TEAMS = {"marketing": "Marketing", "network": "Network team", "executive": "Leadership",
         "product": "Product and analytics"}


def metric_text(value: Any) -> str:
    """A model metric as shown everywhere in the deck: three significant digits."""
    return "" if value is None or pd.isna(value) else f"{float(value):.3g}"


NBSP = "\u00a0"  # between a number and its unit: a table cell never wraps "76.4 / ms"


def kbps_text(value: Any) -> str:
    return f"{float(value):,.0f}{NBSP}kbps"


def model_metrics(data: RunData, split: str = "test") -> dict[str, Any] | None:
    """The fitted model's metrics on a split (never the baseline's), from regression_metrics."""
    metrics = data.table("regression_metrics")
    if metrics is None or metrics.empty or "split" not in metrics:
        return None
    rows = metrics[(metrics["split"] == split) & (metrics["model"] != BASELINE)]
    return None if rows.empty else rows.iloc[0].to_dict()


def baseline_metrics(data: RunData, split: str = "test") -> dict[str, Any] | None:
    metrics = data.table("regression_metrics")
    if metrics is None or metrics.empty or "split" not in metrics:
        return None
    rows = metrics[(metrics["split"] == split) & (metrics["model"] == BASELINE)]
    return None if rows.empty else rows.iloc[0].to_dict()


def traffic_bytes(data: RunData) -> float | None:
    """Total traffic (Total DL + Total UL over all sessions), from traffic_totals."""
    totals = data.table("traffic_totals")
    if totals is None or totals.empty:
        return None
    if {"measure", "bytes"} <= set(totals.columns):
        row = totals[totals["measure"] == "total_bytes"]
        return float(row["bytes"].iloc[0]) if len(row) else None
    return None


def key_numbers(data: RunData) -> list[tuple[str, str]]:
    """(number, label) pairs for the title slide, each read from the manifest or a table."""
    rows = data.manifest.get("rows", {})
    out = []
    if rows.get("users") is not None:
        out.append((format_value(rows["users"], "count"), "users analysed"))
    if rows.get("sessions") is not None:
        out.append((format_value(rows["sessions"], "count"), "sessions (xDR records)"))
    traffic = traffic_bytes(data)
    if traffic is not None:
        out.append((format_value(traffic, "bytes"), "traffic (download + upload)"))
    model = model_metrics(data)
    if model is not None:
        out.append((metric_text(model["r2"]), "satisfaction model R² on held-out users"))
    return out


# ---------------------------------------------------------------- tables behind finding slides


def slowest_handsets(data: RunData, finding: Finding | None, n: int = 6) -> pd.DataFrame | None:
    """The handsets with the lowest recorded throughput (experience_per_handset, by throughput),
    the fastest one the finding names, and the network-wide mean as the last row."""
    table = data.table("experience_per_handset")
    if table is None or table.empty or "throughput_kbps" not in table:
        return None
    # the finding's order: rank 1 is the handset with the lowest recorded throughput, judged
    # by its confidence interval (a handset with few sessions does not outrank a sure one)
    ranked = table.dropna(subset=["throughput_kbps", "rank"]).sort_values("rank")
    rows = ranked.head(n)
    highest = (finding.numbers.get("highest") if finding is not None else None)
    if highest is not None and highest not in set(rows["handset"]):
        rows = pd.concat([rows, ranked[ranked["handset"] == highest]])
    out = pd.DataFrame({
        "Handset": rows["handset"].astype(str),
        "Users": [format_value(v, "count") for v in rows["users"]],
        "Mean throughput": [kbps_text(v) for v in rows["throughput_kbps"]],
    })
    return out.reset_index(drop=True)


def worst_cells(data: RunData, n: int = 8) -> pd.DataFrame | None:
    """The cells with the worst recorded experience (experience_per_cell, by rank)."""
    table = data.table("experience_per_cell")
    if table is None or table.empty or "rank" not in table:
        return None
    rows = table.sort_values("rank").head(n)
    out = pd.DataFrame({
        "Cell": rows["cell"].astype(str),
        "Sessions": [format_value(v, "count") for v in rows["sessions"]],
        "RTT": [f"{v:.1f}{NBSP}ms" for v in rows["rtt_ms"]],
        "Throughput": [kbps_text(v) for v in rows["throughput_kbps"]],
        "Stands out": ["yes" if bool(v) else "no" for v in rows.get(
            "stands_out", pd.Series([False] * len(rows)))],
    })
    return out.reset_index(drop=True)


def model_table(data: RunData) -> pd.DataFrame | None:
    """The test metrics of the model and of the baseline, as regression_metrics holds them."""
    rows = [m for m in (model_metrics(data), baseline_metrics(data)) if m is not None]
    if not rows:
        return None
    return pd.DataFrame({
        "Model": [("baseline (always the mean)" if r["model"] == BASELINE
                   else str(r["model"]).replace("_", " ")) for r in rows],
        "R² test": [metric_text(r["r2"]) for r in rows],
        "RMSE test": [metric_text(r["rmse"]) for r in rows],
    })


def _metric_column(columns: Sequence[str], name: str) -> str | None:
    """The tracked column of the satisfaction model's metric `name` (e.g. test_r2), never the
    baseline's: exact names first, then the regression's prefixed one."""
    for candidate in (f"metrics.{name}", f"metrics.satisfaction_regression_{name}"):
        if candidate in columns:
            return candidate
    return None


def tracking_table(data: RunData, n: int = 4) -> pd.DataFrame | None:
    """The most recent tracked runs with the model's test R² and RMSE, this run last."""
    runs = data.tracking_runs
    if runs is None or runs.empty:
        return None
    r2, rmse = _metric_column(runs.columns, "test_r2"), _metric_column(runs.columns, "test_rmse")
    if r2 is None or rmse is None:
        return None
    recent = runs.tail(n)
    start = (recent["start"].astype(str).str[:16].str.replace("T", " ")
             if "start" in recent else pd.Series([""] * len(recent)))
    return pd.DataFrame({"Run start (UTC)": start.tolist(),
                         "R² test": [metric_text(v) for v in recent[r2]],
                         "RMSE test": [metric_text(v) for v in recent[rmse]]})


def variables_summary(data: RunData) -> pd.DataFrame | None:
    """Columns of the input by kind: how many, their types, the first examples."""
    v = data.table("variables")
    if v is None or v.empty:
        return None
    rows = []
    names_col = "name" if "name" in v else "column"
    for kind, group in v.groupby("kind", sort=False):
        names = group[names_col].astype(str).tolist()
        example = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
        dtypes = "/".join(dict.fromkeys(group["dtype"].astype(str))) if "dtype" in group else ""
        rows.append((str(kind), str(len(group)), dtypes, example))
    return pd.DataFrame(rows, columns=["Kind", "Columns", "Type", "Examples"])


def data_bullets(data: RunData) -> list[str]:
    r = data.manifest.get("rows", {})
    out = []
    if r:
        dropped = int(r.get("dropped_artifact") or 0)
        what = ("no artifact row was dropped" if dropped == 0 else
                "1 artifact row (a line of column means, not a session) was dropped" if dropped == 1 else
                f"{format_value(dropped, 'count')} artifact rows (not sessions) were dropped")
        out.append(f"The input has {format_value(r.get('read'), 'count')} rows; {what}.")
        out.append(f"{format_value(r.get('sessions_without_msisdn'), 'count')} sessions have no "
                   "MSISDN: they count for handsets and stay out of per-user tables.")
    return out


def cleaning_table(data: RunData, n: int = 8) -> pd.DataFrame | None:
    """The measurement columns with the most values replaced by cleaning."""
    cleaning = data.table("cleaning_report")
    if cleaning is None or cleaning.empty or "replaced" not in cleaning:
        return None
    rows = cleaning.sort_values("replaced", ascending=False).head(n)
    return pd.DataFrame({"Column": rows["column"].astype(str),
                         "Missing": [format_value(v, "count") for v in rows["missing"]],
                         "Outliers": [format_value(v, "count") for v in rows["outliers"]],
                         "Replaced": [format_value(v, "count") for v in rows["replaced"]]})


def cleaning_bullets(data: RunData) -> list[str]:
    cleaning = data.table("cleaning_report")
    if cleaning is None or cleaning.empty or "replaced" not in cleaning:
        return []
    touched = int((cleaning["replaced"] > 0).sum())
    return [(f"Cleaning replaced missing or outlying values in {touched} of {len(cleaning)} "
            "measurement columns, with the column's mean inside the IQR fences."),
            ("Replaced values are counted per column; the columns with the most replacements "
            "are listed.")]


def parameters_table(data: RunData) -> pd.DataFrame:
    params = data.manifest.get("parameters", {})
    rows = [(k, str(v)) for k, v in params.items() if v not in ({}, [], None)]
    return pd.DataFrame(rows, columns=["Parameter", "Value"])


def definitions_table(data: RunData) -> pd.DataFrame:
    defs = data.manifest.get("definitions", {})
    return pd.DataFrame([(human_label(k), str(v)) for k, v in defs.items()],
                        columns=["Term", "Definition"])


# ---------------------------------------------------------------- recommendations


def _scale(item: Finding) -> str:
    """How many users (or sessions) a recommendation concerns, from the finding's record."""
    if item.users_affected:
        return f"{item.users_affected:,} users"
    for key in ("users", "satisfied_users"):
        value = item.numbers.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{int(value):,} users"
    if isinstance(item.numbers.get("sessions"), (int, float)):
        return f"{int(item.numbers['sessions']):,} sessions"
    cells = item.numbers.get("cells_standing_out")
    if isinstance(cells, list):
        return f"{len(cells):,} cells"
    return ""


def recommendations(data: RunData, n: int = 6) -> list[Finding]:
    """The findings whose action a business team can take, most important first: the
    executive summary's own choice leads, then the other actions by priority. Priority-3
    (appendix) actions are tuning notes for analysts and stay in the appendix."""
    chosen = [f for f in select.executive_summary(data.insights) if f.action]
    rest = [f for f in select.actions(data.insights) if f not in chosen and f.priority < 3]
    return (chosen + rest)[:n]


def recommendations_table(data: RunData, n: int = 6) -> pd.DataFrame:
    """One row per recommendation: the team it is for, the action (a sentence that names who
    does what for which segment, cell or device) and how many users it concerns."""
    rows = [(TEAMS.get(item.audience or "", human_label(item.audience or "")),
             " ".join((item.action or "").split()), _scale(item))
            for item in recommendations(data, n)]
    return pd.DataFrame(rows, columns=["For", "Recommendation", "Concerns"])


def share(x: Any) -> str:
    return share_text(float(x))
