"""The session-level nodes (the engine subgraph): read, clean, handsets, the per-user summary.

Plain functions with named inputs and outputs; `con` is the engine backend the runner (or the
engine child process) opened. Their outputs that are engine tables stay in the engine; the
execution strategy brings the per-user summary over to pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pandas as pd

from .. import engine
from ..aggregate import SESSION_COLUMNS_USED, user_summary
from ..analysis import handsets
from ..clean import clean_sessions, profile_sessions, profile_sessions_local, require_imputable
from ..config import AnalysisParams, ExecutionSettings
from ..io import ingest_cache
from ..io.reader import read_sessions

Map = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def read_and_validate(con: Any, input_path: str, settings: ExecutionSettings | None = None
                      ) -> tuple[ibis.Table, dict[str, Any]]:
    """The input's canonical sessions and the manifest's `input` facts (with how a CSV was
    read: typed or as text, and whether the ingest cache had it)."""
    settings = settings or ExecutionSettings()
    cache_dir = ingest_cache.default_dir() if settings.ingest_cache else None
    result = read_sessions(con, input_path, cache_dir=cache_dir)
    facts = {"input": {
        "source": input_path,
        "files": [f.__dict__ for f in result.files],
        "duration_unit": result.duration_unit,
        "notes": result.notes,
        "absent_columns": result.absent_columns,
        **({"ingest": result.ingest} if result.ingest else {}),
    }}
    return result.sessions, facts


def clean(con: Any, sessions: ibis.Table, params: AnalysisParams, input_path: str,
          column_map: Map
          ) -> tuple[ibis.Table, pd.DataFrame, dict[str, int], int, dict[str, Any]]:
    """Cleaned sessions (materialized in the engine), the cleaning report, the missing values
    per column (all rows read), the rows read, and the manifest's `rows` and `missing`."""
    if engine.is_local(con):  # one read per column in numpy, the columns side by side
        counts, report = profile_sessions_local(sessions, iqr_factor=params.iqr_factor,
                                                column_map=column_map)
    else:  # Spark aggregates on the cluster, never bringing sessions to the driver
        counts, report = profile_sessions(sessions, iqr_factor=params.iqr_factor)
    require_imputable(report, SESSION_COLUMNS_USED, input_path)
    facts = {
        "rows": {
            "read": counts["rows"],
            "dropped_artifact": counts["artifact"],
            "sessions": counts["rows"] - counts["artifact"],
            "sessions_without_msisdn": counts["no_msisdn"],
            "why": {
                "dropped_artifact": "rows with no timestamps and no identifiers (the extract's "
                "trailing artifact row) are dropped everywhere (SPEC rule 1)",
                "sessions_without_msisdn": "kept for session-level counts (handsets), excluded "
                "from every per-user table (SPEC rule 1)",
            },
        },
        "missing": counts["all"],
    }
    cleaned = clean_sessions(sessions, report, SESSION_COLUMNS_USED)
    sessions_kept = counts["rows"] - counts["artifact"]
    cleaned = engine.materialize(con, cleaned, "clean",
                                 expected_bytes=sessions_kept * len(SESSION_COLUMNS_USED) * 8)
    return cleaned, report, counts["all"], counts["rows"], facts


def handset_rankings(clean_sessions: ibis.Table) -> dict[str, Any]:
    """The handset tables (SPEC rule 2) and the manifest's `handsets` facts."""
    counts = handsets.handset_counts(clean_sessions)
    top3 = handsets.manufacturers_top(clean_sessions, counts)
    makers = sorted(counts.loc[counts["_known_maker"], "handset_manufacturer"].unique())
    return {
        "handsets_top10": handsets.handsets_top10(clean_sessions, counts),
        "manufacturers_top3": top3,
        "handsets_top5_per_manufacturer": handsets.handsets_top_per_manufacturer(
            counts, top3["manufacturer"].tolist()),
        # every known manufacturer's own top 10 (the dashboard's manufacturer filter)
        "handsets_top10_per_manufacturer": handsets.handsets_top_per_manufacturer(
            counts, makers, n=10),
        "handset_facts": {"handsets": {
            **handsets.unknown_handset_counts(counts),
            "rule": "missing and 'undefined' handsets are unknown: excluded from the rankings",
        }},
    }


def per_user_summary(clean_sessions: ibis.Table) -> ibis.Table:
    """The per-user summary query (one row per MSISDN, msisdn order), still in the engine."""
    return user_summary(clean_sessions)
