"""Findings that hold up, on generated extracts the product has never seen: every number of
every finding (sentence and action) is a value of its evidence or a ratio of two, as rounded
in the text; no finding recommends action from a mostly filled metric; planted congested
cells are named; a single extreme user is said to be one, never a segment."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from telco_analytics.narrative.records import Evidence, finding, read_findings
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.synth import write_extract
from tests.traceability import count_numbers, shown_numbers, untraced
from tests.unit.test_hotspots import plant_congestion

HEAVY_MSISDN = "33699999999"


def add_heavy_user(source, target, sessions: int = 1008, seed: int = 0) -> None:
    """A copy of an extract with one more user holding `sessions` sessions (copies of random
    sessions, before the trailing artifact row)."""
    raw = pd.read_parquet(source)
    rows = raw.iloc[:-1].sample(sessions, replace=True, random_state=seed).copy()
    rows["MSISDN/Number"] = HEAVY_MSISDN
    pd.concat([raw.iloc[:-1], rows, raw.iloc[-1:]], ignore_index=True).to_parquet(target)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs on generated extracts: plain, with 10 planted congested cells, with one
    extreme user (1,008 sessions). name -> (findings, tables folder, planted cells)."""
    folder = tmp_path_factory.mktemp("trace")
    plain = write_extract(folder / "plain.parquet", rows=8_000, seed=11)
    planted_source = write_extract(folder / "cells_source.parquet", rows=20_000, seed=12)
    planted = plant_congestion(planted_source, folder / "cells.parquet", seed=12)
    heavy_source = write_extract(folder / "heavy_source.parquet", rows=8_000, seed=13)
    add_heavy_user(heavy_source, folder / "heavy.parquet")
    out = {}
    for name, path in (("plain", plain), ("cells", folder / "cells.parquet"),
                       ("heavy", folder / "heavy.parquet")):
        result = run(str(path), folder / f"run-{name}",
                     options=RunOptions(report=False, tracking=False, figures=False))
        tables = result.out / "tables"
        out[name] = (read_findings(tables / "insights.json"), tables, planted)
    return out


def test_every_number_of_every_finding_comes_from_its_evidence(runs):
    checked_findings = checked_numbers = 0
    problems = []
    for name, (findings, _, _) in runs.items():
        for item in findings:
            checked_findings += 1
            checked_numbers += count_numbers(item)
            if bad := untraced(item):
                problems.append((name, item.topic, bad))
    assert problems == []
    assert checked_findings >= 3 * 25 and checked_numbers >= 3 * 180
    print(f"traceability: {checked_findings} findings, {checked_numbers} numbers checked")


def test_no_finding_recommends_action_from_a_mostly_filled_metric(runs):
    for findings, tables, _ in runs.values():
        measurement = pd.read_parquet(tables / "experience_measurement.parquet")
        filled = set(measurement.loc[measurement["mostly_filled"], "metric"])
        assert filled  # retransmission is mostly missing in every calibrated extract
        for item in findings:
            rests_on = set(item.numbers.get("metrics") or [])
            if item.topic == "experience.measurement":
                continue  # it reports on all three, recommending nothing
            if rests_on and rests_on <= filled:
                assert item.action is None, item.topic
                assert "mostly filled" in item.text, item.topic


def test_the_network_findings_name_the_planted_congested_cells(runs):
    findings, _, planted = runs["cells"]
    cells = next(f for f in findings if f.topic == "experience.worst_cells")
    named = [c for c in planted if c in cells.text]
    assert len(named) >= 8, (named, cells.text)
    assert cells.action is not None and cells.numbers["cells_standing_out"]
    assert set(cells.numbers["cells_standing_out"]) <= set(planted)  # none by chance
    plain = next((f for f in runs["plain"][0] if f.topic == "experience.worst_cells"), None)
    assert plain is None or plain.action is None  # nothing planted, nothing singled out


def test_an_extreme_user_is_called_one_and_log_segments_are_set_beside(runs):
    findings, tables, _ = runs["heavy"]
    clusters = pd.read_parquet(tables / "engagement_clusters.parquet")
    assert clusters["users"].min() == 1  # the SPEC clustering isolates the heavy user
    segments = next(f for f in findings if f.topic == "engagement.segments")
    assert "puts 1 user (" in segments.text and segments.priority == 1
    assert "log-scaled" in segments.action
    log = pd.read_parquet(tables / "engagement_clusters_log.parquet")
    assert log["users_share"].min() >= 0.01
    least = next(f for f in findings if f.topic == "engagement.least_engaged_cluster")
    share = re.search(r"holds ([\d.]+)% of users", least.text).group(1)
    assert float(share) < 100  # 99.9x%, never rounded up to 100%
    most = next(f for f in findings if f.topic == "engagement.most_engaged_cluster")
    assert "handful of extreme users" in most.text


def test_the_executive_summary_leads_the_records(runs):
    for findings, tables, _ in runs.values():
        summary = findings[0]
        assert summary.topic == "summary.executive"
        assert 3 <= len(summary.numbers["topics"]) <= 5
        impacts = [i for i in summary.numbers["impacts"] if i]
        assert impacts == sorted(impacts, reverse=True)
        saved = json.loads((tables / "insights.json").read_text())[0]
        assert saved["topic"] == "summary.executive"


# ---------------------------------------------------------------- the checker itself


def _item(text, action=None, **values):
    return finding("overview.typical_user", text, action=action,
                   evidence=[Evidence("univariate", {"variable": "total_bytes"}, values)])


def test_the_checker_reads_units_separators_and_rounding():
    assert untraced(_item("2.77 GB, 143.0 h and 43%; 1,234 users", median=2.771e9,
                          duration=5.148e8, share=0.4321, users=1234)) == []
    assert untraced(_item("5.5x the volume", a=11.0, b=2.0)) == []  # a ratio of two
    assert untraced(_item("1.657e+06 bytes", v=1_657_312.0)) == []
    assert untraced(_item("at 07:00", hour=7)) == []
    # a wrong number, or one rounded the wrong way, is caught; so is one in the action
    assert untraced(_item("2.78 GB", median=2.771e9)) == ["2.78 GB"]
    assert untraced(_item("44%", share=0.4321)) == ["44%"]
    assert untraced(_item("fine", action="Offer 6 light users a plan.", a=11.0, b=2.0)) == []
    assert untraced(_item("fine", action="Offer 7 light users a plan.", a=11.0, b=2.0)) == ["7"]


def test_names_with_digits_are_not_numbers():
    item = finding("experience.worst_cells", "Cell D12345A and the Samsung Model 0765.",
                   evidence=[Evidence("experience_per_cell", {"cell": "D12345A"},
                                      {"handset": "Samsung Model 0765"})])
    assert untraced(item) == []
    assert [s.text for s in shown_numbers("PC1 on 4G, B528S-23A")] == []
    assert np.isclose(shown_numbers("25.1 h")[0].value, 25.1)
