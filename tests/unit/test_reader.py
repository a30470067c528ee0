"""The raw-format reader: golden rows from the reference extract, quirks, formats."""

from __future__ import annotations

import gzip
import math
import shutil

import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.errors import InputError, SchemaError
from telco_analytics.io.reader import read_sessions

NaN = float("nan")

# Rows 0, 3, 7 and 9 of tests/data/tellco_real_rows.csv, every field written out by hand from
# the raw text (ids stay text; the first "Dur. (ms)" is seconds, the second milliseconds).
GOLDEN = {
    0: ["1.31144834608449E+019", "2019-04-04 12:01", 770, "2019-04-25 14:35", 662, 1823652,
        "208201448079117", "33664962239", "35521209507511", "9.16456699548519E+015", 42, 5, 23,
        44, NaN, NaN, 100, 0, 0, 0, 100, 0, 0, 0, NaN, NaN, 37624, 38787, 1823652892,
        "Samsung", "Samsung Galaxy A5 Sm-A520F", NaN, NaN, NaN, NaN, NaN, NaN, 213, 214,
        1545765, 24420, 1634479, 1271433, 3563542, 137762, 15854611, 2501332, 8198936, 9656251,
        278082303, 14344150, 171744450, 8814393, 36749741, 308879636],
    3: ["1.31144834854428E+019", "2019-04-10 00:31", 486, "2019-04-25 07:36", 171, 1321509,
        "208201402342131", "33750343200", "35356610164913", "T21824A", NaN, NaN, 44, 44, NaN,
        NaN, 100, 0, 0, 0, 100, 0, 0, 0, NaN, NaN, 3330, 37882, 1321509685, "undefined",
        "undefined", NaN, NaN, NaN, NaN, NaN, NaN, 17, 207, 644121, 13372, 9023734, 2788027,
        1439754, 631229, 21388122, 15146643, 13994646, 1097942, 799538153, 10849722, 749039933,
        12797283, 43324218, 846028530],
    7: ["1.30424259108654E+019", "2019-04-14 02:11", 592, "2019-04-25 02:26", 512, 951292,
        "208201009069207", "33763490140", "86546404964017", "CELL_208_20_520025_1", 39, 18,
        3698, 416, 19520, NaN, 99, 0, 0, 0, 99, 0, 0, 0, 230583, 25427, 70832, 74477,
        951292920, "undefined", "undefined", NaN, 3, 1, NaN, 2, NaN, 708, 666, 3103940, 57463,
        1304524, 2568189, 2987408, 512696, 12189786, 19735183, 6858496, 12075206, 748906189,
        16149622, 537601820, 7714657, 58813016, 775350343],
    9: ["1.30424259146693E+019", "2019-04-15 00:32", 0, "2019-04-25 00:40", 284, 864482,
        "208200314385130", "33659219748", "35573109931422", "L20434C", 97, 7, 3845, 2535,
        3231397, 7230, 70, 26, 2, 0, 99, 0, 0, 0, 132246, 32449, 1537874, 1542046, 864482284,
        "Samsung", "Samsung Galaxy Note 8 (Sm-N950F Ds)", NaN, 14, 165, NaN, 1665, 4, 4421, 6344,
        1541259, 44154, 8601949, 176392, 522457, 243589, 16338345, 6573194, 12211149, 974201,
        811355188, 1591237, 64856042, 12815208, 22417975, 850570347],
}


@pytest.fixture
def sessions(con, real_rows):
    return read_sessions(con, real_rows).sessions.to_pandas()


@pytest.mark.parametrize("row", sorted(GOLDEN))
def test_golden_rows_every_field(sessions, row):
    got = sessions.iloc[row]
    for name, want in zip(schema.NAMES, GOLDEN[row], strict=True):
        value = got[name]
        if schema.BY_NAME[name].dtype == "timestamp":
            assert value == pd.Timestamp(want), name
        elif isinstance(want, str):
            assert value == want, name
        elif math.isnan(want):
            assert pd.isna(value), name
        else:
            assert value == want, name


def test_identifiers_are_text_and_shape(sessions):
    assert len(sessions) == 10
    assert list(sessions.columns) == list(schema.NAMES)
    for c in schema.ID_COLUMNS:
        assert sessions[c].map(lambda v: isinstance(v, str)).all(), c
    # the duplicate header: seconds first, milliseconds second
    assert (sessions["duration_s"] == (sessions["duration_ms"] // 1000)).all()


def test_gzip_parquet_xlsx_and_folder_read_the_same(con, real_rows, tmp_path):
    base = read_sessions(con, real_rows).sessions.to_pandas()
    gz = tmp_path / "x.csv.gz"
    with open(real_rows, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    pd.testing.assert_frame_equal(read_sessions(con, gz).sessions.to_pandas(), base)

    raw = pd.read_csv(real_rows, dtype=str)  # pandas names the second duration "Dur. (ms).1"
    raw.to_parquet(tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(read_sessions(con, tmp_path / "x.parquet").sessions.to_pandas(), base)

    raw.to_excel(tmp_path / "x.xlsx", index=False)
    xlsx = read_sessions(con, tmp_path / "x.xlsx").sessions.to_pandas()
    pd.testing.assert_frame_equal(xlsx, base)

    folder = tmp_path / "parts"
    folder.mkdir()
    text = real_rows.read_text().splitlines()
    (folder / "a.csv").write_text("\n".join(text[:6]) + "\n")
    (folder / "b.csv").write_text("\n".join([text[0], *text[6:]]) + "\n")
    both = read_sessions(con, folder).sessions.to_pandas()
    assert sorted(both["msisdn"]) == sorted(base["msisdn"])
    globbed = read_sessions(con, str(folder / "*.csv")).sessions.to_pandas()
    assert len(globbed) == 10


def test_typed_parquet_ids_from_floats_become_digits(con, real_rows, tmp_path):
    raw = pd.read_csv(real_rows)  # pandas' float ids: 3.3664962239e10
    raw.to_parquet(tmp_path / "f.parquet")
    got = read_sessions(con, tmp_path / "f.parquet").sessions.to_pandas()
    assert got["msisdn"].iloc[0] == "33664962239"
    assert got["imsi"].iloc[0] == "208201448079117"


def test_backslash_n_nulls_and_float_text_ids(con, real_rows, tmp_path):
    lines = real_rows.read_text().splitlines()
    fields = lines[1].split(",")
    fields[7] = "33664962239.0"  # MSISDN written as a float by a careless export
    fields[10] = "\\N"  # Avg RTT DL as in a PostgreSQL dump
    path = tmp_path / "pg.csv"
    path.write_text("\n".join([lines[0], ",".join(fields)]) + "\n")
    got = read_sessions(con, path).sessions.to_pandas().iloc[0]
    assert got["msisdn"] == "33664962239"
    assert pd.isna(got["avg_rtt_dl_ms"])


@pytest.mark.parametrize("unit,scale", [("s", 1000), ("ms", 1)])
def test_lone_duration_column_unit_is_decided(con, real_rows, tmp_path, unit, scale):
    raw = pd.read_csv(real_rows, dtype=str)
    keep = "Dur. (ms)" if unit == "s" else "Dur. (ms).1"
    raw = raw.drop(columns=[c for c in ("Dur. (ms)", "Dur. (ms).1") if c != keep])
    raw = raw.rename(columns={keep: "Dur. (ms)"})
    raw.to_csv(tmp_path / "one.csv", index=False)
    result = read_sessions(con, tmp_path / "one.csv")
    got = result.sessions.to_pandas()
    expected = pd.read_csv(real_rows)["Dur. (ms).1"]
    if unit == "s":  # seconds lose the sub-second part
        expected = (expected // 1000) * 1000
    assert got["duration_ms"].tolist() == expected.astype(float).tolist()
    assert unit in result.duration_unit


def test_missing_columns_are_all_listed(con, real_rows, tmp_path):
    raw = pd.read_csv(real_rows, dtype=str).drop(columns=["Total UL (Bytes)", "Avg RTT DL (ms)"])
    raw.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SchemaError) as info:
        read_sessions(con, tmp_path / "bad.csv")
    assert "'Total UL (Bytes)'" in str(info.value) and "'Avg RTT DL (ms)'" in str(info.value)


def test_wrong_type_names_column_and_value(con, real_rows, tmp_path):
    lines = real_rows.read_text().splitlines()
    fields = lines[2].split(",")
    fields[12] = "fast"  # Avg Bearer TP DL (kbps)
    path = tmp_path / "typed.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(fields)]) + "\n")
    with pytest.raises(SchemaError) as info:
        read_sessions(con, path)
    assert "'Avg Bearer TP DL (kbps)'" in str(info.value) and "'fast'" in str(info.value)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\x00\x01\x02garbage\x00" * 100, "binary"),
])
def test_empty_and_binary_files(con, tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_sessions(con, path)


def test_missing_file(con, tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_sessions(con, tmp_path / "nope.csv")


def test_lake_urls_are_handed_to_the_engine_unchanged():
    from telco_analytics.io.reader import _kind, describe_file, resolve_inputs

    assert resolve_inputs("s3a://lake/xdr/2019/04/") == ["s3a://lake/xdr/2019/04/"]
    assert _kind("s3a://lake/xdr/2019/04/") == "parquet"
    assert _kind("hdfs://nn/xdr/day.csv.gz") == "csv"
    described = describe_file("s3a://lake/xdr/2019/04/")
    assert described.sha256 is None and described.path == "s3a://lake/xdr/2019/04/"
