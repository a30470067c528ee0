"""Total traffic, defined once, and the other byte totals set against it.

Total traffic is total_bytes = Total DL + Total UL summed over users (SPEC rule 5), everywhere
in the product (traffic shares of clusters and deciles use it). The extract records the
per-app volumes separately: the seven app columns do not add up to the totals (the extract's
Total DL even excludes Other DL), so an app's share is a share of the app columns, never of
total traffic, and "Other" is unclassified traffic, not an app.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema

OTHER = "other"  # the unclassified app column
CLASSIFIED = [a for a in schema.APPS if a != OTHER]
DESCRIPTIONS = {
    "total_bytes": "total traffic: Total DL + Total UL (the product's one definition)",
    "dl_bytes": "Total DL (the extract's Total DL excludes Other DL)",
    "ul_bytes": "Total UL (includes Other UL)",
    "app_columns": "the seven app columns (DL + UL), recorded apart from the totals",
    "classified_apps": "the six named apps (DL + UL)",
    "unclassified": "the Other column (DL + UL): traffic not classified by app",
}


def traffic_totals(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Per measure (total_bytes, dl_bytes, ul_bytes, app_columns, classified_apps,
    unclassified): bytes summed over users, share_of_total (bytes / total traffic) and a
    description. A column at a time."""
    sums = {c: float(user_overview[c].to_numpy(dtype="float64").sum())
            for c in ("total_bytes", "dl_bytes", "ul_bytes", *schema.USER_APP_BYTES)}
    classified = sum(sums[f"{a}_bytes"] for a in CLASSIFIED)
    measures = {
        "total_bytes": sums["total_bytes"], "dl_bytes": sums["dl_bytes"],
        "ul_bytes": sums["ul_bytes"], "app_columns": classified + sums[f"{OTHER}_bytes"],
        "classified_apps": classified, "unclassified": sums[f"{OTHER}_bytes"],
    }
    total = measures["total_bytes"]
    return pd.DataFrame({
        "measure": list(measures),
        "bytes": list(measures.values()),
        "share_of_total": [v / total if total > 0 else np.nan for v in measures.values()],
        "description": [DESCRIPTIONS[m] for m in measures],
    })
