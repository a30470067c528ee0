"""MySQL/MariaDB's fast path: the whole table in one `LOAD DATA LOCAL INFILE` from a CSV file.

No per-value Python, and exact: a value the database would alter or skip fails the export.
Whether the server allows it is asked first; a refusal is recognised so the caller can insert
the rows instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import Engine

from .connection import engine_for, one_line
from .frame import EXPORTED_AT_COLUMN, RUN_ID_COLUMN
from .values import Rows, chunks, datetime_text, python_values

CSV_CHUNK_ROWS = 100_000  # rows per CSV batch written for LOAD DATA
# MySQL/MariaDB errors meaning "LOAD DATA LOCAL is not allowed here": fall back to INSERT
LOCAL_INFILE_REFUSED = {1148, 2068, 3948}


def _csv_field(series: pd.Series, kind: str) -> pa.Array:
    """One chunk of a column as CSV text for LOAD DATA: NULL as \\N, backslashes escaped.

    pyarrow formats doubles with the shortest text that parses back to the same double, so the
    stored values equal the frame's exactly.
    """
    if kind == "float":
        values = pa.array(series.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    elif kind == "bool":
        values = pa.array(series, from_pandas=True).cast(pa.int8())
    elif kind == "int":
        values = pa.array(series, from_pandas=True)
    else:
        if kind == "datetime":
            series = datetime_text(series)
        values = pa.array(python_values(series, "text"), pa.string())
        values = pc.replace_substring(values, "\\", "\\\\")
    return pc.fill_null(values.cast(pa.string()), "\\N")


def write_csv(path: Path, rows: Rows, kinds: dict[str, str]) -> None:
    """The frame as CSV, chunk by chunk (memory stays bounded by one chunk)."""
    names = list(kinds)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    schema = pa.schema([(name, pa.string()) for name in names])
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for chunk in chunks(rows, CSV_CHUNK_ROWS):
            arrays = [_csv_field(chunk[name], kind) for name, kind in kinds.items()]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))


def server_allows_local_infile(engine: Engine) -> bool:
    """The server's `local_infile` setting; False when it cannot be read (do not rely on it)."""
    try:
        with engine.connect() as conn:
            return bool(int(conn.exec_driver_sql("SELECT @@GLOBAL.local_infile").scalar() or 0))
    except Exception:  # noqa: BLE001 - unknown variable or no privilege: do not rely on it
        return False


def local_infile_refused(exc: BaseException) -> bool:
    """True for the driver errors that mean "LOAD DATA LOCAL is not allowed here"."""
    args = getattr(exc, "args", ())
    return bool(args) and args[0] in LOCAL_INFILE_REFUSED


def load_data_infile(
    url: str, staging: str, rows: Rows, kinds: dict[str, str], constants: tuple
) -> int:
    """`LOAD DATA LOCAL INFILE` from a temporary CSV file: one statement, no per-value Python.

    LOCAL turns data errors and duplicate keys into warnings (skipped or altered rows), so any
    warning or a row count other than the frame's fails the export.
    """
    with (
        engine_for(url, local_infile=True) as engine,
        tempfile.TemporaryDirectory(prefix="telco_export_") as tmp,
    ):
        path = Path(tmp) / f"{staging}.csv"
        write_csv(path, rows, kinds)
        q = engine.dialect.identifier_preparer.quote
        sql = (
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {q(staging)} CHARACTER SET utf8mb4"
            " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\'"
            " LINES TERMINATED BY '\\n'"
            f" ({', '.join(q(n) for n in kinds)})"
            f" SET {q(RUN_ID_COLUMN)} = %s, {q(EXPORTED_AT_COLUMN)} = %s"
        )
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            try:
                cur.execute(sql, (str(path), *constants))
                loaded = cur.rowcount
                cur.execute("SHOW WARNINGS LIMIT 3")
                warnings = cur.fetchall()
                expected = len(rows[0])
                if warnings or loaded != expected:
                    said = "; ".join(one_line(w[2]) for w in warnings) or "no warning"
                    raise RuntimeError(f"LOAD DATA stored {loaded} of {expected} rows: {said}")
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
        finally:
            raw.close()
    return loaded
