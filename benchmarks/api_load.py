"""/predict under load: a fixed request rate for a fixed time against `telco serve`.

    python benchmarks/api_load.py --tracking-uri sqlite:///mlflow.db     # starts `telco serve`
    python benchmarks/api_load.py --url http://127.0.0.1:8000            # a running server
    python benchmarks/api_load.py --rate 200 --seconds 60                # the defaults

An open-loop asyncio client (aiohttp): request i is sent at start + i/rate whether or not the
earlier ones have answered, so a slow server shows up as latency and errors rather than as a
politely lower rate (a closed loop would hide it). Each request is one customer with its own
feature values. Prints the achieved rate, the error count (non-200 answers and transport
errors), latency p50/p90/p99/max, and the server's /health afterwards (its count of
predictions it could not log).

Without --url it starts `telco serve` on a free port with its monitoring log in a temporary
folder, and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predict_latency import free_port, payloads, wait_for_health


def start_telco_serve(model_uri: str, tracking_uri: str, store: Path
                      ) -> tuple[subprocess.Popen, str]:
    """`telco serve` in a subprocess; returns it and its URL once /health answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "telco_analytics.cli", "serve", "--model",
                             model_uri, "--tracking-uri", tracking_uri, "--port", str(port),
                             "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, wait_for_health(proc, f"http://127.0.0.1:{port}", 180, "telco serve")


async def load(url: str, rate: float, seconds: float, timeout: float) -> dict:
    """Send rate*seconds requests on schedule; latencies (ms) of the answered ones, errors."""
    n = int(rate * seconds)
    bodies = payloads(min(n, 5000), seed=7)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    # aiohttp, not httpx: httpx's async client spent ~8 ms of CPU a request here and became
    # the bottleneck at ~60 req/s (the server sat at 30% of a core); aiohttp costs well under 1
    connector = aiohttp.TCPConnector(limit=256)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(base_url=url, connector=connector,
                                     timeout=client_timeout) as http:
        for body in bodies[:20]:  # warm-up: connections, the model's first call
            async with http.post("/predict", json=body) as response:
                await response.read()

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            try:
                async with http.post("/predict", json=bodies[i % len(bodies)]) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
                return
            latencies.append((time.perf_counter() - t0) * 1000)

        start = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        sent_in = time.perf_counter() - start
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        async with http.get("/health") as response:
            health = await response.json()
    ms = np.array(latencies) if latencies else np.array([float("nan")])
    return {
        "target_rate": rate, "seconds": seconds, "requests": n,
        "sent_rate": round(n / sent_in, 1), "achieved_rate": round(len(latencies) / elapsed, 1),
        "ok": len(latencies), "errors": sum(errors.values()), "error_kinds": errors,
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "prediction_log_failures": health.get("prediction_log_failures"),
        "load_average_1min": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="target a running server instead of starting one")
    parser.add_argument("--model-uri", default="models:/telco-satisfaction/latest")
    parser.add_argument("--tracking-uri", help="store with the registered model (needed "
                        "without --url; a `telco run` writes one)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    if args.url is None and args.tracking_uri is None:
        parser.error("give --url of a running server or --tracking-uri of a model store")

    proc = None
    with tempfile.TemporaryDirectory(prefix="telco-load-") as tmp:
        url = args.url
        if url is None:
            proc, url = start_telco_serve(args.model_uri, args.tracking_uri,
                                          Path(tmp) / "monitoring")
        try:
            result = asyncio.run(load(url, args.rate, args.seconds, args.timeout))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    if args.json:
        print(json.dumps(result))
        return
    print(f"/predict at {result['target_rate']:g} req/s for {result['seconds']:g} s "
          f"({result['requests']} requests, sent at {result['sent_rate']} req/s): "
          f"achieved {result['achieved_rate']} req/s, {result['errors']} errors "
          f"{result['error_kinds'] or ''}")
    print(f"latency p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, "
          f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms; "
          f"prediction log failures {result['prediction_log_failures']}; "
          f"load average {result['load_average_1min']}")


if __name__ == "__main__":
    main()
