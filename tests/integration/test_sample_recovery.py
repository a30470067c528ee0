"""The analyses find the structure planted in the built-in sample.

The generator plants known effects (synth/planted.py) and records them (the truth beside the
cached sample); here the pipeline's own outputs must find them. The analyses are under test,
not the generator: a broken handset table, a mislabelled cluster or a cleaning rule that hides
congestion fails here. Seed 0 is the built-in sample itself; seeds 1 and 2 plant other cells,
other handset offsets and other heavy users, so a pass is not one lucky draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.sample import SAMPLE_ROWS, sample_path, sample_truth_path
from telco_analytics.synth.truth import read_truth

pytestmark = pytest.mark.slow  # three runs of the pipeline on 150k sessions: ~1.5 min

SEEDS = (0, 1, 2)
RAW = {c.name: c.raw for c in schema.COLUMNS}
# Cells with fewer measured sessions than this are not ranked (their means are too noisy).
MIN_CELL_SESSIONS = 20
MIN_HANDSET_USERS = 30


@dataclass(frozen=True)
class Recovered:
    """One seed's sample, its planted truth and the pipeline's tables."""

    seed: int
    sample: pd.DataFrame
    truth: dict[str, Any]
    tables: dict[str, pd.DataFrame]


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def recovered(request, tmp_path_factory) -> Recovered:
    seed = request.param
    with pytest.MonkeyPatch.context() as patch:  # the module fixture runs before conftest's
        patch.setenv("TELCO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "telco-cache"))
        path = sample_path(SAMPLE_ROWS, seed)
        truth = read_truth(sample_truth_path(SAMPLE_ROWS, seed))
    result = run(str(path), tmp_path_factory.mktemp("runs") / f"seed{seed}",
                 options=RunOptions(report=False, tracking=False, figures=False))
    return Recovered(seed, pd.read_parquet(path).iloc[:-1], truth, result.tables)


def worst_cells(sessions: pd.DataFrame, n: int) -> list[str]:
    """The n cells with the worst measured experience: per cell (Last Location Name) with at
    least MIN_CELL_SESSIONS sessions, the mean over its measured sessions of SPEC rule 9's
    session metrics (rtt_ms, tcp_retrans_bytes, throughput_kbps), ranked by the rule's badness
    z_rtt + z_tcp - z_throughput (z-scores across the cells).

    A stand-in for the worst-cells list of the experience findings (not yet a pipeline
    table): computed from the raw sessions, because the cleaning rule replaces the very
    latencies that make a cell congested by the column mean.
    """
    metrics = pd.DataFrame({
        "cell": sessions[RAW["last_location_name"]],
        "rtt_ms": sessions[[RAW["avg_rtt_dl_ms"], RAW["avg_rtt_ul_ms"]]].mean(axis=1),
        "tcp_retrans_bytes": sessions[[RAW["tcp_dl_retrans_bytes"],
                                       RAW["tcp_ul_retrans_bytes"]]].sum(axis=1, min_count=1),
        "throughput_kbps": sessions[[RAW["avg_bearer_tp_dl_kbps"],
                                     RAW["avg_bearer_tp_ul_kbps"]]].sum(axis=1, min_count=1),
    })
    cells = metrics.groupby("cell").agg(
        sessions=("throughput_kbps", "size"), rtt=("rtt_ms", "mean"),
        tcp=("tcp_retrans_bytes", "mean"), tp=("throughput_kbps", "mean"))
    cells = cells[cells["sessions"] >= MIN_CELL_SESSIONS].drop(columns="sessions")
    z = (cells - cells.mean()) / cells.std(ddof=0)
    badness = (z["rtt"].fillna(0) + z["tcp"].fillna(0) - z["tp"].fillna(0)).sort_values(
        ascending=False, kind="mergesort")
    return badness.index[:n].tolist()


def test_the_worst_cells_are_the_planted_congested_ones(recovered):
    """Planted: the 10 most severely congested cells (truth congested_cells[:10]: high RTT and
    retransmission, low throughput, worse at the busy hours). Found: the 10 worst cells by
    measured-session means. At least 8 of the planted 10 must be among them."""
    planted = [c["cell"] for c in recovered.truth["congested_cells"][:10]]
    found = worst_cells(recovered.sample, 10)
    overlap = sorted(set(planted) & set(found))
    assert len(overlap) >= 8, f"seed {recovered.seed}: planted {planted}, found {found}"


def test_handset_throughput_follows_the_planted_capability(recovered):
    """Planted: each handset type's capability level (truth handsets[].capability: routers and
    flagships high, old phones and IoT modules low). Found: the pipeline's
    throughput_per_handset table, mean per-user throughput. Over the handsets with at least 30
    users the two must rank alike: Spearman >= 0.8."""
    capability = {h["handset"]: h["capability"] for h in recovered.truth["handsets"]}
    table = recovered.tables["throughput_per_handset"]
    table = table[table["users"] >= MIN_HANDSET_USERS]
    planted = table["handset"].map(capability)
    assert planted.notna().all() and len(table) >= 50
    rho = table["mean"].rank().corr(planted.rank())
    assert rho >= 0.8, f"seed {recovered.seed}: Spearman {rho:.3f} over {len(table)} handsets"


def test_the_most_engaged_cluster_holds_the_heavy_users(recovered):
    """Planted: the heavy users (truth heavy_users: more, longer and larger sessions). Found:
    the pipeline's most engaged cluster (engagement_users cluster k-1). It must hold at least
    80% of the heavy users."""
    users = recovered.tables["engagement_users"]
    heavy = users["msisdn"].astype(str).isin({str(m) for m in recovered.truth["heavy_users"]})
    assert heavy.sum() == len(recovered.truth["heavy_users"])  # every heavy user is analysed
    share = float((users.loc[heavy, "cluster"] == users["cluster"].max()).mean())
    assert share >= 0.8, f"seed {recovered.seed}: {share:.1%} of the heavy users"


def test_experience_clusters_differ_in_latency_and_throughput(recovered):
    """Planted: latency rises and throughput falls with congestion and poor radio conditions
    (truth loadings rtt_radio, tp_radio). Found: the experience clusters' centroids differ in
    latency as well as throughput (a z of at least 0.5 somewhere, so the descriptions say so),
    the worst cluster with the higher latency."""
    clusters = recovered.tables["experience_clusters"].sort_values("cluster")
    assert np.abs(clusters["z_rtt_ms"]).max() >= 0.5, clusters["description"].tolist()
    assert np.abs(clusters["z_throughput_kbps"]).max() >= 0.5, clusters["description"].tolist()
    assert clusters["rtt_ms_mean"].iloc[0] > clusters["rtt_ms_mean"].iloc[-1]
    assert not all("average latency" in d for d in clusters["description"])
