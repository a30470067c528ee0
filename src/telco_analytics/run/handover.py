"""The per-user summary brought over from the engine into pandas, and split into the per-user
tables the analyses take.

In this process the summary streams from the engine in batches; from the engine child process
it arrives as a Parquet file. Either way the frame is the same (msisdn order, handsets
categorical) and the data is held once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import engine, schema
from ..aggregate import USER_EXPERIENCE_COLUMNS
from ..config import AnalysisParams

# rows per batch of the per-user table as it streams from the engine
USER_BATCH_ROWS = 1_000_000


def fetch_users(con: Any, summary: ibis.Table) -> pd.DataFrame:
    """The per-user summary as pandas, streamed from the engine; the engine's session tables
    are dropped afterwards (the last engine work of a run)."""
    table = engine.fetch_arrow(con, summary, USER_BATCH_ROWS)
    engine.release_tables(con)
    return users_frame(table)


def write_users(con: Any, summary: ibis.Table, path: Path) -> None:
    """The per-user summary streamed into a Parquet file (the engine child's hand-over)."""
    engine.write_parquet(con, summary, path, USER_BATCH_ROWS)


def users_frame(table: pa.Table) -> pd.DataFrame:
    """The per-user summary (msisdn order) as pandas, handsets categorical.

    Converted column by column, each Arrow column freed as it is converted (self_destruct):
    the per-user data is held once.
    """
    # a few thousand handset names repeated over millions of users: categorical codes
    # (4 bytes a user instead of ~24 for the text)
    i = table.schema.get_field_index("handset")
    table = table.set_column(i, "handset", pc.dictionary_encode(table.column(i)))
    return table.to_pandas(split_blocks=True, self_destruct=True)


def read_users(path: Path) -> pd.DataFrame:
    """The child's per-user summary file as the frame users_frame makes, read a column at a
    time so that the data is held once: reading the whole file into Arrow first held it
    twice for a moment (a 9.2 GB table at 72M users)."""
    source = pq.ParquetFile(path, read_dictionary=["handset"])  # handsets as categorical
    columns = {}
    for name in source.schema_arrow.names:
        column = source.read(columns=[name]).column(0)
        columns[name] = column.to_pandas(split_blocks=True, self_destruct=True)
        del column
    # copy=False: the frame keeps each column's array as it is (no consolidation)
    return pd.DataFrame(columns, copy=False)


def split_users(users: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """user_overview and user_experience: column selections of the per-user summary
    (copy-on-write: no copy; at 72M users one copy is ~11 GB)."""
    return users[schema.USER_OVERVIEW_COLUMNS], users[USER_EXPERIENCE_COLUMNS]


def user_tables(users: pd.DataFrame, params: AnalysisParams
                ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """user_overview and user_experience (see split_users), and the manifest's user count and
    sampling rule."""
    n = len(users)
    facts = {
        "rows": {"users": n},
        "sampling": {
            "rule": f"beyond {params.kmeans_sample_threshold:,} users, models are fitted on a "
            f"uniform sample (k-means: {params.kmeans_sample_size:,}, regression: "
            f"{params.regression_sample_size:,} users; z-scores always over all users) and "
            f"every user is still assigned and scored; beyond {params.elbow_sample_size:,} "
            "users the elbow curve is fitted on a sample of that many with elbow_n_init "
            "restarts. Every k-means fit on more than "
            f"{params.kmeans_restart_sample_size:,} users runs its restarts on a weighted "
            f"sample of that many and refines the best {params.kmeans_refine} on all of its "
            "users (kmeans_fits records each fit).",
            "users": n,
        },
    }
    return *split_users(users), facts
