"""The planted truth of a generated extract, as data: what an analysis of it should find.

For a seed and size: the congested cells (most severe first, with their severity), every
handset type's capability level and device class, the heavy users' MSISDNs, the busy hours and
the loadings of the model (planted.py). Levels and severities are in latent standard deviations:
only their order and relative size mean something, not their units.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .capability import capability, device_class
from .catalog import handset_catalog
from .congestion import BUSY_HOURS, OFF_PEAK_SHIFT, congested_cells
from .planted import Planted

FORMAT = "telco-analytics planted truth 1"


def planted_truth(rows: int, seed: int, planted: Planted | None,
                  heavy_msisdn: np.ndarray) -> dict[str, Any]:
    """The truth record of an extract of `rows` xDRs (planted None: nothing was planted)."""
    record: dict[str, Any] = {"format": FORMAT, "rows": rows, "seed": seed,
                              "structure": "planted" if planted else "none"}
    if planted is None:
        return record | {"congested_cells": [], "handsets": [], "heavy_users": []}
    cells = congested_cells(seed)
    cat = handset_catalog()
    levels = capability(seed)
    handsets = [{"handset": str(t), "manufacturer": str(m), "device_class": device_class(t)[0],
                 "capability": round(float(c), 4)}
                for t, m, c in zip(cat.types, cat.makers, levels)]
    handsets.sort(key=lambda h: (-h["capability"], h["handset"]))
    return record | {
        "loadings": planted.parameters(),
        "busy_hours": list(BUSY_HOURS),
        "off_peak_severity_factor": 0.5**OFF_PEAK_SHIFT,
        "congested_cells": [{"cell": name, "severity": round(float(s), 4)}
                            for name, s in zip(cells.names(seed), cells.severity)],
        "handsets": handsets,
        "heavy_users": sorted(int(m) for m in heavy_msisdn),
    }


def write_truth(path: str | Path, truth: dict[str, Any]) -> Path:
    """Write the record as JSON; the file appears whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(_dumps(truth), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _dumps(truth: dict[str, Any]) -> str:
    """JSON with a line per key and per record of a list of records (readable, and compact
    for the long list of heavy users)."""
    def value(v: Any) -> str:
        if isinstance(v, list) and v and isinstance(v[0], dict):
            return "[\n  " + ",\n  ".join(json.dumps(x) for x in v) + "\n ]"
        return json.dumps(v)

    return "{\n" + ",\n".join(f" {json.dumps(k)}: {value(v)}" for k, v in truth.items()) + "\n}\n"


def read_truth(path: str | Path) -> dict[str, Any]:
    """A truth record written by write_truth."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
