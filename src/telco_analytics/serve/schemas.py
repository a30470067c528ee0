"""Request and response bodies of the satisfaction API (pydantic).

A customer is described by the six raw per-user metrics the regression was trained on (the
regression's FEATURES: engagement sessions, duration_ms, total_bytes; experience
tcp_retrans_bytes, rtt_ms, throughput_kbps), in the units of the run's tables. Unknown
fields are refused (a typo must not silently become a default), numbers must be finite and
non-negative, and text is never coerced into numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag

MAX_BATCH = 10_000  # customers per request: bounds the memory and time of one request

_NUMBER = {"allow_inf_nan": False, "strict": True}


class CustomerFeatures(BaseModel):
    """One customer's aggregated usage over the analysis period."""

    model_config = ConfigDict(extra="forbid")

    sessions: float = Field(ge=1, multiple_of=1, **_NUMBER,
                            description="Number of data sessions (xDR records), a whole number >= 1")
    duration_ms: float = Field(ge=0, **_NUMBER, description="Total session duration (ms)")
    total_bytes: float = Field(ge=0, **_NUMBER, description="Total volume DL + UL (bytes)")
    tcp_retrans_bytes: float = Field(ge=0, **_NUMBER,
                                     description="Mean TCP retransmitted volume per session (bytes)")
    rtt_ms: float = Field(ge=0, **_NUMBER, description="Mean round-trip time (ms)")
    throughput_kbps: float = Field(ge=0, **_NUMBER, description="Mean throughput (kbps)")
    customer_ref: str | None = Field(
        default=None, max_length=128,
        description="Optional opaque reference of the caller, echoed back in the response; "
        "never stored or logged (do not send a phone number if you can avoid it)",
    )


class CustomerBatch(BaseModel):
    """Several customers scored in one request (at most MAX_BATCH)."""

    model_config = ConfigDict(extra="forbid")

    customers: list[CustomerFeatures] = Field(min_length=1, max_length=MAX_BATCH)


def _request_kind(value: Any) -> str:
    """A body with a `customers` list is a batch; anything else is validated as one customer."""
    if isinstance(value, dict) and "customers" in value:
        return "batch"
    if isinstance(value, CustomerBatch):
        return "batch"
    return "single"


# One endpoint, two shapes. The callable discriminator picks the shape first, so a bad payload
# gets the errors of the shape it was meant to be, not of both (a RootModel keeps the
# discriminator, which FastAPI drops from a bare Annotated union body).
class PredictRequest(RootModel):
    """Body of POST /predict: one customer, or {"customers": [...]}."""

    root: Annotated[
        Annotated[CustomerFeatures, Tag("single")] | Annotated[CustomerBatch, Tag("batch")],
        Discriminator(_request_kind),
    ]

    def customers(self) -> list[CustomerFeatures]:
        """The customers of the request, in order."""
        return self.root.customers if isinstance(self.root, CustomerBatch) else [self.root]


class Prediction(BaseModel):
    satisfaction_score: float = Field(description="Predicted satisfaction score (z-units)")
    customer_ref: str | None = None


class PredictResponse(BaseModel):
    """Predictions in request order, with the model version that made them; request_id is
    the key of the request in the monitoring log."""

    model_name: str | None
    model_version: str | None
    request_id: str
    predictions: list[Prediction]


class ModelInfo(BaseModel):
    name: str | None
    version: str | None
    run_id: str | None
    model_uri: str
    features: list[str]
    metrics: dict[str, float]


class Health(BaseModel):
    status: str  # "ok", or "degraded" once a prediction could not be logged
    model_name: str | None
    model_version: str | None
    prediction_log_failures: int = Field(
        0, description="Predictions served but not written to the monitoring log")
    prediction_log_error: str | None = Field(
        None, description="Kind of the last logging error (never its text)")
