"""k-means: the old fit (KMeans(n_init) on every user) against the new one (restarts on a
weighted sample, the best refined on every user: models/kmeans_fit.py), time and quality.

Usage: .venv/bin/python benchmarks/kmeans_quality.py [--sizes 150000 1000000] [--repeats 3]
       [--k 3] [--elbow] [--threads 1] [--json]

Data: synthetic users like the engagement metrics (sessions: counts with a pareto tail;
duration and bytes: lognormal products, bytes with a pareto factor), z-scored as the analysis
does. Each size runs old and new interleaved (old, new, old, new, ...) `--repeats` times on the
same data, and prints the medians of wall and CPU seconds and the new fit's inertia on every
user over the old's (the quality bar is <= 1.005). --elbow also times the curve k = 1..10
(every k with kmeans_n_init restarts on every user, old, against the new scheme).
Parameters are the product's (AnalysisParams): n_init, random_state, restart sample, refine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from telco_analytics.config import AnalysisParams
from telco_analytics.models.kmeans_fit import fit_kmeans


def engagement_like(n: int, seed: int = 0) -> np.ndarray:
    """n users x (sessions, duration_ms, total_bytes), heavy-tailed, z-scored."""
    rng = np.random.default_rng(seed)
    sessions = 1 + rng.geometric(0.3, n) + (rng.pareto(1.5, n) * 2).astype(int)
    duration = sessions * rng.lognormal(11.0, 1.0, n)
    total = sessions * rng.lognormal(18.0, 0.8, n) * (1 + rng.pareto(2.0, n))
    X = np.c_[sessions, duration, total].astype("float64")
    return (X - X.mean(axis=0)) / X.std(axis=0)


def timed(fit) -> tuple[float, float, float]:
    """(wall s, CPU s of this process, inertia) of fit() -> fitted KMeans."""
    wall, cpu = time.perf_counter(), time.process_time()
    km = fit()
    return time.perf_counter() - wall, time.process_time() - cpu, float(km.inertia_)


def old_fit(X: np.ndarray, k: int, p: AnalysisParams) -> KMeans:
    return KMeans(n_clusters=k, n_init=p.kmeans_n_init, random_state=p.random_state).fit(X)


def new_fit(X: np.ndarray, k: int, p: AnalysisParams) -> KMeans:
    return fit_kmeans(X, k, n_init=p.kmeans_n_init, random_state=p.random_state,
                      restart_rows=p.kmeans_restart_sample_size, refine=p.kmeans_refine).kmeans


def compare(X: np.ndarray, ks: list[int], p: AnalysisParams, repeats: int) -> dict:
    """Old and new, interleaved, `repeats` times: medians and the inertia ratio (sum over ks)."""
    runs: dict[str, list[tuple[float, float, float]]] = {"old": [], "new": []}
    for _ in range(repeats):
        for name, fit in (("old", old_fit), ("new", new_fit)):
            results = [timed(lambda k=k, fit=fit: fit(X, k, p)) for k in ks]
            runs[name].append(tuple(map(sum, zip(*results, strict=True))))
    out = {}
    for name, values in runs.items():
        out[f"{name}_wall_s"] = statistics.median(v[0] for v in values)
        out[f"{name}_cpu_s"] = statistics.median(v[1] for v in values)
        out[f"{name}_inertia"] = values[0][2]  # seeded: the same every repeat
    out["inertia_ratio"] = out["new_inertia"] / out["old_inertia"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=AnalysisParams().k_engagement)
    parser.add_argument("--elbow", action="store_true", help="also the curve k = 1..10")
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenMP/BLAS threads of the fits (the run layer's limit)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    params = AnalysisParams()
    rows = []
    with threadpool_limits(limits=args.threads):
        for n in args.sizes:
            X = engagement_like(n)
            cases = [(f"k={args.k}", [args.k])]
            if args.elbow:
                cases.append((f"elbow 1..{params.elbow_k_max}",
                              list(range(1, params.elbow_k_max + 1))))
            for label, ks in cases:
                rows.append({"users": n, "fit": label, **compare(X, ks, params, args.repeats)})
                if not args.json:
                    r = rows[-1]
                    print(f"{n:>9,} {label:<11} old {r['old_wall_s']:6.2f} s wall "
                          f"{r['old_cpu_s']:6.2f} s CPU | new {r['new_wall_s']:6.2f} s wall "
                          f"{r['new_cpu_s']:6.2f} s CPU | CPU x{r['old_cpu_s'] / r['new_cpu_s']:.1f}"
                          f" | inertia new/old {r['inertia_ratio']:.5f}", flush=True)
    if args.json:
        print(json.dumps({"params": {
            "n_init": params.kmeans_n_init, "random_state": params.random_state,
            "restart_sample_size": params.kmeans_restart_sample_size,
            "refine": params.kmeans_refine, "threads": args.threads}, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
