"""The built-in sample: the calibrated synthetic extract, generated on first use and cached.

Its planted truth (which cells are congested, each handset's capability, the heavy users) is
cached beside it, so that anyone can check what the analyses find against what was put in.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_ROWS = 150_000
SAMPLE_SEED = 0
SAMPLE_STRUCTURE = "planted"
_DIGEST_CHARS = 12  # of the generator's digest in the file name: enough to tell versions apart


def cache_dir() -> Path:
    """TELCO_CACHE_DIR, else ~/.cache/telco-analytics."""
    env = os.environ.get("TELCO_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "telco-analytics"


def _cached(rows: int, seed: int, structure: str) -> tuple[Path, Path]:
    """(extract, truth) paths in the cache: named by size, seed, structure and the generator's
    digest, so a changed generator never serves an old sample."""
    from .synth.fingerprint import generator_digest

    stem = (f"tellco_sample_{rows}_seed{seed}_{structure}_"
            f"{generator_digest()[:_DIGEST_CHARS]}")
    return cache_dir() / f"{stem}.parquet", cache_dir() / f"{stem}.truth.json"


def sample_path(rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED,
                structure: str = SAMPLE_STRUCTURE) -> Path:
    """Path of the built-in sample (raw column names, as Parquet), generating it (and its
    truth) if needed. structure "none": every column drawn independently."""
    from .synth import write_extract

    # Parquet: read lazily and column by column, several times faster than re-parsing text
    path, truth = _cached(rows, seed, structure)
    if not (path.exists() and truth.exists()):
        log.info("generating the built-in sample (%d rows, seed %d, structure %s) into %s",
                 rows, seed, structure, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_extract(path, rows, seed, structure=structure, truth=truth)
    return path


def sample_truth_path(rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED,
                      structure: str = SAMPLE_STRUCTURE) -> Path:
    """Path of the built-in sample's planted truth (JSON, see synth/truth.py), generating the
    sample if needed."""
    sample_path(rows, seed, structure)
    return _cached(rows, seed, structure)[1]
