"""Model monitoring: the log of served predictions, and input drift against the training data.

The satisfaction model was trained on one population of users; if the customers it is asked
about start to look different (heavier users, a network with longer round trips), its scores
stop meaning the same thing. The server appends every request's inputs and prediction to a
prediction log (SQLite, no subscriber identifiers); `drift_report` compares those inputs with
the training users, feature by feature, with the population stability index (PSI) and a
two-sample Kolmogorov-Smirnov test.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .errors import InputError
from .models.regression import FEATURES

log = logging.getLogger(__name__)

STORE_ENV = "TELCO_MONITORING_DIR"
DEFAULT_STORE = Path("telco-monitoring")
LOG_FILE = "predictions.sqlite"
TABLE = "predictions"
PSI_BINS = 10  # deciles of the reference
PSI_FLOOR = 1e-4  # share given to an empty bin, so one empty bin does not make PSI infinite
PSI_THRESHOLD = 0.2  # the usual rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 shifted
KS_ALPHA = 0.01
REPORT_COLUMNS = ["feature", "psi", "ks_statistic", "ks_pvalue", "drift", "psi_drift",
                  "ks_drift", "reference_mean", "current_mean", "n_reference", "n_current"]


def default_store() -> Path:
    """The prediction log folder: $TELCO_MONITORING_DIR, else ./telco-monitoring."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def log_file(store: Path | str) -> Path:
    """The SQLite file of a store given as a folder (the usual case) or as the file itself."""
    store = Path(store)
    return store if store.suffix in (".sqlite", ".db") else store / LOG_FILE


def _check_names(names: Sequence[str]) -> None:
    # feature names become SQL column names: accept plain identifiers only
    bad = [n for n in names if not re.fullmatch(r"[a-z_][a-z0-9_]*", n)]
    if bad:
        raise ValueError(f"not usable as column names: {bad}")


class PredictionLog:
    """Append-only log of served predictions: request id, time, model version, the inputs and
    the prediction. Never holds a subscriber identifier (callers' references are not stored).

    One connection shared by the server's worker threads behind a lock; WAL journal with
    synchronous=NORMAL so an insert does not wait for a disk flush (a crash may lose the last
    few rows of the log, never corrupt it).
    """

    def __init__(self, store: Path | str, features: Sequence[str] = FEATURES) -> None:
        self.path = log_file(store)
        self.features = list(features)
        _check_names(self.features)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        columns = ", ".join(f"{f} REAL NOT NULL" for f in self.features)
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, request_id TEXT, "
            f"row INTEGER, logged_at TEXT, model_name TEXT, model_version TEXT, {columns}, "
            "prediction REAL)"
        )
        self._con.commit()
        self._insert = (
            f"INSERT INTO {TABLE} (request_id, row, logged_at, model_name, model_version, "
            f"{', '.join(self.features)}, prediction) VALUES "
            f"({', '.join(['?'] * (6 + len(self.features)))})"
        )

    def append(self, inputs: pd.DataFrame, predictions: Sequence[float], *, request_id: str,
               model_name: str | None, model_version: str | None) -> None:
        """Record one request: one row per customer scored (inputs in FEATURES order)."""
        now = dt.datetime.now(dt.UTC).isoformat()
        values = inputs[self.features].to_numpy(dtype="float64").tolist()
        rows = [(request_id, i, now, model_name, model_version, *x, float(p))
                for i, (x, p) in enumerate(zip(values, predictions, strict=True))]
        with self._lock:
            self._con.executemany(self._insert, rows)
            self._con.commit()

    def close(self) -> None:
        with self._lock:
            self._con.close()


def load_logged_inputs(store: Path | str) -> pd.DataFrame:
    """Every logged prediction (request_id, row, logged_at, model_name, model_version, the
    features, prediction); an empty table when nothing was logged yet."""
    path = log_file(store)
    if not path.exists():
        return pd.DataFrame(columns=["request_id", "row", "logged_at", "model_name",
                                     "model_version", *FEATURES, "prediction"])
    with sqlite3.connect(path) as con:
        exists = con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name=?",
                             (TABLE,)).fetchone()
        if not exists:
            return pd.DataFrame(columns=["request_id", "row", "logged_at", "model_name",
                                         "model_version", *FEATURES, "prediction"])
        return pd.read_sql_query(f"SELECT * FROM {TABLE} ORDER BY id", con).drop(columns="id")


def reference_features(engagement_users: pd.DataFrame, experience_users: pd.DataFrame,
                       features: Sequence[str] = FEATURES) -> pd.DataFrame:
    """The training population: one row per user with the model's raw features (the run's
    engagement_users and experience_users joined on msisdn; the msisdn is dropped)."""
    key = schema.USER_KEY
    eng = engagement_users[[key, *schema.ENGAGEMENT_METRICS]]
    exp = experience_users[[key, *schema.EXPERIENCE_METRICS]]
    users = eng.merge(exp, on=key, how="inner")
    return users[list(features)].astype("float64").reset_index(drop=True)


def population_stability_index(reference: np.ndarray, current: np.ndarray,
                               bins: int = PSI_BINS) -> float:
    """PSI = sum over bins of (current share - reference share) * ln(current / reference).

    Bins are the reference's quantiles (deciles by default; tied quantiles merge bins), open
    at both ends so every current value falls in one. Empty bins count as PSI_FLOOR.
    """
    reference = np.asarray(reference, dtype="float64")
    current = np.asarray(current, dtype="float64")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    # bin i holds values in (edges[i-1], edges[i]]: searchsorted "left" counts edges < x
    ref_share = np.bincount(np.searchsorted(edges, reference, side="left"),
                            minlength=len(edges) + 1) / len(reference)
    cur_share = np.bincount(np.searchsorted(edges, current, side="left"),
                            minlength=len(edges) + 1) / len(current)
    ref_share = np.maximum(ref_share, PSI_FLOOR)
    cur_share = np.maximum(cur_share, PSI_FLOOR)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, features: list[str],
                 psi_threshold: float = PSI_THRESHOLD, ks_alpha: float = KS_ALPHA) -> pd.DataFrame:
    """Per feature: PSI, KS statistic and p-value, means and counts, and the verdict.

    drift is True when PSI >= psi_threshold (the distribution moved materially) or the KS test
    rejects "same distribution" at level ks_alpha; psi_drift and ks_drift say which. Missing
    values are left out of both samples.
    """
    from scipy.stats import ks_2samp

    missing = [f for f in features if f not in reference or f not in current]
    if missing:
        raise InputError(f"drift report: features {missing} missing from the reference or "
                         "the logged inputs")
    rows = []
    for feature in features:
        ref = reference[feature].dropna().to_numpy(dtype="float64")
        cur = current[feature].dropna().to_numpy(dtype="float64")
        if len(ref) == 0 or len(cur) == 0:
            raise InputError(f"drift report: no values of {feature} in the "
                             f"{'reference' if len(ref) == 0 else 'logged inputs'}")
        psi = population_stability_index(ref, cur)
        ks = ks_2samp(ref, cur)
        psi_drift = psi >= psi_threshold
        ks_drift = bool(ks.pvalue < ks_alpha)
        rows.append({
            "feature": feature, "psi": psi, "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue), "drift": bool(psi_drift or ks_drift),
            "psi_drift": bool(psi_drift), "ks_drift": ks_drift,
            "reference_mean": float(ref.mean()), "current_mean": float(cur.mean()),
            "n_reference": len(ref), "n_current": len(cur),
        })
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


# fewer logged predictions than this and the drift statistics are noise
MIN_PREDICTIONS = 30


def monitor(store: Path | str, reference: pd.DataFrame, out_dir: Path,
            features: list[str] | None = None, psi_threshold: float = PSI_THRESHOLD,
            ks_alpha: float = KS_ALPHA,
            min_predictions: int = MIN_PREDICTIONS) -> pd.DataFrame:
    """Compare the logged (served) inputs with the training users; write out_dir/
    drift_report.csv and drift_report.png; return the report."""
    from .report.figures.tracking import drift_chart
    from .report.render import save_png

    features = list(features or FEATURES)
    current = load_logged_inputs(store)
    if len(current) < min_predictions:
        # a handful of requests says nothing about a distribution (one request "drifts" on
        # every feature): ask for more rather than raise a false alarm
        raise InputError(f"{len(current)} prediction(s) logged in {log_file(store)}; the drift "
                         f"report needs at least {min_predictions}: serve more requests first "
                         "(telco serve), or pass --store")
    report = drift_report(reference, current, features, psi_threshold, ks_alpha)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report.to_csv(out_dir / "drift_report.csv", index=False)
    save_png(drift_chart(report, psi_threshold), out_dir / "drift_report.png")
    drifted = report.loc[report["drift"], "feature"].tolist()
    log.info("drift report over %d logged predictions: %s", len(current),
             f"drift in {', '.join(drifted)}" if drifted else "no drift")
    return report

