"""On the built-in sample, each clustering of a run (engagement, experience, satisfaction) is
no worse than scikit-learn's KMeans(n_init=10) on the same users, and the manifest says how
each was fitted (restarts on a weighted sample, the best refined on every user)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from telco_analytics.config import AnalysisParams
from telco_analytics.models.kmeans_fit import CORESET
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.sample import sample_path

pytestmark = pytest.mark.slow  # one run of the pipeline on the 150k-session sample

QUALITY = 1.005
# the default fits the sample's 107k users exactly; a smaller restart sample makes every fit of
# this run take the sampled path, so that its quality is what is measured here
SAMPLED = AnalysisParams(kmeans_restart_sample_size=20_000)
# table, its clustering input columns, the manifest's name of the fit
FITS = [
    ("engagement_users", ["sessions", "duration_ms", "total_bytes"], "engagement"),
    ("experience_users", ["tcp_retrans_bytes", "rtt_ms", "throughput_kbps"], "experience"),
    ("satisfaction", ["engagement_score", "experience_score"], "satisfaction"),
]


def _z(frame: pd.DataFrame) -> np.ndarray:
    X = frame.to_numpy(dtype="float64")
    return (X - X.mean(axis=0)) / X.std(axis=0)  # population std (SPEC rules 8-10)


def _partition_inertia(Z: np.ndarray, labels: np.ndarray) -> float:
    """Sum of squared distances of the rows to their cluster's mean (the partition's inertia)."""
    total = 0.0
    for c in np.unique(labels):
        member = Z[labels == c]
        total += float(((member - member.mean(axis=0)) ** 2).sum())
    return total


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # the module fixture runs before conftest's
        patch.setenv("TELCO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "telco-cache"))
        path = sample_path()
    return run(str(path), tmp_path_factory.mktemp("runs") / "sample", params=SAMPLED,
               options=RunOptions(report=False, tracking=False, figures=False))


@pytest.mark.parametrize(("table", "columns", "name"), FITS, ids=[f[2] for f in FITS])
def test_sample_clusterings_within_half_a_percent_of_kmeans(sample_run, table, columns, name):
    with threadpool_limits(limits=1):  # the reference fit: its threads spin on a busy machine
        _check_within_half_a_percent(sample_run, table, columns, name)


def _check_within_half_a_percent(sample_run, table, columns, name) -> None:
    params = SAMPLED
    users = sample_run.tables[table]
    fit = sample_run.manifest["kmeans_fits"][name]
    assert len(users) > params.kmeans_restart_sample_size  # the sampled restarts are used
    assert fit["method"] == CORESET and fit["rows"] == len(users)
    assert fit["restart_rows"] == params.kmeans_restart_sample_size
    assert fit["restarts"] == params.kmeans_n_init and fit["seed"] == params.random_state
    Z = _z(users[columns])
    labels = users["cluster"].to_numpy()
    reference = KMeans(n_clusters=len(np.unique(labels)), n_init=10,
                       random_state=params.random_state).fit(Z)
    ratio = _partition_inertia(Z, labels) / _partition_inertia(Z, reference.labels_)
    assert ratio <= QUALITY, ratio


def test_sample_manifest_records_the_elbow_fits(sample_run):
    params = SAMPLED
    elbow = sample_run.manifest["kmeans_fits"]["engagement_elbow"]
    assert elbow["k"] == list(range(1, params.elbow_k_max + 1))
    assert elbow["method"] == CORESET and len(elbow["iterations"]) == params.elbow_k_max
    assert elbow["restart_rows"] == params.kmeans_restart_sample_size
