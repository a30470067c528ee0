"""The typed CSV read gives what the tolerant text read gives: same sessions, same errors.

`read_sessions(..., typed_csv=False)` is the text read (every column as text, checked, cast):
the path the typed read falls back to, and the reader's behaviour before the typed read.
"""

from __future__ import annotations

import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.errors import InputError, SchemaError
from telco_analytics.io.reader import read_sessions


def _both(con, path):
    typed = read_sessions(con, path)
    text = read_sessions(con, path, typed_csv=False)
    return typed, text


def _frame(result) -> pd.DataFrame:
    # the engine keeps no insertion order: compare in a fixed order
    frame = result.sessions.to_pandas()
    return frame.sort_values(["bearer_id", "start_ms", "end_ms"]).reset_index(drop=True)


def _assert_same(typed, text):
    assert typed.ingest["csv_parse"] == "typed"
    assert text.ingest["csv_parse"] == "text"
    pd.testing.assert_frame_equal(_frame(typed), _frame(text))
    assert typed.notes == text.notes
    assert typed.duration_unit == text.duration_unit
    assert typed.absent_columns == text.absent_columns


def _write(tmp_path, real_rows, edits: dict[tuple[int, str], str], name="odd.csv"):
    """The real rows with some fields replaced: (row, raw header) -> text as written."""
    lines = real_rows.read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    for (row, column), value in edits.items():
        index = header.index(column) if column != "Dur. (ms).1" else len(header) - 1 - \
            header[::-1].index("Dur. (ms)")
        rows[row][index] = value
    path = tmp_path / name
    path.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    return path


def _schema_errors_both_ways(con, path) -> list[str]:
    """The SchemaError message of the typed read, then of the text read."""
    messages = []
    for typed_csv in (True, False):
        with pytest.raises(SchemaError) as info:
            read_sessions(con, path, typed_csv=typed_csv)
        messages.append(str(info.value))
    return messages


def test_real_rows_read_the_same_typed(con, real_rows):
    _assert_same(*_both(con, real_rows))


# numbers as careless exports write them: both reads accept each, with the same value
ODD_NUMBERS = {
    (0, "Avg RTT DL (ms)"): " 12 ",
    (1, "Avg RTT DL (ms)"): "+5",
    (2, "Avg RTT DL (ms)"): "1e5",
    (3, "Avg RTT DL (ms)"): ".5",
    (4, "Avg RTT DL (ms)"): "5.",
    (5, "Avg RTT DL (ms)"): "\\N",
    (6, "Avg RTT DL (ms)"): "00012",
    (7, "Avg RTT DL (ms)"): "-0",
    (8, "Avg RTT DL (ms)"): "1_000",
    (9, "Avg RTT DL (ms)"): '"7"',
    (0, "Total UL (Bytes)"): "inf",
    (1, "Total UL (Bytes)"): "nan",
    (2, "Total UL (Bytes)"): "1.797e309",
    (3, "Total UL (Bytes)"): "1E+05",
    (4, "Total UL (Bytes)"): "\t3",
    (5, "Total UL (Bytes)"): '" 8.25 "',
    (6, "Dur. (ms).1"): "-1e-400",
    (7, "Start ms"): "",
    # timestamps and identifiers stay text in the typed read: odd ones go the same way
    (1, "Start"): " 2019-04-10 00:31:00 ",
    (2, "End"): "2019-04-25T07:36:00",
    (3, "Start"): "\\N",
    (4, "MSISDN/Number"): "33664962239.0",
    (5, "MSISDN/Number"): "3.3664962239e+10",
    (6, "IMEI"): "\\N",
    (7, "Handset Type"): "  Apple iPhone 6S (A1688) ",
}


def test_odd_values_read_the_same_typed(con, real_rows, tmp_path):
    path = _write(tmp_path, real_rows, ODD_NUMBERS)
    typed, text = _both(con, path)
    _assert_same(typed, text)
    got = _frame(typed).set_index("bearer_id")
    assert got["avg_rtt_dl_ms"].notna().sum() >= 8  # the odd numbers are numbers, not nulls


@pytest.mark.parametrize("value", ["fast", "0x1A", '"1,5"', " ", "1 000", "TRUE", "12kb"])
def test_a_number_that_does_not_parse_fails_as_before(con, real_rows, tmp_path, value):
    path = _write(tmp_path, real_rows, {(2, "Avg Bearer TP DL (kbps)"): value,
                                        (5, "Avg Bearer TP DL (kbps)"): value})
    messages = _schema_errors_both_ways(con, path)
    assert messages[0] == messages[1]
    assert "'Avg Bearer TP DL (kbps)' should hold a number but 2 value(s) do not" in messages[0]


def test_a_bad_timestamp_and_a_bad_number_are_both_named_as_before(con, real_rows, tmp_path):
    path = _write(tmp_path, real_rows, {(1, "End"): "yesterday", (3, "Start"): "4/31/2019 25:00",
                                        (4, "Avg RTT UL (ms)"): "slow"})
    messages = _schema_errors_both_ways(con, path)
    assert messages[0] == messages[1]
    assert "'End' should hold a date-time but 1 value(s) do not, e.g. 'yesterday'" in messages[0]
    assert "'Avg RTT UL (ms)' should hold a number" in messages[0]


def test_a_bad_timestamp_alone_is_found_without_the_text_read(con, real_rows, tmp_path):
    path = _write(tmp_path, real_rows, {(1, "End"): "yesterday", (3, "End"): "soon"})
    with pytest.raises(SchemaError) as typed:
        read_sessions(con, path)
    with pytest.raises(SchemaError) as text:
        read_sessions(con, path, typed_csv=False)
    assert str(typed.value) == str(text.value)
    assert "'End' should hold a date-time but 2 value(s) do not, e.g. 'yesterday'" in str(typed.value)


@pytest.mark.parametrize("keep", ["Dur. (ms)", "Dur. (ms).1"])
def test_lone_duration_column_reads_the_same_typed(con, real_rows, tmp_path, keep):
    raw = pd.read_csv(real_rows, dtype=str)
    raw = raw.drop(columns=[c for c in ("Dur. (ms)", "Dur. (ms).1") if c != keep])
    raw.rename(columns={keep: "Dur. (ms)"}).to_csv(tmp_path / "one.csv", index=False)
    typed, text = _both(con, tmp_path / "one.csv")
    _assert_same(typed, text)
    assert ("ms" if keep == "Dur. (ms).1" else "s (converted to ms)") in typed.duration_unit


def test_absent_optional_columns_read_the_same_typed(con, real_rows, tmp_path):
    raw = pd.read_csv(real_rows, dtype=str).drop(columns=["Start", "IMEI", "Start ms"])
    raw.to_csv(tmp_path / "fewer.csv", index=False)
    typed, text = _both(con, tmp_path / "fewer.csv")
    _assert_same(typed, text)
    assert {"start_time", "imei", "start_ms"} <= set(typed.absent_columns)


def test_the_sample_as_csv_reads_the_same_typed(con, tmp_path):
    from telco_analytics.synth import write_extract

    path = tmp_path / "sample.csv"
    write_extract(path, 3000, 5)
    typed, text = _both(con, path)
    _assert_same(typed, text)
    assert len(_frame(typed)) == 3001  # and the artifact row
    assert list(typed.sessions.columns) == list(schema.NAMES)


def test_header_only_fails_as_before(con, real_rows, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(real_rows.read_text().splitlines()[0] + "\n")
    for typed_csv in (True, False):
        with pytest.raises(InputError, match="no data rows"):
            read_sessions(con, path, typed_csv=typed_csv)
