"""HTTP API serving the registered satisfaction model (FastAPI).

Thin shell: the model comes from the MLflow registry through `tracking`, request bodies are
validated by `schemas`, and every prediction goes to the monitoring log. Endpoints:

- GET /health   liveness and the served model version
- GET /model    registered name, version, run id, training metrics
- POST /predict one customer (an object of the six features) or a batch ({"customers": [...]})
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import ThreadpoolController

from ..models.regression import FEATURES
from ..monitoring import PredictionLog, default_store
from .batching import ScoringBatch
from .schemas import (
    CustomerFeatures,
    Health,
    ModelInfo,
    Prediction,
    PredictRequest,
    PredictResponse,
)

log = logging.getLogger(__name__)

DEFAULT_MODEL_URI = "models:/telco-satisfaction/latest"


def _error_summary(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors without the offending input (it may hold the caller's reference)."""
    out = []
    for e in errors:
        # drop the union tag pydantic inserts ("single"/"batch") so the path reads naturally
        loc = [str(p) for p in e.get("loc", ()) if p not in ("single", "batch", "root")]
        if e.get("type") == "json_invalid":  # loc holds a character position, not a field
            loc = []
        out.append({"field": ".".join(loc[1:] if loc and loc[0] == "body" else loc),
                    "message": e.get("msg", ""), "type": e.get("type", "")})
    return out


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = _error_summary(list(exc.errors()))
    text = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details)
    return JSONResponse(status_code=422,
                        content={"error": f"invalid request: {text}", "detail": details})


async def _unparsable_body(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """A body FastAPI could not even decode (not UTF-8, ...) is as invalid as a malformed one:
    422 like every other bad request; other HTTP errors keep their status."""
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return JSONResponse(status_code=422, content={
            "error": "invalid request: body: not valid JSON text",
            "detail": [{"field": "", "message": "not valid JSON text", "type": "json_invalid"}]})
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                        headers=getattr(exc, "headers", None))


def create_app(model_uri: str = DEFAULT_MODEL_URI, tracking_uri: str | None = None,
               monitor_store: Path | None = None) -> FastAPI:
    """The API over one registered model version (resolved and loaded now, so a missing model
    fails at start-up, not at the first request). Predictions are logged to monitor_store
    (default $TELCO_MONITORING_DIR or ./telco-monitoring)."""
    from ..tracking import load_registered_model

    served = load_registered_model(model_uri, tracking_uri)
    features = served.features or list(FEATURES)
    if sorted(features) != sorted(FEATURES):
        log.warning("served model expects %s, the API sends %s", features, FEATURES)
    store = PredictionLog(monitor_store or default_store(), FEATURES)
    # One OpenMP thread per scoring call: scoring a few rows with two spinning OpenMP threads
    # took 40+ ms instead of ~1.5 ms on a shared 2-core machine. The controller caches the
    # library scan that makes threadpool_limits() itself cost ~5 ms.
    threads = ThreadpoolController()
    log.info("serving %s (run %s); logging predictions to %s", served.model_uri,
             served.run_id, store.path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()  # flush the log when the server stops

    app = FastAPI(title="telco-analytics satisfaction API", lifespan=lifespan,
                  description="Predicts a customer's satisfaction score from usage metrics.",
                  version=served.version or "unversioned")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _unparsable_body)
    app.state.model = served
    app.state.prediction_log = store

    failures = LogFailures()
    app.state.prediction_log_failures = failures

    @app.get("/health", response_model=Health)
    def health() -> Health:
        # predictions are still served when their log cannot be written, but never silently:
        # the count says how many went unlogged (monitoring's drift report misses them)
        return Health(status="ok" if not failures.count else "degraded",
                      model_name=served.name, model_version=served.version,
                      prediction_log_failures=failures.count,
                      prediction_log_error=failures.last)

    @app.get("/model", response_model=ModelInfo)
    def model_info() -> ModelInfo:
        return ModelInfo(name=served.name, version=served.version, run_id=served.run_id,
                         model_uri=served.model_uri, features=features,
                         metrics=served.metrics)

    def score(rows: np.ndarray) -> np.ndarray:
        with threads.limit(limits=1, user_api="openmp"):
            return served.model.predict(pd.DataFrame(rows, columns=features))

    batch = ScoringBatch(score)
    app.state.scoring_batch = batch

    @app.post("/predict", response_model=PredictResponse)
    async def predict(body: PredictRequest) -> PredictResponse:
        customers = body.customers()
        rows = _feature_rows(customers, features)
        scores = await batch.scores(rows)
        frame = pd.DataFrame(rows, columns=features)
        request_id = uuid.uuid4().hex
        try:
            store.append(frame, scores, request_id=request_id, model_name=served.name,
                         model_version=served.version)
        except Exception as exc:  # noqa: BLE001 - a full disk must not stop the scoring
            failures.add(exc)
            log.error("could not log request %s to the monitoring store %s (%d unlogged so "
                      "far): %s", request_id, store.path, failures.count,
                      type(exc).__name__)
        return PredictResponse(
            model_name=served.name, model_version=served.version, request_id=request_id,
            predictions=[Prediction(satisfaction_score=s, customer_ref=c.customer_ref)
                         for s, c in zip(scores, customers, strict=True)],
        )

    return app


class LogFailures:
    """Predictions that could not be logged: a count (and the last error's kind) for /health.
    Requests run on a thread pool: the count is kept under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.last: str | None = None

    def add(self, exc: BaseException) -> None:
        with self._lock:
            self.count += 1
            # the kind of error only: a message might quote the logged row
            self.last = type(exc).__name__


def _feature_rows(customers: list[CustomerFeatures], features: list[str]) -> np.ndarray:
    """The model's input: one float row per customer, columns in the order it was fitted on."""
    return np.array([[getattr(c, f) for f in features] for c in customers], dtype="float64")


def serve(model_uri: str = DEFAULT_MODEL_URI, host: str = "127.0.0.1", port: int = 8000,
          tracking_uri: str | None = None, monitor_store: Path | None = None,
          log_level: str = "info") -> None:
    """Run the API with uvicorn until interrupted (what `telco serve` calls)."""
    import uvicorn

    app = create_app(model_uri, tracking_uri, monitor_store)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
