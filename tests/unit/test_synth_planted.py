"""The planted structure of the synthetic extract: dependence where planted, every marginal and
everything the reference extract shows unchanged, and the truth recorded as data."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from telco_analytics import schema
from telco_analytics.cli import app
from telco_analytics.errors import ConfigError
from telco_analytics.synth import generate_frame, write_extract
from telco_analytics.synth.capability import device_class
from telco_analytics.synth.congestion import BUSY_HOURS
from telco_analytics.synth.truth import read_truth
from telco_analytics.synth.writer import generate_frame_and_truth

RAW = {c.name: c.raw for c in schema.COLUMNS}
# sha256 of write_extract(x.csv, 2500, seed=3, chunk_rows=1000) by the generator before the
# planted structure (commit 496f9e6): structure none must stay that generator, byte for byte.
INDEPENDENT_CSV_SHA256 = "22fca5a64b954022339fa52798175d7d70ac05aad250bb1c095eee099ab645fa"
APP_RAW = [RAW[n] for n in schema.APP_COLUMNS]
MEASURED = [RAW[n] for n in schema.MEASUREMENT_COLUMNS if n not in schema.APP_COLUMNS
            and n not in ("total_dl_bytes", "total_ul_bytes")]
ROWS = 40_000


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, dict]:
    frame, truth = generate_frame_and_truth(ROWS, seed=5)
    return frame.iloc[:-1], truth


@pytest.fixture(scope="module")
def independent() -> pd.DataFrame:
    return generate_frame(ROWS, seed=5, structure="none").iloc[:-1]


def _spearman(frame: pd.DataFrame, a: str, b: str) -> float:
    both = frame[[RAW[a], RAW[b]]].dropna()
    return float(both[RAW[a]].rank().corr(both[RAW[b]].rank()))


def test_within_a_session_latency_falls_as_throughput_rises_and_volume_grows_with_duration(
        planted, independent):
    frame, _ = planted
    assert _spearman(frame, "avg_rtt_dl_ms", "avg_bearer_tp_dl_kbps") < -0.2
    assert _spearman(frame, "tcp_dl_retrans_bytes", "avg_rtt_dl_ms") > 0.2
    assert _spearman(frame, "duration_ms", "total_dl_bytes") > 0.2
    for a, b in (("avg_rtt_dl_ms", "avg_bearer_tp_dl_kbps"), ("duration_ms", "total_dl_bytes")):
        assert abs(_spearman(independent, a, b)) < 0.03  # structure none: independent


def test_every_marginal_and_null_count_is_kept(planted, independent):
    frame, _ = planted
    for name in MEASURED:
        a, b = frame[name], independent[name]
        assert a.isna().sum() == b.isna().sum(), name  # the same null masks
        for stat in ("mean", "median", "std"):
            x, y = getattr(a, stat)(), getattr(b, stat)()
            assert x == pytest.approx(y, rel=0.02, abs=0.5), (name, stat)
    # the same duration values (only placed differently): the 24-hour records are unchanged
    spike = [86399, 86400]
    assert frame[RAW["duration_s"]].isin(spike).sum() == independent[RAW["duration_s"]].isin(
        spike).sum()
    np.testing.assert_array_equal(np.sort(frame[RAW["duration_ms"]] // 1000),
                                  np.sort(independent[RAW["duration_ms"]] // 1000))


def test_the_app_columns_stay_independent_uniforms():
    frame = generate_frame(150_000, seed=2).iloc[:-1]  # |r| < 0.01 needs the reference size
    corr = frame[APP_RAW].corr().to_numpy()
    assert np.abs(corr[np.triu_indices(len(APP_RAW), 1)]).max() < 0.01
    for name in APP_RAW:  # Uniform(0, max): quartiles at a quarter and three quarters
        q1, q3, top = frame[name].quantile([0.25, 0.75, 1.0])
        assert q1 == pytest.approx(top / 4, rel=0.02) and q3 == pytest.approx(3 * top / 4, rel=0.02)


def test_heavy_users_have_more_longer_and_larger_sessions(planted):
    frame, truth = planted
    named = frame.dropna(subset=[RAW["msisdn"]])
    heavy = named[RAW["msisdn"]].astype("int64").isin(truth["heavy_users"])
    users = named.assign(heavy=heavy).groupby(RAW["msisdn"]).agg(
        heavy=("heavy", "first"), sessions=(RAW["duration_ms"], "size"))
    assert 0.01 < users["heavy"].mean() < 0.02  # the segment: 1.5% of the named users
    assert users.loc[users["heavy"], "sessions"].mean() > 3 * users["sessions"].mean()
    for column in ("duration_ms", "total_dl_bytes"):
        assert named.loc[heavy, RAW[column]].median() > 1.2 * named.loc[~heavy, RAW[column]].median()


def test_congested_cells_have_high_latency_and_low_throughput_worse_at_busy_hours(planted):
    frame, truth = planted
    severe = {c["cell"] for c in truth["congested_cells"][:10]}
    congested = frame[RAW["last_location_name"]].isin(severe)
    busy = frame[RAW["end_time"]].dt.hour.isin(BUSY_HOURS)
    rtt = frame[RAW["avg_rtt_dl_ms"]]
    tp = frame[RAW["avg_bearer_tp_dl_kbps"]]
    assert congested.sum() > 50
    assert rtt[congested & busy].median() > rtt[congested & ~busy].median() > 2 * rtt[~congested].median()
    assert tp[congested].median() < tp[~congested].median()


def test_handset_capability_moves_throughput(planted):
    frame, truth = planted
    level = {h["handset"]: h["capability"] for h in truth["handsets"]}
    handset = frame[RAW["handset_type"]]
    capability = handset.map(level)
    tp = frame[RAW["avg_bearer_tp_dl_kbps"]]
    assert tp[capability > 1.0].median() > 10 * tp[capability < -0.5].median()
    # the published extremes (tellco_data_facts.md 9.12) sit at the ends of the classes
    assert device_class("Huawei B528S-23A")[0] == device_class("Zyxel Communicat. Sbg3600")[0] \
        == "router"
    assert device_class("Quectel Wireless. Quectel Ec25-E")[0] == device_class("Wct Uno")[0] \
        == "module"


def test_truth_is_deterministic_and_lists_what_was_planted(planted):
    _, truth = planted
    again = generate_frame_and_truth(ROWS, seed=5)[1]
    assert truth == again
    assert truth["structure"] == "planted" and truth["rows"] == ROWS and truth["seed"] == 5
    severity = [c["severity"] for c in truth["congested_cells"]]
    assert severity == sorted(severity, reverse=True) and len(severity) == 30
    assert len(truth["handsets"]) == 1396 and len(truth["heavy_users"]) > 0
    none = generate_frame_and_truth(500, seed=5, structure="none")[1]
    assert none["structure"] == "none" and none["heavy_users"] == none["congested_cells"] == []


def test_cli_writes_the_extract_and_its_truth(tmp_path):
    out, truth = tmp_path / "x.parquet", tmp_path / "truth.json"
    result = CliRunner().invoke(app, ["generate", "--rows", "3000", "--seed", "4", "--out",
                                      str(out), "--truth", str(truth), "--quiet"])
    assert result.exit_code == 0, result.output
    record = read_truth(truth)
    assert record["rows"] == 3000 and record["structure"] == "planted"
    msisdn = set(pd.read_parquet(out)[RAW["msisdn"]].dropna().astype("int64"))
    assert set(record["heavy_users"]) <= msisdn
    json.loads(truth.read_text())  # plain JSON


def test_chunks_and_threads_keep_the_truth_and_the_file(tmp_path):
    files = [write_extract(tmp_path / f"{n}.parquet", 3100, seed=4, chunk_rows=700, threads=n,
                           truth=tmp_path / f"{n}.json") for n in (1, 2)]
    assert files[0].read_bytes() == files[1].read_bytes()
    assert read_truth(tmp_path / "1.json") == read_truth(tmp_path / "2.json")


def test_structure_none_is_the_independent_generator_byte_for_byte(tmp_path):
    path = write_extract(tmp_path / "x.csv", 2500, seed=3, chunk_rows=1000, structure="none")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == INDEPENDENT_CSV_SHA256


def test_an_unknown_structure_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="structure"):
        write_extract(tmp_path / "x.csv", 100, structure="random")
    assert list(tmp_path.iterdir()) == []
