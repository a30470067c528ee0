"""The run's manifest: provenance (code, libraries, input), the parameters and definitions
actually used, what was fitted on a sample, and wall and CPU seconds per node."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__

LIBRARIES = ("duckdb", "ibis-framework", "pandas", "numpy", "pyarrow", "scikit-learn", "mlflow",
             "altair", "vl-convert-python", "python-pptx", "sqlalchemy")


def merge_facts(manifest: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """manifest with facts merged in: nested dicts merged key by key, other values replaced."""
    for key, value in facts.items():
        if isinstance(value, dict) and isinstance(manifest.get(key), dict):
            merge_facts(manifest[key], value)
        else:
            manifest[key] = value
    return manifest


def build_manifest(*, facts: list[dict[str, Any]], run_id: str, started: dt.datetime,
                   timings: dict[str, float], cpu_timings: dict[str, float],
                   intervals: dict[str, tuple[float, float]],
                   parameters: dict[str, Any], execution: dict[str, Any],
                   tables: list[str]) -> dict[str, Any]:
    """The manifest as of now: the nodes' facts (in node order) and the run-level facts."""
    manifest: dict[str, Any] = {}
    for item in facts:
        merge_facts(manifest, item)
    ended = dt.datetime.now(dt.UTC)
    manifest.update({
        "run_id": run_id,
        "tool": "telco-analytics",
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "seconds": round((ended - started).total_seconds(), 3),
        "seconds_per_step": dict(timings),
        # CPU seconds of the whole process (every thread) and its ended children while each
        # node ran: nodes that ran side by side each count the time they shared
        "cpu_seconds_per_step": dict(cpu_timings),
        # when each node ran, in seconds since the run started (side by side = overlapping)
        "node_intervals": {k: list(v) for k, v in intervals.items()},
        "parameters": parameters,
        "execution": {**execution, **manifest.get("execution", {})},
        "definitions": DEFINITIONS,
        "code": {**git_commit(), "version": __version__},
        "libraries": library_versions(),
        "tables": sorted(tables),
    })
    return manifest


def cpu_seconds() -> float:
    """User + system CPU seconds so far of this process (all threads) and its ended children."""
    import resource

    return sum(getattr(resource.getrusage(who), kind)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for kind in ("ru_utime", "ru_stime"))


def git_commit() -> dict[str, Any]:
    """Commit of the code that ran, and whether the work tree had uncommitted changes."""
    root = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                                    capture_output=True, text=True, timeout=5,
                                    check=False).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "telco-analytics": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


DEFINITIONS = {
    "identifiers": "MSISDN/IMSI/IMEI/Bearer Id are text, never imputed, clipped or features; "
    "sessions without MSISDN are excluded from per-user tables",
    "artifact_row": "a row with no timestamps and no identifiers is dropped",
    "handsets": "rankings count sessions (ties by name); users = distinct MSISDN; missing and "
    "'undefined' are unknown and excluded; a user's handset is the mode of their known "
    "handsets (ties: alphabetically first), 'unknown' when none",
    "cleaning": "per measurement column over real sessions: fences Q1-1.5*IQR, Q3+1.5*IQR "
    "(linear quartiles); missing and out-of-fence values replaced by the mean of the "
    "non-missing values inside the fences (inclusive)",
    "duration": "duration_ms = the second Dur. (ms) column (true milliseconds)",
    "per_user": "sessions = xDR rows; duration_ms, dl_bytes (Total DL), ul_bytes (Total UL), "
    "total_bytes = dl + ul, <app>_bytes = app DL + UL, all summed",
    "deciles": "users ranked by duration_ms desc (ties by msisdn), ten equal groups (first "
    "n mod 10 get one extra), deciles 1-5 reported with total_bytes",
    "correlation_pca": "Pearson over the seven <app>_bytes; PCA on the standardized seven app "
    "columns plus dl_bytes and ul_bytes",
    "engagement": "sessions, duration_ms, total_bytes; z-scores (population std); k-means k=3, "
    "k-means++, n_init 10, fixed random_state; cluster 0 = lowest centroid z-mean; elbow k=1..10 "
    "(kmeans_n_init restarts per k on all users, elbow_n_init on a sample), knee = largest "
    "distance to the line through the first and last points",
    "experience": "per session tcp = TCP DL + UL retrans bytes, rtt = mean(RTT DL, UL), "
    "throughput = TP DL + UL; per user means (exactly the value when all of a user's sessions "
    "hold it); k-means k=3 on z-scores; cluster 0 = largest "
    "z_rtt + z_tcp - z_throughput",
    "satisfaction": "engagement/experience score = Euclidean distance in z-space to cluster 0's "
    "centroid; satisfaction = their mean; k-means k=2 on the scores' z-scores, cluster 1 = higher "
    "mean satisfaction; regression on the six raw metrics (never the scores)",
    "measured": "a session's experience metric is measured when every column it is computed "
    "from holds its raw value inside the cleaning fences, filled when cleaning replaced one; "
    "a metric measured in fewer than mostly_filled_share of the sessions is mostly filled: "
    "it ranks nothing and no finding recommends action from it",
    "hotspots": "experience_per_cell / _per_hour / _per_handset from recorded values only "
    "(missing left out, values beyond a fence counted at the fence, never the cleaning mean); "
    "cells with at least cell_min_sessions sessions; ranking rule in hotspots.ranking_rule",
    "traffic": "total traffic = Total DL + Total UL summed over users, everywhere; app shares "
    "are shares of the app columns (recorded apart from the totals); Other is unclassified",
    "engagement_log_scale": "beside the SPEC clustering, the same k-means on log1p of the "
    "metrics (engagement_clusters_log); stability: adjusted Rand index between "
    "stability_seeds seeds on a sample of stability_sample_size users",
    "executive_summary": "3-5 findings ranked by impact = users affected x size of effect "
    "(the relative gap of the finding's key number to the typical user); the best growth and "
    "experience findings always in",
}
