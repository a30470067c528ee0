"""Bytes a user that each analysis step (and function) holds beyond the per-user table.

Usage: .venv/bin/python benchmarks/user_memory.py [--users 8M] [--extract FILE] [--functions]

At 72M users (100M sessions) every byte a user is 72 MB, and a 100M run takes half an hour:
this measures the analyses' memory at a few million users in about a minute instead. The
per-user summary of a generated extract (benchmarks/data/xdr_1500000.parquet by default,
made with `telco generate` when missing) is computed by the pipeline's own steps, then
repeated until it has --users users (fresh, sorted msisdn), and the analysis nodes run one
after the other (as they do beyond side_by_side_max_users) under tracemalloc, which counts
numpy, pandas and Arrow-through-numpy allocations. Printed per node, in bytes a user: the peak
above what the node started with, what it keeps, and the total held by the analyses at its
peak (the per-user table itself, about 128 bytes a user, comes on top). --functions also
prints the peaks of some analysis functions inside the nodes. Fitted models see a fixed-size
sample beyond 1M users, so their share per user shrinks as the users grow: measure at several
million users.
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

# (module, functions) whose peaks --functions prints
FUNCTIONS = {
    "analysis.overview": ["univariate", "decile_table_all", "app_correlation", "pca_table"],
    "analysis.engagement": ["engagement_clusters", "engagement_top10", "app_top10_users"],
    "analysis.experience": ["experience_clusters", "experience_values", "per_handset"],
    "analysis.satisfaction": ["satisfaction_top", "satisfaction_cluster_summary"],
    "models.clustering": ["predict_labels", "silhouette_sample"],
}


def per_user_summary(extract: Path) -> pd.DataFrame:
    """The run's per-user summary frame of the extract, made by the engine nodes' functions."""
    from telco_analytics import engine
    from telco_analytics.config import AnalysisParams
    from telco_analytics.run import handover, session_steps

    with tempfile.TemporaryDirectory(prefix="telco-bench-memory-", dir=DATA) as tmp:
        con = engine.connect("duckdb", workdir=Path(tmp) / "engine")
        sessions, _ = session_steps.read_and_validate(con, str(extract))
        clean, *_ = session_steps.clean(con, sessions, AnalysisParams(), str(extract),
                                        lambda func, items: [func(i) for i in items])
        users = handover.fetch_users(con, session_steps.per_user_summary(clean))
        con.disconnect()
    return users


def repeated(users: pd.DataFrame, n: int) -> pd.DataFrame:
    """The users repeated up to n rows, with fresh sorted msisdn (the run's frame types)."""
    from telco_analytics.run.handover import users_frame

    rows = np.resize(np.arange(len(users)), n)
    columns = {"msisdn": pa.array(np.char.mod("%012d", np.arange(n, dtype=np.int64)))}
    for name in users.columns.drop("msisdn"):
        values = users[name].to_numpy()[rows]
        columns[name] = pa.array(values.astype(object) if name == "handset" else values)
    return users_frame(pa.table(columns))


# the largest traced memory seen by a traced function (its reset_peak hides it from the node)
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


def measured(name: str, func, n_users: int):
    """The node's function, printing its peak, what it keeps and the total at its peak."""
    @functools.wraps(func)
    def node_call(*args):
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        STEP_PEAK["bytes"] = 0
        try:
            return func(*args)
        finally:
            current, peak = tracemalloc.get_traced_memory()
            peak = max(peak, STEP_PEAK["bytes"])
            print(f"  {name:24s} peak +{(peak - start) / n_users:6.1f}  keeps "
                  f"{(current - start) / n_users:6.1f}  held at its peak {peak / n_users:6.1f}")
    return node_call


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
    from dataclasses import replace

    from telco_analytics.run.nodes import ANALYSES
    from telco_analytics.run.runner import run_nodes

    users = repeated(per_user_summary(args.extract), args.users)
    n = len(users)
    print(f"{n:,} users ({args.extract.name} repeated); bytes a user:")
    for module, names in FUNCTIONS.items():
        # imported before tracing: their import would count as the first node's memory
        mod = importlib.import_module(f"telco_analytics.{module}")
        for name in names if args.functions else ():
            traced(mod, name, n)
    # the variables table needs the engine's counts, which a repeated summary does not have
    nodes = [replace(node, func=measured(node.name, node.function(), n), kwargs={})
             for node in ANALYSES if node.name != "variables"]
    tracemalloc.start()
    run_nodes(nodes, {"users": users}, workers=1)  # one node after the other
    tracemalloc.stop()


if __name__ == "__main__":
    main()
