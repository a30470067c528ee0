"""The findings of issue 17 on hand-made tables: measured or filled, network hotspots, relative
clusters, traffic, satisfaction drivers, heavy-tail segments and the executive summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.narrative import select
from telco_analytics.narrative.engagement import segments_insight, top_apps_insight
from telco_analytics.narrative.experience import (
    handset_tcp_insight,
    handset_throughput_insight,
    measurement_insight,
)
from telco_analytics.narrative.measured import Measurement
from telco_analytics.narrative.network import worst_cells_insight, worst_hours_insight
from telco_analytics.narrative.overview import app_traffic_insight
from telco_analytics.narrative.records import finding
from telco_analytics.narrative.satisfaction import drivers_insight
from telco_analytics.narrative.summary import executive_summary_finding, summary_findings
from tests.traceability import untraced

METRICS = ["tcp_retrans_bytes", "rtt_ms", "throughput_kbps"]


def measurement(tcp_share=0.27, rtt_share=0.65, tp_share=0.76) -> pd.DataFrame:
    shares = dict(zip(METRICS, (tcp_share, rtt_share, tp_share)))
    return pd.DataFrame({
        "metric": METRICS, "sessions": 1000, "measured_sessions": [int(1000 * shares[m])
                                                                   for m in METRICS],
        "measured_share": [shares[m] for m in METRICS], "observed_sessions": 1000,
        "mean": [2e6, 30.0, 10_000.0], "std": [3e6, 20.0, 15_000.0], "users": 400,
        "users_measured": 300, "users_measured_share": 0.75, "users_all_measured": 200,
        "users_all_measured_share": 0.5,
        "mostly_filled": [shares[m] < 0.5 for m in METRICS]})


def ranked(name: str, keys, **columns) -> pd.DataFrame:
    """A ranked hotspot table (rank = row order) with the columns the findings read."""
    n = len(keys)
    base = {name: keys, "sessions": 100, "users": 80, "rank": np.arange(1, n + 1),
            "interval_level": 0.95, "badness_low": np.linspace(1, -1, n),
            "badness_high": np.linspace(2, 0, n), "stands_out": False}
    for m in METRICS:
        base.update({m: 1.0, f"{m}_low": 0.5, f"{m}_high": 1.5,
                     schema.measured_sessions(m): 90})
    base.update(columns)
    return pd.DataFrame(base)


def test_mostly_filled_metric_is_said_and_drives_no_advice():
    measured = Measurement(measurement())
    values = pd.DataFrame({"metric": ["tcp_retrans_bytes"], "kind": ["frequent"], "rank": [1],
                           "value": [1.66e6], "count": [212]})
    item = measurement_insight(measured, values)
    assert item.numbers["mostly_filled"] == ["tcp_retrans_bytes"]
    assert "TCP retransmission in 27% of sessions" in item.text
    assert "1.66 MB for 53% of users" in item.text and item.action is None  # 212 / 400
    handsets = ranked("handset", ["A", "B"], tcp_retrans_bytes=[5e6, 1e6],
                      tcp_retrans_bytes_low=[4e6, 0.5e6])
    tcp = handset_tcp_insight(handsets, measured)
    assert tcp.action is None and "mostly filled in" in tcp.text and "A" in tcp.text
    assert untraced(item) == [] and untraced(tcp) == []
    # measured in most sessions, the same table gives vendor advice
    assert handset_tcp_insight(handsets, Measurement(measurement(tcp_share=0.8))).action


def test_device_advice_only_when_the_slowest_handset_is_surely_slow():
    measured = Measurement(measurement())
    # 2 handsets: A 4,000 kbps (interval 3,500-4,500), B 12,000; network 10,000
    handsets = ranked("handset", ["A", "B"], throughput_kbps=[4000.0, 12000.0],
                      throughput_kbps_low=[3500.0, 11000.0],
                      throughput_kbps_high=[4500.0, 13000.0], users=[40, 50])
    item = handset_throughput_insight(handsets, measured)
    assert item.numbers["lowest"] == "A" and item.action.startswith("Marketing can target")
    assert item.users_affected == 40 and item.effect_size == pytest.approx(0.6)
    assert "3.0x more" in item.text and untraced(item) == []
    # a wide interval that reaches the network mean once widened for the handsets compared
    wide = handsets.assign(throughput_kbps_high=[9500.0, 13000.0])
    assert handset_throughput_insight(wide, measured).action is None


def test_worst_cells_are_named_and_acted_on_only_when_they_stand_out():
    measured = Measurement(measurement())
    cells = ranked("cell", [f"C{i:02d}" for i in range(12)], rtt_ms=np.linspace(80, 30, 12),
                   throughput_kbps=np.linspace(2000, 9000, 12))
    quiet = worst_cells_insight(cells, measured)
    assert quiet.numbers["cells"] == [f"C{i:02d}" for i in range(10)]
    assert all(f"C{i:02d}" in quiet.text for i in range(10)) and "C10" not in quiet.text
    assert quiet.action is None and "No cell stands out" in quiet.text
    loud = worst_cells_insight(cells.assign(stands_out=[True, True] + [False] * 10), measured)
    assert loud.action.startswith("The network team should start with cells C00 and C01")
    # users of the ten cells x the session-weighted RTT of the ten over the network's, - 1
    assert loud.users_affected == 800
    assert loud.effect_size == pytest.approx(np.linspace(80, 30, 12)[:10].mean() / 30 - 1)
    assert untraced(quiet) == [] and untraced(loud) == []
    # RTT mostly filled: the network advice does not rest on it
    filled = Measurement(measurement(rtt_share=0.3))
    assert worst_cells_insight(cells.assign(stands_out=True), filled).numbers["metrics"] == [
        "throughput_kbps"]


def test_worst_hours():
    measured = Measurement(measurement())
    hours = ranked("hour", [20, 7, 3], rtt_ms=[40.0, 31.0, 29.0],
                   throughput_kbps=[8000.0, 9000.0, 9500.0])
    item = worst_hours_insight(hours, measured)
    assert "worst at 20:00" in item.text and "best at 03:00" in item.text
    assert item.action is None and untraced(item) == []
    loud = worst_hours_insight(hours.assign(stands_out=[True, False, False]), measured)
    assert "20:00" in loud.action and untraced(loud) == []


def test_app_traffic_keeps_other_apart_and_explains_the_app_total_once():
    totals = pd.DataFrame({"app": ["other", "gaming", "youtube", "email"],
                           "bytes": [60e12, 50e12, 20e12, 1e12], "users": 10})
    traffic = pd.DataFrame({"measure": ["total_bytes", "app_columns"],
                            "bytes": [70e12, 131e12], "share_of_total": [1.0, 131 / 70]})
    item = app_traffic_insight(totals, traffic)
    assert item.numbers["top_apps"] == ["gaming", "youtube"]  # Other is not an app
    assert "Gaming and YouTube carry 99%" in item.text  # 70 of the 71 TB classified
    assert "1.87x the total traffic of 70.00 TB" in item.text and "Other" not in item.action
    assert untraced(item) == []
    apps = top_apps_insight(totals)
    assert "other" not in apps.numbers["apps"] and "Other" not in apps.action
    assert untraced(apps) == []


def test_a_tiny_spec_cluster_is_said_plainly_with_log_segments_and_stability():
    clusters = pd.DataFrame({"cluster": [0, 1, 2], "users": [9990, 9, 1]})
    log = pd.DataFrame({"cluster": [0, 1, 2], "users_share": [0.5, 0.3, 0.2]})
    stability = pd.DataFrame({"clustering": ["spec", "log_scaled"], "seeds": 5, "users": 10000,
                              "ari_mean": [0.71, 0.99], "ari_min": [0.4, 0.98]})
    item = segments_insight(clusters, log, stability)
    assert "puts 1 user (0.01% of users) in cluster 2" in item.text
    assert "segments of 50%, 30%, 20% of users" in item.text
    assert "adjusted Rand index of 0.71 (lowest 0.40)" in item.text
    assert item.action and item.priority == 1 and untraced(item) == []


def test_drivers_say_when_the_scale_of_one_score_dominates():
    drivers = pd.DataFrame({"score": ["engagement_score", "experience_score"],
                            "mean": [2.0, 3.0], "std": [1.45, 0.80], "corr": [0.86, 0.40],
                            "variance_share": [0.8, 0.2], "std_ratio": [1.45 / 0.8, 0.8 / 1.45]})
    item = drivers_insight(drivers)
    assert "spreads 1.8x as wide" in item.text and "not because it matters more" in item.text
    assert item.numbers["dominant"] == "engagement_score" and untraced(item) == []
    even = drivers.assign(std=[1.0, 0.9], std_ratio=[1 / 0.9, 0.9])
    assert "Neither score's scale dominates" in drivers_insight(even).text


def _impact(topic, users, effect, action="Do it."):
    return finding(topic, f"{users:,} users.", action=action, priority=1,
                   users_affected=users, effect_size=effect,
                   evidence=[])


def test_executive_summary_ranks_by_users_times_effect_and_is_selected_by_key():
    growth = _impact("engagement.least_engaged_cluster", 80_000, 0.25)  # 20,000
    retain = _impact("engagement.most_engaged_cluster", 3_000, 3.0)     # 9,000
    cells = _impact("experience.worst_cells", 500, 0.4)                 # 200
    handset = _impact("experience.handset_throughput", 100, 0.5)        # 50
    plain = finding("overview.typical_user", "The median user.")
    findings = [plain, handset, cells, retain, growth]
    chosen = summary_findings(findings)
    assert [f.topic for f in chosen] == [growth.topic, retain.topic, cells.topic, handset.topic]
    record = executive_summary_finding(findings)
    assert record.topic == "summary.executive" and record.numbers["topics"] == [
        f.topic for f in chosen]
    assert "users affected x size of effect" in record.text
    assert "first, growth in the least engaged users (80,000 users, size of effect 0.25)" in (
        record.text)
    # outputs pick the summary by key; the record itself is no key finding
    assert select.executive_summary([*findings, record]) == chosen
    assert record not in select.key_findings([*findings, record])
    # with a single impact, the summary is topped up to three with actionable findings
    few = summary_findings([growth, finding("overview.app_traffic", "t", action="A.",
                                            priority=1), plain])
    assert len(few) == 2  # only two priority-1 findings with an action exist


def test_hotspot_charts_render():
    from telco_analytics.report.figures.experience import experience_figures
    from telco_analytics.report.render import chart_png
    from tests.unit.test_experience import _distinct_colours

    cells = ranked("cell", [f"C{i:02d}" for i in range(20)],
                   stands_out=[True] * 3 + [False] * 17, rtt_ms=np.linspace(80, 30, 20))
    hours = ranked("hour", list(range(24)), rtt_ms=np.linspace(30, 32, 24))
    charts = experience_figures({"experience_per_cell": cells, "experience_per_hour": hours})
    assert set(charts) == {"experience_per_cell", "experience_per_hour"}
    for name, chart in charts.items():
        assert _distinct_colours(chart_png(chart, scale=1.0)) > 2, name
    # the 15 worst cells, worst first
    values = charts["experience_per_cell"].to_dict()["hconcat"][0]["layer"][0]["encoding"]
    assert values["y"]["sort"] == [f"C{i:02d}" for i in range(15)]
