"""The ingest cache: a CSV read once is read from Parquet next time, unless it changed."""

from __future__ import annotations

import pandas as pd
import pytest

from telco_analytics import engine
from telco_analytics.config import ExecutionSettings
from telco_analytics.errors import SchemaError
from telco_analytics.io import csv_ingest, ingest_cache, reader
from telco_analytics.io.reader import read_sessions


def _frame(result) -> pd.DataFrame:
    frame = result.sessions.to_pandas()  # Parquet keeps no insertion order: sort
    return frame.sort_values(["bearer_id", "start_ms", "end_ms"]).reset_index(drop=True)


def _read(path, cache):
    """A run's read: its own engine connection, as a new process would have."""
    con = engine.connect()
    try:
        result = read_sessions(con, path, cache_dir=cache)
        return result, _frame(result)
    finally:
        con.disconnect()


def _entries(cache):
    return sorted(cache.glob("*.parquet")) if cache.exists() else []


@pytest.fixture
def extract(real_rows, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(real_rows.read_bytes())
    return path


def _no_parsing(monkeypatch):
    """Make any parse of the CSV fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the extract was parsed")
    monkeypatch.setattr(csv_ingest, "read_typed", refuse)
    monkeypatch.setattr(reader, "read_raw", refuse)


def test_miss_then_hit_skips_parsing_with_the_same_sessions(extract, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first, parsed = _read(extract, cache)
    assert first.ingest["cache"]["hit"] is False and first.ingest["cache"]["stored"] is True
    assert len(_entries(cache)) == 1
    _no_parsing(monkeypatch)
    second, cached = _read(extract, cache)
    assert second.ingest["cache"]["hit"] is True
    assert second.ingest["csv_parse"] == "none (ingest cache)"
    pd.testing.assert_frame_equal(cached, parsed)
    assert second.sessions.schema() == first.sessions.schema()
    assert (second.notes, second.duration_unit, second.absent_columns) == (
        first.notes, first.duration_unit, first.absent_columns)
    assert [f.__dict__ for f in second.files] == [f.__dict__ for f in first.files]


def test_lone_duration_notes_come_back_from_the_cache(real_rows, tmp_path):
    raw = pd.read_csv(real_rows, dtype=str).drop(columns=["Dur. (ms).1"])
    raw.to_csv(tmp_path / "one.csv", index=False)
    first, parsed = _read(tmp_path / "one.csv", tmp_path / "cache")
    second, cached = _read(tmp_path / "one.csv", tmp_path / "cache")
    assert second.ingest["cache"]["hit"] is True
    pd.testing.assert_frame_equal(cached, parsed)
    assert second.notes == first.notes and "lone duration" in second.duration_unit


def test_a_changed_file_misses(extract, tmp_path):
    cache = tmp_path / "cache"
    _, before = _read(extract, cache)
    text = extract.read_text().replace("Samsung Galaxy A5 Sm-A520F", "Samsung Galaxy A6")
    extract.write_text(text)
    changed, after = _read(extract, cache)
    assert changed.ingest["cache"]["hit"] is False
    assert "Samsung Galaxy A6" in set(after["handset_type"])
    assert "Samsung Galaxy A6" not in set(before["handset_type"])
    assert len(_entries(cache)) == 2


def test_another_reader_version_misses(extract, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    _read(extract, cache)
    monkeypatch.setattr(ingest_cache, "reader_version", lambda con: "another-reader")
    again, _ = _read(extract, cache)
    assert again.ingest["cache"]["hit"] is False


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other"])
def test_a_corrupt_entry_is_parsed_again(extract, tmp_path, damage):
    cache = tmp_path / "cache"
    _, parsed = _read(extract, cache)
    (entry,) = _entries(cache)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":  # the footer intact, the pages overwritten
        middle = len(data) // 2
        entry.write_bytes(data[:200] + b"\xff" * (middle - 200) + data[middle:])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # another extract's entry under this name (e.g. a copied cache folder)
        short = tmp_path / "short.csv"
        short.write_text("\n".join(extract.read_text().splitlines()[:4]) + "\n")
        _read(short, cache)
        other = next(p for p in _entries(cache) if p != entry)
        other.replace(entry)
    again, reparsed = _read(extract, cache)
    assert again.ingest["cache"]["hit"] is False and again.ingest["cache"]["stored"] is True
    pd.testing.assert_frame_equal(reparsed, parsed)
    last, cached = _read(extract, cache)  # and the entry is good again
    assert last.ingest["cache"]["hit"] is True
    pd.testing.assert_frame_equal(cached, parsed)


def test_bad_input_is_not_cached(real_rows, tmp_path):
    lines = real_rows.read_text().splitlines()
    fields = lines[1].split(",")
    fields[11] = "slow"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], ",".join(fields)]) + "\n")
    for _ in range(2):  # the second time too: the same error, from a parse
        with pytest.raises(SchemaError, match="'Avg RTT UL \\(ms\\)' should hold a number"):
            _read(bad, tmp_path / "cache")
    assert _entries(tmp_path / "cache") == []


def test_only_the_newest_entries_are_kept(real_rows, tmp_path):
    cache = tmp_path / "cache"
    lines = real_rows.read_text().splitlines()
    for n in range(ingest_cache.KEEP + 2):
        path = tmp_path / f"part{n}.csv"
        path.write_text("\n".join([lines[0], *lines[1:3 + n]]) + "\n")
        _read(path, cache)
    assert len(_entries(cache)) == ingest_cache.KEEP
    newest, _ = _read(path, cache)
    assert newest.ingest["cache"]["hit"] is True


def test_no_cache_setting_reads_and_keeps_nothing(extract, tmp_path, monkeypatch):
    from telco_analytics.run import session_steps

    cache = tmp_path / "user-cache"
    monkeypatch.setenv("TELCO_CACHE_DIR", str(cache))
    con = engine.connect()
    try:
        _, facts = session_steps.read_and_validate(
            con, str(extract), ExecutionSettings(ingest_cache=False))
        assert facts["input"]["ingest"]["cache"] == {"used": False}
        assert not cache.exists()
        _, facts = session_steps.read_and_validate(con, str(extract), ExecutionSettings())
        assert facts["input"]["ingest"]["cache"]["stored"] is True
        _, facts = session_steps.read_and_validate(con, str(extract), ExecutionSettings())
        # the manifest's input facts say the cache was hit
        assert facts["input"]["ingest"]["cache"]["hit"] is True
        assert _entries(cache / "ingest")
    finally:
        con.disconnect()


def test_parquet_input_is_not_cached(real_rows, tmp_path):
    pd.read_csv(real_rows, dtype=str).to_parquet(tmp_path / "x.parquet")
    result, _ = _read(tmp_path / "x.parquet", tmp_path / "cache")
    assert "cache" not in result.ingest and _entries(tmp_path / "cache") == []


@pytest.mark.parametrize("flag,expected", [([], True), (["--no-cache"], False),
                                           (["--cache"], True)])
def test_cli_no_cache_flag(monkeypatch, tmp_path, flag, expected):
    from typer.testing import CliRunner

    from telco_analytics.cli import app
    from telco_analytics.run import runner

    seen = {}

    def fake_run(input_path, out, params, settings, options, progress=None):
        seen["settings"] = settings
        raise SchemaError("stop here")

    monkeypatch.setattr(runner, "run", fake_run)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "x.csv"), "--out",
                                      str(tmp_path / "o"), "--quiet", *flag])
    assert result.exit_code == 2, result.output
    assert seen["settings"].ingest_cache is expected


def test_an_unwritable_cache_folder_never_fails_the_read(extract, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    result, frame = _read(extract, blocker / "ingest")
    assert result.ingest["cache"]["stored"] is False and "why_not_stored" in result.ingest["cache"]
    assert len(frame) == 10


def test_a_pseudonymized_run_makes_no_cached_copy_of_the_extract(tmp_path, monkeypatch):
    """The cache is the extract's rows, identifiers included: --pseudonymize writes none."""
    from telco_analytics.run.runner import RunOptions, run
    from tests.helpers import random_raw_sessions, write_raw_csv

    cache = tmp_path / "user-cache"
    monkeypatch.setenv("TELCO_CACHE_DIR", str(cache))
    monkeypatch.setenv("TELCO_PSEUDONYM_KEY", "k" * 32)
    source = write_raw_csv(random_raw_sessions(400, 120), tmp_path / "x.csv")
    options = RunOptions(report=False, tracking=False, figures=False, pseudonymize=True,
                         db_url=f"sqlite:///{tmp_path / 'x.db'}")
    result = run(str(source), tmp_path / "run", options=options)
    assert result.manifest["input"]["ingest"]["cache"] == {"used": False}
    assert not list(cache.rglob("*.parquet"))
