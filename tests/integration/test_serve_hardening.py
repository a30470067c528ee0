"""The API against what callers really send: malformed bodies of every shape (Hypothesis) get
422, never 500; a prediction that cannot be logged is counted and shown by /health."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telco_analytics.models.regression import FEATURES

from .test_serve import CUSTOMERS, REF, served  # noqa: F401 - the module's fixture

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12)
# a customer with some of its fields changed to anything JSON can hold, or dropped
FIELD_VALUE = st.one_of(JSON, st.sampled_from([-1, -1e308, 1e308, 10**400, "1e3", "", 2.5]))


@st.composite
def damaged_customer(draw) -> dict:
    customer = dict(CUSTOMERS[0])
    for name in draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            customer[name] = draw(FIELD_VALUE)
        else:
            del customer[name]
    return customer


BODIES = st.one_of(
    JSON,
    damaged_customer(),
    st.builds(lambda cs: {"customers": cs}, st.lists(damaged_customer(), min_size=1, max_size=3)),
    st.builds(lambda extra: {**CUSTOMERS[0], **extra},
              st.dictionaries(st.text(min_size=1, max_size=8).filter(
                  lambda k: k not in FEATURES and k != "customer_ref"), JSON,
                  min_size=1, max_size=2)),
)


def _is_valid(body) -> bool:
    """A body the schema accepts (the few damaged ones that happen to be valid still)."""
    from pydantic import ValidationError

    from telco_analytics.serve.schemas import PredictRequest

    try:
        PredictRequest.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def module_client(served, tmp_path_factory):  # noqa: F811
    from telco_analytics.serve.app import create_app

    app = create_app(tracking_uri=served["store"],
                     monitor_store=tmp_path_factory.mktemp("monitoring"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES)
def test_malformed_bodies_get_422_never_500(module_client, body):
    response = module_client.post("/predict", content=json.dumps(body, allow_nan=False)
                                  if _jsonable(body) else b"", headers={
                                      "content-type": "application/json"})
    if _jsonable(body) and _is_valid(body):
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"].startswith("invalid request")


def _jsonable(body) -> bool:
    try:
        json.dumps(body, allow_nan=False)
    except (ValueError, OverflowError):
        return False
    return True


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_bytes_that_are_not_json_get_422(module_client, raw):
    try:
        json.loads(raw)
        return  # valid JSON by chance: covered by the test above
    except (ValueError, UnicodeDecodeError):
        pass
    response = module_client.post("/predict", content=raw,
                                  headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_a_prediction_that_cannot_be_logged_is_counted_and_shown(served, tmp_path,  # noqa: F811
                                                                  caplog):
    from telco_analytics.serve.app import create_app

    app = create_app(tracking_uri=served["store"], monitor_store=tmp_path / "monitoring")
    store = app.state.prediction_log

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    store.append = broken
    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        assert client.get("/health").json()["prediction_log_failures"] == 0
        for _ in range(3):
            response = client.post("/predict", json={**CUSTOMERS[0], "customer_ref": REF})
            assert response.status_code == 200  # scoring goes on
        health = client.get("/health").json()
    assert health["prediction_log_failures"] == 3
    assert health["status"] == "degraded"
    assert health["prediction_log_error"] == "OSError"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3 and all("could not log request" in e for e in errors)
    assert not any(REF in e for e in errors)
