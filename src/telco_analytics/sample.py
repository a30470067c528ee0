"""The built-in sample: the calibrated synthetic extract, generated on first use and cached."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_ROWS = 150_000
SAMPLE_SEED = 0


def cache_dir() -> Path:
    """TELCO_CACHE_DIR, else ~/.cache/telco-analytics."""
    env = os.environ.get("TELCO_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "telco-analytics"


def sample_path(rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> Path:
    """Path of the built-in sample (raw column names, as Parquet), generating it if needed."""
    from .synth import write_extract

    # Parquet: read lazily and column by column, several times faster than re-parsing text
    path = cache_dir() / f"tellco_sample_{rows}_seed{seed}.parquet"
    if not path.exists():
        log.info("generating the built-in sample (%d rows, seed %d) into %s", rows, seed, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_extract(path, rows, seed)
    return path
