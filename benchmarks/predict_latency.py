"""Latency of single-customer /predict requests over real HTTP: prints p50/p90/p99 in ms.

    python benchmarks/predict_latency.py                       # throwaway model and server
    python benchmarks/predict_latency.py --tracking-uri sqlite:///mlflow.db   # your model
    python benchmarks/predict_latency.py --url http://127.0.0.1:8000          # a running server

Without --url the script starts `serve()` in a uvicorn subprocess on a free port (its
monitoring log goes to a temporary folder). Without --tracking-uri it first registers a small
gradient-boosting model fitted on random data in a temporary SQLite store, so the numbers
measure the serving stack, not a particular model. Requests are sent one after the other on
one keep-alive connection, each with different feature values.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from telco_analytics.models.regression import FEATURES


def demo_store(folder: Path) -> str:
    """A SQLite tracking store holding one registered satisfaction model (random data)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from telco_analytics import tracking

    rng = np.random.default_rng(0)
    users = pd.DataFrame(rng.gamma(2.0, 100.0, (5000, len(FEATURES))), columns=FEATURES)
    y = users.sum(axis=1).to_numpy() / 100
    model = HistGradientBoostingRegressor(max_iter=200, early_stopping=False,
                                          random_state=0).fit(users, y)
    users.insert(0, "msisdn", [f"u{i}" for i in range(len(users))])
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    tracking.log_run(
        tracking_uri=uri, out_dir=folder / "run", manifest={"parameters": {"demo": True}},
        tables={"engagement_users": users[["msisdn", *FEATURES[:3]]],
                "experience_users": users[["msisdn", *FEATURES[3:]]]},
        models={}, metrics={}, loss_curve=pd.DataFrame(columns=["iteration"]),
        features=list(FEATURES), regression_model=model, experiment="latency-benchmark")
    return uri


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_uri: str, tracking_uri: str, folder: Path) -> tuple[subprocess.Popen, str]:
    """`serve()` in a subprocess; returns it and its URL once /health answers."""
    port = free_port()
    code = ("import sys; from pathlib import Path; from telco_analytics.serve.app import serve; "
            "serve(sys.argv[1], '127.0.0.1', int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]),"
            " 'warning')")
    proc = subprocess.Popen([sys.executable, "-c", code, model_uri, str(port), tracking_uri,
                             str(folder / "monitoring")])
    return proc, wait_for_health(proc, f"http://127.0.0.1:{port}", 120, "server")


def wait_for_health(proc: subprocess.Popen, url: str, seconds: float, what: str) -> str:
    """url once the server started as proc answers /health; one line and exit if it dies or
    does not answer within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"{what} did not answer /health within {seconds:g} s")


def payloads(n: int, seed: int = 1) -> list[dict]:
    """n plausible single customers (different values each, so nothing is cached)."""
    rng = np.random.default_rng(seed)
    return [{
        "sessions": int(rng.integers(1, 20)),
        "duration_ms": float(rng.gamma(2.0, 1e6)),
        "total_bytes": float(rng.lognormal(20, 1)),
        "tcp_retrans_bytes": float(rng.lognormal(12, 2)),
        "rtt_ms": float(rng.gamma(3.0, 20.0)),
        "throughput_kbps": float(rng.gamma(2.0, 3000.0)),
    } for _ in range(n)]


def measure(url: str, n: int, warmup: int) -> np.ndarray:
    """Milliseconds per request, client side (send, server work, receive)."""
    bodies = payloads(n + warmup)
    times = np.empty(n)
    with httpx.Client(base_url=url, timeout=30) as http:
        for body in bodies[:warmup]:
            http.post("/predict", json=body).raise_for_status()
        for i, body in enumerate(bodies[warmup:]):
            t0 = time.perf_counter()
            http.post("/predict", json=body).raise_for_status()
            times[i] = (time.perf_counter() - t0) * 1000
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="target a running server instead of starting one")
    parser.add_argument("--model-uri", default="models:/telco-satisfaction/latest")
    parser.add_argument("--tracking-uri", help="store with the registered model "
                        "(default: a throwaway store with a demo model)")
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()

    proc = None
    with tempfile.TemporaryDirectory(prefix="telco-latency-") as tmp:
        folder = Path(tmp)
        url = args.url
        model_uri = args.model_uri
        if url is None:
            tracking_uri = args.tracking_uri
            if tracking_uri is None:
                tracking_uri = demo_store(folder)
                model_uri = "models:/telco-satisfaction/latest"
            proc, url = start_server(model_uri, tracking_uri, folder)
        try:
            ms = measure(url, args.requests, args.warmup)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
    result = {
        "requests": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p90_ms": round(float(np.percentile(ms, 90)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
        "requests_per_s": round(float(1000 / ms.mean()), 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"/predict single customer, {result['requests']} sequential requests: "
              f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms "
              f"(mean {result['mean_ms']} ms, max {result['max_ms']} ms, "
              f"{result['requests_per_s']} req/s)")


if __name__ == "__main__":
    main()
