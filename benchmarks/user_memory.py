"""Bytes a user that each analysis step (and function) holds beyond the per-user table.

Usage: .venv/bin/python benchmarks/user_memory.py [--users 8M] [--extract FILE] [--functions]

At 72M users (100M sessions) every byte a user is 72 MB, and a 100M run takes half an hour:
this measures the analyses' memory at a few million users in about a minute instead. The
per-user summary of a generated extract (benchmarks/data/xdr_1500000.parquet by default,
made with `telco generate` when missing) is computed by the pipeline's own steps, then
repeated until it has --users users (fresh, sorted msisdn), and the overview, engagement,
experience and satisfaction steps run one after the other (as they do beyond
side_by_side_max_users) under tracemalloc, which counts numpy, pandas and Arrow-through-numpy
allocations. Printed per step, in bytes a user: the peak above what the step started with,
what it keeps, and the total held by the analyses at its peak (the per-user table itself,
about 128 bytes a user, comes on top). --functions also prints each analysis function's peak.
Fitted models see a fixed-size sample beyond 1M users, so their share per user shrinks as
the users grow: measure at several million users. Inside a step some fits still run side by
side (the elbow's halves beside the main engagement fit, the regression beside the k=2
clustering); tracemalloc counts every thread, so a function's figure can include its
neighbour's memory (the step's figure is right).
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, TELCO
from scale import parse_size

ANALYSES = ("overview", "engagement", "experience", "satisfaction")
# (module, functions) whose peaks --functions prints
FUNCTIONS = {
    "analysis.overview": ["univariate", "decile_table_all", "app_correlation", "pca_table"],
    "analysis.engagement": ["fit_kmeans_pipeline", "predict_labels", "engagement_clusters",
                            "engagement_top10", "app_top10_users", "silhouette_sample"],
    "analysis.experience": ["fit_kmeans_pipeline", "predict_labels", "experience_clusters",
                            "experience_values", "per_handset"],
    "analysis.satisfaction": ["satisfaction_scores", "satisfaction_clustering",
                              "satisfaction_top", "satisfaction_cluster_summary",
                              "fit_satisfaction_regression"],
}


def per_user_summary(extract: Path) -> tuple[pd.DataFrame, dict]:
    """The pipeline's per-user summary frame of the extract, and its manifest so far."""
    from telco_analytics import engine, pipeline
    from telco_analytics.config import RunConfig
    from telco_analytics.pipeline import RunOptions, RunState

    with tempfile.TemporaryDirectory(prefix="telco-bench-memory-", dir=DATA) as tmp:
        con = engine.connect("duckdb", workdir=Path(tmp) / "engine")
        state = RunState(config=RunConfig(), options=RunOptions(), input=str(extract),
                         out=Path(tmp), con=con)
        for name, step in pipeline.STEPS:
            step(state)
            if name == "per-user tables":
                break
        con.disconnect()
    users = state.tables["user_overview"].copy()
    for column in state.tables["user_experience"].columns.drop("msisdn"):
        users[column] = state.tables["user_experience"][column]
    return users, state.manifest


def repeated(users: pd.DataFrame, n: int) -> pd.DataFrame:
    """The users repeated up to n rows, with fresh sorted msisdn (the pipeline's frame types)."""
    from telco_analytics.pipeline import users_frame

    rows = np.resize(np.arange(len(users)), n)
    columns = {"msisdn": pa.array(np.char.mod("%012d", np.arange(n, dtype=np.int64)))}
    for name in users.columns.drop("msisdn"):
        values = users[name].to_numpy()[rows]
        columns[name] = pa.array(values.astype(object) if name == "handset" else values)
    return users_frame(pa.table(columns))


# the largest traced memory seen by a traced function (its reset_peak hides it from the step)
STEP_PEAK = {"bytes": 0}


def traced(module, name: str, n_users: int) -> None:
    """Wrap module.name to print its peak (bytes a user) above what it started with."""
    func = getattr(module, name)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start, before = tracemalloc.get_traced_memory()
        STEP_PEAK["bytes"] = max(STEP_PEAK["bytes"], before)
        tracemalloc.reset_peak()
        try:
            return func(*args, **kwargs)
        finally:
            current, peak = tracemalloc.get_traced_memory()
            STEP_PEAK["bytes"] = max(STEP_PEAK["bytes"], peak)
            print(f"        {name:30s} peak +{(peak - start) / n_users:6.1f}  "
                  f"keeps {(current - start) / n_users:6.1f}")
            tracemalloc.reset_peak()

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=parse_size, default=parse_size("8M"))
    parser.add_argument("--extract", type=Path, default=DATA / "xdr_1500000.parquet")
    parser.add_argument("--functions", action="store_true", help="each function's peak too")
    args = parser.parse_args()
    if not args.extract.exists():
        subprocess.run([TELCO, "generate", "--rows", "1500000", "--seed", "0", "--out",
                        str(args.extract), "--quiet"], check=True)

    import importlib

    from telco_analytics import pipeline
    from telco_analytics.config import RunConfig
    from telco_analytics.pipeline import RunOptions, RunState

    summary, manifest = per_user_summary(args.extract)
    users = repeated(summary, args.users)
    del summary
    n = len(users)
    print(f"{n:,} users ({args.extract.name} repeated); bytes a user:")
    for module, names in FUNCTIONS.items():
        # imported before tracing: their import would count as the first step's memory
        mod = importlib.import_module(f"telco_analytics.{module}")
        for name in names if args.functions else ():
            traced(mod, name, n)
    # one step after the other, as beyond side_by_side_max_users
    state = RunState(config=RunConfig(side_by_side_max_users=1), options=RunOptions(),
                     input=str(args.extract), out=Path("."), manifest=manifest)
    steps = dict(pipeline.STEPS)
    tracemalloc.start()
    pipeline._keep_user_tables(state, users)
    del users
    for name in ANALYSES:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        STEP_PEAK["bytes"] = 0
        steps[name](state)
        current, peak = tracemalloc.get_traced_memory()
        peak = max(peak, STEP_PEAK["bytes"])
        print(f"  {name:12s} peak +{(peak - start) / n:6.1f}  keeps {(current - start) / n:6.1f}"
              f"  held at its peak {peak / n:6.1f}")
    tracemalloc.stop()


if __name__ == "__main__":
    main()
