"""Serving: the API in-process (TestClient) and for real (uvicorn in a subprocess, HTTP)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from telco_analytics.models.regression import FEATURES
from telco_analytics.monitoring import load_logged_inputs
from telco_analytics.serve.schemas import CustomerFeatures

from .test_tracking import build_run, log

REF = "33698765432"  # a phone-number-like caller reference: must never reach a log
CUSTOMERS = [
    {"sessions": 3, "duration_ms": 250000.0, "total_bytes": 5.2e8, "tcp_retrans_bytes": 2e4,
     "rtt_ms": 45.0, "throughput_kbps": 1200.0},
    {"sessions": 17, "duration_ms": 9.1e6, "total_bytes": 3.3e9, "tcp_retrans_bytes": 8e6,
     "rtt_ms": 180.0, "throughput_kbps": 90.0},
    {"sessions": 1, "duration_ms": 0.0, "total_bytes": 0.0, "tcp_retrans_bytes": 0.0,
     "rtt_ms": 0.0, "throughput_kbps": 0.0},
]
BAD = {
    "extra field": ({**CUSTOMERS[0], "msisdn": REF}, "msisdn"),
    "negative value": ({**CUSTOMERS[0], "rtt_ms": -1.0}, "rtt_ms"),
    "missing field": ({k: v for k, v in CUSTOMERS[0].items() if k != "total_bytes"},
                      "total_bytes"),
    "wrong type": ({**CUSTOMERS[0], "throughput_kbps": "fast"}, "throughput_kbps"),
    "number as text": ({**CUSTOMERS[0], "duration_ms": "250000"}, "duration_ms"),
    "fractional sessions": ({**CUSTOMERS[0], "sessions": 2.5}, "sessions"),
    "bad customer in batch": ({"customers": [CUSTOMERS[0], {**CUSTOMERS[1], "rtt_ms": None}]},
                              "customers.1.rtt_ms"),
    "empty batch": ({"customers": []}, "customers"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    store = f"sqlite:///{root / 'mlflow.db'}"
    run = build_run(root / "run", seed=5)
    result = log(store, run)
    return {"store": store, "root": root, "run": run, "result": result}


def expected(served, customers: list[dict]) -> np.ndarray:
    frame = pd.DataFrame(customers)[FEATURES].astype("float64")
    return served["run"]["regression_model"].predict(frame)


@pytest.fixture
def client(served, tmp_path):
    from telco_analytics.serve.app import create_app

    app = create_app(tracking_uri=served["store"], monitor_store=tmp_path / "monitoring")
    with TestClient(app) as c:
        yield c


def test_request_schema_fields_are_the_model_features():
    assert [f for f in CustomerFeatures.model_fields if f != "customer_ref"] == FEATURES


def test_health_and_model_info(client, served):
    assert client.get("/health").json() == {"status": "ok", "model_name": "telco-satisfaction",
                                            "model_version": "1",
                                            "prediction_log_failures": 0,
                                            "prediction_log_error": None}
    info = client.get("/model").json()
    assert info["name"] == "telco-satisfaction" and info["version"] == "1"
    assert info["run_id"] == served["result"]["run_id"]
    assert info["features"] == FEATURES
    table = served["run"]["tables"]["regression_metrics"]
    test_r2 = table.loc[(table["model"] == "hist_gradient_boosting")
                        & (table["split"] == "test"), "r2"].item()
    assert info["metrics"]["test_r2"] == pytest.approx(test_r2)


def test_predict_one_customer(client, served):
    response = client.post("/predict", json={**CUSTOMERS[1], "customer_ref": REF})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == "1"
    [prediction] = body["predictions"]
    assert prediction["satisfaction_score"] == pytest.approx(expected(served, [CUSTOMERS[1]])[0])
    assert prediction["customer_ref"] == REF  # echoed to the caller only


def test_predict_a_batch_in_order(client, served):
    response = client.post("/predict", json={"customers": CUSTOMERS})
    assert response.status_code == 200, response.text
    scores = [p["satisfaction_score"] for p in response.json()["predictions"]]
    np.testing.assert_allclose(scores, expected(served, CUSTOMERS))


@pytest.mark.parametrize("case", list(BAD))
def test_bad_payloads_get_422_naming_the_field(client, case):
    payload, field = BAD[case]
    response = client.post("/predict", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert field in body["error"]
    assert field in [d["field"] for d in body["detail"]]
    assert REF not in response.text  # the rejected input is not echoed back either


def test_non_finite_numbers_get_422(client):
    raw = ('{"sessions": 2, "duration_ms": 1, "total_bytes": Infinity, "tcp_retrans_bytes": 1,'
           ' "rtt_ms": NaN, "throughput_kbps": 1}')
    response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["detail"]} == {"total_bytes", "rtt_ms"}


def test_predictions_are_logged_without_identifiers(client, served, tmp_path, caplog):
    caplog.set_level("DEBUG")
    client.post("/predict", json={**CUSTOMERS[0], "customer_ref": REF})
    client.post("/predict", json={"customers": [{**c, "customer_ref": REF} for c in CUSTOMERS]})
    client.post("/predict", json={**CUSTOMERS[0], "rtt_ms": -5})  # rejected: not logged
    logged = load_logged_inputs(tmp_path / "monitoring")
    assert len(logged) == 1 + len(CUSTOMERS)
    assert logged["request_id"].nunique() == 2
    assert (logged["model_version"] == "1").all()
    np.testing.assert_allclose(logged["prediction"].iloc[1:],
                               expected(served, CUSTOMERS))
    assert logged[FEATURES].iloc[1:].to_numpy().tolist() == pd.DataFrame(
        CUSTOMERS)[FEATURES].astype(float).to_numpy().tolist()
    store_bytes = b"".join(p.read_bytes() for p in (tmp_path / "monitoring").iterdir())
    assert REF.encode() not in store_bytes
    assert REF not in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(served, tmp_path):
    """`serve()` in a real uvicorn subprocess on a free port; waits for /health."""
    port = _free_port()
    log_path = tmp_path / "server.log"
    code = ("import sys; from pathlib import Path; from telco_analytics.serve.app import serve; "
            "serve(sys.argv[1], '127.0.0.1', int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))")
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "models:/telco-satisfaction/latest", str(port),
             served["store"], str(tmp_path / "monitoring")],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not up after 90 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"url": url, "log": log_path, "monitoring": tmp_path / "monitoring"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_real_http_server(server, served):
    url = server["url"]
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/health").json()["model_version"] == "1"
        one = http.post("/predict", json={**CUSTOMERS[0], "customer_ref": REF})
        assert one.status_code == 200
        assert one.json()["predictions"][0]["satisfaction_score"] == pytest.approx(
            expected(served, [CUSTOMERS[0]])[0])
        batch = http.post("/predict", json={"customers": CUSTOMERS})
        np.testing.assert_allclose([p["satisfaction_score"] for p in batch.json()["predictions"]],
                                   expected(served, CUSTOMERS))
        bad = http.post("/predict", json={**CUSTOMERS[0], "imsi": "208201234567890"})
        assert bad.status_code == 422 and "imsi" in bad.json()["error"]
    assert len(load_logged_inputs(server["monitoring"])) == 1 + len(CUSTOMERS)
    assert REF not in server["log"].read_text()
