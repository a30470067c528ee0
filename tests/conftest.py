from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_ROWS = ROOT / "tests" / "data" / "tellco_real_rows.csv"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep generated samples and MLflow stores out of the user's folders."""
    cache = tmp_path_factory.getbasetemp() / "telco-cache"
    monkeypatch.setenv("TELCO_CACHE_DIR", str(cache))
    yield


@pytest.fixture
def real_rows() -> Path:
    return REAL_ROWS


@pytest.fixture
def con():
    from telco_analytics import engine

    c = engine.connect()
    yield c
    c.disconnect()
