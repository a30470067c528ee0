"""What a cached extract was made from: a digest of the generator's code and the profile.

The built-in sample is generated once and cached; its file name carries this digest, so any
change to the generator (its code, its stored fits or the published profile it is calibrated
to) makes a new sample instead of serving a stale one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

_HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def generator_digest() -> str:
    """sha256 (hex) of every module of the generator and of the profile."""
    digest = hashlib.sha256()
    digest.update(resources.files("telco_analytics").joinpath("data/tellco_profile.json")
                  .read_bytes())
    for path in sorted(_HERE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
