"""Monitoring: PSI by hand, drift flagged only when the data moved, the prediction log."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

from telco_analytics import monitoring
from telco_analytics.errors import InputError
from telco_analytics.models.regression import FEATURES


def test_psi_is_zero_for_the_same_sample():
    values = np.arange(100.0)
    assert monitoring.population_stability_index(values, values) == pytest.approx(0.0)


def test_psi_by_hand_when_everything_falls_in_the_top_decile():
    reference = np.arange(100.0)  # decile edges at 9.9, 19.8, ...: ten bins of 10 values
    current = np.full(50, 1000.0)  # all in the open top bin
    # top bin: (1 - 0.1) ln(1 / 0.1); nine empty bins floored at 1e-4
    expected = 0.9 * math.log(10) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert monitoring.population_stability_index(reference, current) == pytest.approx(expected)


def test_psi_with_tied_reference_values_merges_bins():
    reference = np.array([1.0] * 80 + [2.0] * 20)  # nine deciles collapse to edges {1, 1.2, 2}
    current = np.array([1.0] * 40 + [2.0] * 60)
    # values 1 fall in (-inf, 1], values 2 in (1.2, 2]: reference .8/.2, current .4/.6; the
    # bins empty on both sides add (floor - floor) * ln(1) = 0
    expected = (0.4 - 0.8) * math.log(0.4 / 0.8) + (0.6 - 0.2) * math.log(0.6 / 0.2)
    assert monitoring.population_stability_index(reference, current) == pytest.approx(expected)


def _population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "sessions": rng.integers(1, 30, n).astype(float),
        "duration_ms": rng.gamma(2.0, 5e5, n),
        "total_bytes": rng.lognormal(20, 1, n),
        "tcp_retrans_bytes": rng.lognormal(12, 2, n),
        "rtt_ms": rng.gamma(3.0, 20.0, n),
        "throughput_kbps": rng.gamma(2.0, 3000.0, n),
    })


def test_drift_report_flags_shifted_features_only():
    rng = np.random.default_rng(7)
    reference = _population(rng, 5000)
    current = _population(rng, 600)
    current["rtt_ms"] = current["rtt_ms"] * 2.0  # the network got slower
    current["sessions"] = current["sessions"] + 10  # and users more active
    report = monitoring.drift_report(reference, current, FEATURES)
    assert report["feature"].tolist() == FEATURES
    flagged = set(report.loc[report["drift"], "feature"])
    assert flagged == {"rtt_ms", "sessions"}
    rtt = report.set_index("feature").loc["rtt_ms"]
    assert rtt["psi"] > 0.2 and rtt["ks_pvalue"] < 0.01
    assert rtt["current_mean"] == pytest.approx(current["rtt_ms"].mean())
    assert rtt["n_reference"] == 5000 and rtt["n_current"] == 600


def test_drift_report_does_not_flag_the_same_distribution():
    rng = np.random.default_rng(11)
    report = monitoring.drift_report(_population(rng, 5000), _population(rng, 600), FEATURES)
    assert not report["drift"].any(), report
    assert (report["psi"] < 0.1).all()


def test_drift_report_names_missing_features():
    ref = pd.DataFrame({"rtt_ms": [1.0, 2.0]})
    with pytest.raises(InputError, match="throughput_kbps"):
        monitoring.drift_report(ref, ref, ["rtt_ms", "throughput_kbps"])


def test_prediction_log_round_trip_without_identifiers(tmp_path):
    store = monitoring.PredictionLog(tmp_path / "mon")
    inputs = pd.DataFrame([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]], columns=FEATURES)
    store.append(inputs, [0.5, 1.5], request_id="r1", model_name="m", model_version="3")
    store.append(inputs.iloc[:1], [2.5], request_id="r2", model_name="m", model_version="3")
    store.close()
    logged = monitoring.load_logged_inputs(tmp_path / "mon")
    assert logged["request_id"].tolist() == ["r1", "r1", "r2"]
    assert logged["row"].tolist() == [0, 1, 0]
    assert logged["prediction"].tolist() == [0.5, 1.5, 2.5]
    assert logged["rtt_ms"].tolist() == [5.0, 11.0, 5.0]
    assert (logged["model_version"] == "3").all()
    assert not {"msisdn", "imsi", "imei", "customer_ref"} & set(logged.columns)
    # the file is also readable as the store itself
    assert len(monitoring.load_logged_inputs(tmp_path / "mon" / "predictions.sqlite")) == 3


def test_empty_store_reads_as_empty_and_monitor_refuses_it(tmp_path):
    assert monitoring.load_logged_inputs(tmp_path / "none").empty
    with pytest.raises(InputError, match="0 prediction"):
        monitoring.monitor(tmp_path / "none", pd.DataFrame(columns=FEATURES), tmp_path / "out")


def test_too_few_predictions_are_refused_not_flagged(tmp_path):
    rng = np.random.default_rng(4)
    store = monitoring.PredictionLog(tmp_path / "mon")
    few = _population(rng, 5)
    store.append(few, np.zeros(len(few)), request_id="r", model_name="m", model_version="1")
    store.close()
    with pytest.raises(InputError, match="needs at least 30"):
        monitoring.monitor(tmp_path / "mon", _population(rng, 500), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_reference_features_join_the_two_user_tables():
    eng = pd.DataFrame({"msisdn": ["b", "a"], "sessions": [2, 1], "duration_ms": [20.0, 10.0],
                        "total_bytes": [200.0, 100.0], "cluster": [1, 0]})
    exp = pd.DataFrame({"msisdn": ["a", "b", "c"], "tcp_retrans_bytes": [1.0, 2.0, 3.0],
                        "rtt_ms": [10.0, 20.0, 30.0], "throughput_kbps": [5.0, 6.0, 7.0],
                        "handset": ["x", "y", "z"]})
    ref = monitoring.reference_features(eng, exp)
    assert list(ref.columns) == FEATURES
    assert ref.sort_values("sessions")["rtt_ms"].tolist() == [10.0, 20.0]


def test_monitor_writes_csv_and_chart(tmp_path):
    rng = np.random.default_rng(3)
    reference = _population(rng, 2000)
    current = _population(rng, 200)
    current["throughput_kbps"] /= 4
    store = monitoring.PredictionLog(tmp_path / "mon")
    store.append(current, np.zeros(len(current)), request_id="r", model_name="m",
                 model_version="1")
    store.close()
    report = monitoring.monitor(tmp_path / "mon", reference, tmp_path / "out")
    assert report.loc[report["drift"], "feature"].tolist() == ["throughput_kbps"]
    on_disk = pd.read_csv(tmp_path / "out" / "drift_report.csv")
    assert on_disk["feature"].tolist() == FEATURES
    png = (tmp_path / "out" / "drift_report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_log_columns_are_plain_identifiers(tmp_path):
    with pytest.raises(ValueError, match="column names"):
        monitoring.PredictionLog(tmp_path / "x", ["rtt_ms; DROP TABLE predictions"])
    path = tmp_path / "y" / "predictions.sqlite"
    monitoring.PredictionLog(tmp_path / "y").close()
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(predictions)")]
    assert cols[-7:] == [*FEATURES, "prediction"]
