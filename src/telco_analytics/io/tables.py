"""Write result tables (Parquet + CSV) and JSON documents into a run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """NAME.parquet and NAME.csv (the folder is a staging folder, swapped in at the end)."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, folder / f"{name}.parquet")
    pacsv.write_csv(table, folder / f"{name}.csv")  # ~10x faster than DataFrame.to_csv


def read_table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(Path(folder) / f"{name}.parquet")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n")
