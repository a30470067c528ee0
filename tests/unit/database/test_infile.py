"""The CSV that LOAD DATA reads: exact doubles, NULL as \\N, and text that survives the trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymysql
import sqlalchemy as sa

from telco_analytics.io.database.infile import (
    local_infile_refused,
    server_allows_local_infile,
    write_csv,
)
from telco_analytics.io.database.values import column_kinds


def test_csv_escapes_for_load_data(tmp_path):
    df = pd.DataFrame({
        "k": ["b", "a", "c", "d"],
        "note": ["a,b", 'q "x"', "back\\slash", None],
        "score": [0.1, np.nan, 1 / 3, 5e-324],
        "n": pd.array([1, None, -(2**40), 0], dtype="Int64"),
        "flag": [True, False, True, False],
        "at": pd.to_datetime(
            ["2024-05-06 07:08:09", None, "2024-01-01 00:00:00", "2024-01-02 00:00:00"]
        ),
    })
    path = tmp_path / "rows.csv"
    write_csv(path, (df, np.array([1, 0, 2, 3])), column_kinds(df))  # written in key order
    # every field is quoted (pyarrow quotes all text; LOAD DATA: OPTIONALLY ENCLOSED BY '"')
    assert path.read_text().splitlines() == [
        '"a","q ""x""","\\N","\\N","0","\\N"',
        '"b","a,b","0.1","1","1","2024-05-06 07:08:09.000000"',
        (
            '"c","back\\\\slash","0.3333333333333333","-1099511627776","1",'
            '"2024-01-01 00:00:00.000000"'
        ),
        '"d","\\N","5e-324","0","0","2024-01-02 00:00:00.000000"',
    ]


def test_refusals_are_recognised_by_error_number():
    assert local_infile_refused(pymysql.err.OperationalError(1148, "not allowed"))
    assert local_infile_refused(pymysql.err.OperationalError(3948, "disabled"))
    assert not local_infile_refused(pymysql.err.OperationalError(1406, "Data too long"))
    assert not local_infile_refused(RuntimeError())


def test_unknown_server_setting_means_not_allowed(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")  # has no @@GLOBAL.local_infile
    assert server_allows_local_infile(engine) is False
    engine.dispose()
