"""The calibrated synthetic extract: format, identities, nulls, determinism, chunking."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.errors import ConfigError
from telco_analytics.synth import generate_frame, write_extract
from telco_analytics.synth.profile import REFERENCE_ROWS, column_facts

REFRESH_FITS = Path(__file__).resolve().parents[2] / "scripts" / "refresh_fits.py"
RAW = {c.name: c.raw for c in schema.COLUMNS}
APP_RAW = [RAW[n] for n in schema.APP_COLUMNS]
TEXT_RAW = [c.raw for c in schema.COLUMNS if c.dtype != "float64"]
NUMBER_RAW = [c.raw for c in schema.COLUMNS if c.dtype == "float64"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_frame(20_000, seed=3)


@pytest.fixture(scope="module")
def real(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:-1]


def read_raw_csv(path) -> pd.DataFrame:
    """The raw text as pandas would read the reference extract (ids and text as strings)."""
    return pd.read_csv(path, dtype={n: str for n in TEXT_RAW}, keep_default_na=False,
                       na_values=[""])


def test_same_seed_same_rows_other_seed_other_rows():
    a, b, c = generate_frame(500, seed=11), generate_frame(500, seed=11), generate_frame(500, 12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["MSISDN/Number"].equals(c["MSISDN/Number"])
    assert not a["Avg RTT DL (ms)"].equals(c["Avg RTT DL (ms)"])


def test_frame_has_raw_names_and_parquet_types(frame):
    assert list(frame.columns) == [c.raw for c in schema.COLUMNS]
    assert all(frame[n].dtype == np.float64 for n in NUMBER_RAW)
    assert str(frame["Start"].dtype).startswith("datetime64")
    assert (frame["Start"].dropna().dt.second == 0).all()  # minute resolution, as the CSV


def test_totals_and_durations_hold_on_every_row(real):
    dl = sum(real[RAW[schema.app_columns(a)[0]]] for a in schema.APPS if a != "other")
    ul = sum(real[RAW[schema.app_columns(a)[1]]] for a in schema.APPS)
    assert (dl == real["Total DL (Bytes)"]).all()
    assert (ul == real["Total UL (Bytes)"]).all()
    dur_ms = real["Dur. (ms).1"]
    assert (np.floor(dur_ms / 1000) == real["Dur. (ms)"]).all()
    assert (dur_ms % 1000 == (real["End ms"] - real["Start ms"]) % 1000).all()
    # Start/End are truncated to the minute: their gap is within a minute of the duration
    gap_ms = (real["End"] - real["Start"]).dt.total_seconds() * 1000
    assert ((gap_ms - dur_ms).abs() < 60_000).all()


def test_artifact_is_the_last_row_with_app_means_only(frame, real):
    last = frame.iloc[-1]
    assert set(last[last.notna()].index) == set(APP_RAW)
    for name in APP_RAW:
        assert last[name] == pytest.approx(real[name].mean(), rel=1e-12)
    assert real[schema.RAW_HEADER[0]].notna().any()


def test_null_rates_follow_the_profile(real):
    rows = len(real)
    for col in schema.COLUMNS:
        facts = column_facts(col.raw)
        artifact = 0 if col.raw in APP_RAW else 1
        expected = (facts["missing_count"] - artifact) / REFERENCE_ROWS
        assert real[col.raw].isna().mean() == pytest.approx(expected, abs=max(0.1 * expected, 2 / rows)), col.raw


def test_shared_null_patterns(real):
    dl = [c.raw for c in schema.COLUMNS if c.group == "tp_share" and c.name.startswith("dl_")]
    null = real[dl].isna()
    assert null.any().all() and null.eq(null.iloc[:, 0], axis=0).all().all()
    handset = real["Handset Type"].isna()
    assert handset.equals(real["Handset Manufacturer"].isna()) and handset.equals(real["IMEI"].isna())
    assert not (real["IMSI"].isna() & ~handset).any()  # IMSI nulls within the device nulls
    assert not (real["Avg RTT UL (ms)"].isna() & real["Avg RTT DL (ms)"].notna()).any()


def test_throughput_buckets_are_percentages_summing_to_at_most_100(real):
    for prefix in ("dl_", "ul_"):
        cols = [c.raw for c in schema.COLUMNS if c.group == "tp_share" and c.name.startswith(prefix)]
        values = real[cols].dropna()
        assert ((values >= 0) & (values <= 100)).all().all()
        assert (values.sum(axis=1) <= 100).all()


def test_users_keep_their_device_and_sessions_per_user_look_published(real):
    named = real.dropna(subset=["MSISDN/Number"])
    per_user = named.groupby("MSISDN/Number")
    assert 1.3 < per_user.size().mean() < 1.5  # published 1.39
    devices = per_user["IMEI"].nunique()
    assert (devices > 1).mean() < 0.01
    assert (per_user["IMSI"].nunique() <= 1).all()
    assert real["MSISDN/Number"].isna().sum() > 0  # sessions without a customer number


def test_handsets_include_the_unknown_literal_and_the_top_handset(real):
    counts = real["Handset Type"].value_counts()
    top_name = column_facts("Handset Type")["value_counts_top5"][0][0]
    assert counts.index[0] == top_name
    assert "undefined" in counts.index
    assert (real["Handset Type"].eq("undefined") == real["Handset Manufacturer"].eq("undefined")).all()


def test_csv_text_matches_the_reference_formats(tmp_path):
    path = write_extract(tmp_path / "x.csv", 3000, seed=4)
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode().split("\n")[:-1]
    assert lines[0] == ",".join(schema.RAW_HEADER)
    assert len(lines) == 1 + 3000 + 1
    fields = [line.split(",") for line in lines[1:-1]]
    assert all(len(f) == len(schema.RAW_HEADER) for f in fields)
    col = {name: i for i, name in enumerate(schema.RAW_HEADER)}  # 'Dur. (ms)': the 2nd one
    date = re.compile(r"^[1-9]\d?/[1-9]\d?/2019 [12]?\d:[0-5]\d$")
    bearer = re.compile(r"^[1-9]\.\d{1,14}E\+01[89]$")
    integer = re.compile(r"^(0|[1-9]\d*)$")
    location = re.compile(r"^([DLT]\d{5}[ABC]|9\.\d{14}E\+015|CELL_208_20_\d{6}_1)$")
    for f in fields:
        assert date.match(f[col["Start"]]) and date.match(f[col["End"]])
        assert f[col["Bearer Id"]] == "" or bearer.match(f[col["Bearer Id"]])
        assert f[col["Last Location Name"]] == "" or location.match(f[col["Last Location Name"]])
        for i, c in enumerate(schema.COLUMNS):
            if c.dtype == "float64" or c.kind == "id" and c.name != "bearer_id":
                assert f[i] == "" or integer.match(f[i]), (c.raw, f[i])
    assert any(f[col["Handset Type"]] == "undefined" for f in fields)
    artifact = lines[-1].split(",")
    assert [bool(v) for v in artifact] == [c.raw in APP_RAW for c in schema.COLUMNS]


def test_csv_gz_and_parquet_hold_the_same_extract_as_csv(tmp_path):
    csv = read_raw_csv(write_extract(tmp_path / "x.csv", 2500, seed=6, chunk_rows=1000))
    with gzip.open(write_extract(tmp_path / "x.csv.gz", 2500, seed=6, chunk_rows=1000)) as fh:
        pd.testing.assert_frame_equal(read_raw_csv(fh), csv)
    pq = pd.read_parquet(write_extract(tmp_path / "x.parquet", 2500, seed=6, chunk_rows=1000))
    assert list(pq.columns) == list(csv.columns)
    for name in NUMBER_RAW:
        np.testing.assert_array_equal(pq[name].to_numpy(), csv[name].to_numpy(dtype=float), name)
    for name in TEXT_RAW:
        if name in ("Start", "End"):
            parsed = pd.to_datetime(csv[name], format="%m/%d/%Y %H:%M")
            assert (pq[name].to_numpy() == parsed.to_numpy()).sum() == len(csv) - 1, name
        else:
            assert pq[name].fillna("<null>").tolist() == csv[name].fillna("<null>").tolist(), name


def test_chunks_never_share_a_user(tmp_path):
    chunk_rows = 700
    df = pd.read_parquet(write_extract(tmp_path / "x.parquet", 2800, seed=2, chunk_rows=chunk_rows))
    real = df.iloc[:-1].assign(chunk=np.arange(len(df) - 1) // chunk_rows)
    chunks_per_user = real.dropna(subset=["MSISDN/Number"]).groupby("MSISDN/Number")["chunk"].nunique()
    assert len(chunks_per_user) > 1000 and (chunks_per_user == 1).all()
    assert df.iloc[-1][APP_RAW].notna().all() and df.iloc[-1].drop(APP_RAW).isna().all()


def test_progress_reports_rows_done_after_each_chunk(tmp_path):
    seen: list[int] = []
    write_extract(tmp_path / "x.parquet", 2500, seed=1, chunk_rows=1000, progress=seen.append)
    assert seen == [1000, 2000, 2500]


@pytest.mark.parametrize("name, rows", [("x.csv", 0), ("x.csv", -5), ("x.txt", 10), ("x.parquet.bak", 10)])
def test_bad_requests_raise_config_error_and_leave_no_file(tmp_path, name, rows):
    with pytest.raises(ConfigError):
        write_extract(tmp_path / name, rows)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_extract(tmp_path / "x.parquet", 2000, chunk_rows=1000, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_numpy_built_text_matches_python_formatting():
    from telco_analytics.synth.digits import decimal_text
    from telco_analytics.synth.formats import excel_scientific

    values = np.array([0, 7, 10, 99_999, 33_601_000_000, 208_201_000_000_123, 10**15 - 1, 42])
    null = values == 42
    assert decimal_text(values, null).to_pylist() == [None if n else str(v)
                                                      for v, n in zip(values.tolist(), null)]
    mantissa = np.array([131_144_834_608_449, 100_000_000_000_000, 734_988_300_010_000, -1])
    exponent = np.array([19, 18, 18, 15])
    assert excel_scientific(mantissa, exponent).to_pylist() == [
        "1.31144834608449E+019", "1E+018", "7.3498830001E+018", None]


def test_start_order_is_a_stable_sort():
    from telco_analytics.synth.chunk import start_order
    from telco_analytics.synth.times import START_MIN

    start = START_MIN + np.random.default_rng(0).integers(0, 50, 5000)  # many ties
    np.testing.assert_array_equal(start_order(start), np.argsort(start, kind="stable"))


def test_parquet_reads_back_as_plain_strings_with_one_row_group_per_chunk(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write_extract(tmp_path / "x.parquet", 2500, seed=5, chunk_rows=1000)
    file = pq.ParquetFile(path)
    assert file.metadata.num_row_groups == 4  # three chunks and the artifact row
    for name in TEXT_RAW:
        if name not in ("Start", "End"):
            assert file.schema_arrow.field(name).type == pa.string(), name
    one_chunk = write_extract(tmp_path / "y.parquet", 2500, seed=5)
    pd.testing.assert_frame_equal(pd.read_parquet(one_chunk), generate_frame(2500, seed=5))


def test_stitched_row_groups_are_the_file_one_writer_writes(tmp_path):
    import io

    import pyarrow.parquet as pq

    from telco_analytics.synth.formats import Catalogs, parquet_table
    from telco_analytics.synth.stitch import StitchedFile
    from telco_analytics.synth.writer import _chunk, _parquet_file, _parquet_writer

    pools = Catalogs.for_seed(1)
    tables = [parquet_table(_chunk(i, i * 900, 2000, 1, 900), pools) for i in range(3)]
    one = io.BytesIO()
    with _parquet_writer(one, tables[0].schema, "auto") as writer:
        for table in tables:
            writer.write_table(table)
    stitched = io.BytesIO()
    pieces = StitchedFile(stitched)
    for table in tables:
        pieces.append(_parquet_file(table, "auto"))
    pieces.close()
    assert stitched.getvalue() == one.getvalue()
    assert pq.ParquetFile(io.BytesIO(stitched.getvalue())).metadata.num_row_groups == 3


@pytest.mark.parametrize("name", ["x.parquet", "x.csv.gz"])
def test_the_file_is_the_same_for_any_number_of_threads(tmp_path, name):
    files = [write_extract(tmp_path / f"{n}{name}", 3100, seed=4, chunk_rows=700, threads=n)
             for n in (1, 2, 3)]
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()


def _refresh_script():
    """scripts/refresh_fits.py as a module (it makes the fresh fits; scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("refresh_fits", REFRESH_FITS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_fits_are_current_and_equal_fresh_ones(monkeypatch):
    from telco_analytics.synth import fitcache
    from telco_analytics.synth._fitted import FITS

    assert FITS["key"] == fitcache.key(), (
        "profile or fitting code changed: run python scripts/refresh_fits.py")
    # the store hidden while fitting: fresh fits that read it would only compare it to itself
    monkeypatch.setattr(fitcache, "_store", lambda: None)
    fresh = _refresh_script().fresh_fits()
    # the least-squares fits end a few ulps apart on different CPUs (measured between two
    # machines: 2.3e-9 relative at most, 4e-12 absolute on values near 0): same structure
    # and texts, numbers equal to rounding
    assert _structure(fresh) == _structure(FITS)
    np.testing.assert_allclose(_numbers(fresh), _numbers(FITS), rtol=1e-7, atol=1e-9)


def _leaves(fits):
    """The stored fits' leaves in a fixed order; hex float texts as floats."""
    if isinstance(fits, dict):
        for key in sorted(fits):
            yield from _leaves(fits[key])
    elif isinstance(fits, list | tuple):
        for value in fits:
            yield from _leaves(value)
    elif isinstance(fits, str) and fits.lstrip("-").startswith("0x"):
        yield float.fromhex(fits)
    else:
        yield fits


def _structure(fits):
    return [leaf if not isinstance(leaf, float) else "number" for leaf in _leaves(fits)]


def _numbers(fits):
    return np.array([leaf for leaf in _leaves(fits) if isinstance(leaf, float)])


def test_fast_curve_evaluations_equal_np_interp_bit_for_bit():
    """sorted_values (ascending u) and rounded_values (any u) are np.interp's values, faster."""
    from telco_analytics.synth import chunk
    from telco_analytics.synth.curves import curve, duration_curve, share_curves

    curves = [curve(chunk.RAW[n]) for n in chunk.DRAWN if n in chunk.RAW] + [duration_curve()]
    for names in (chunk._DL_SHARES, chunk._UL_SHARES):
        curves += share_curves(tuple(chunk.RAW[n] for n in names))
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.random(200_000), [0.0, 1.0, 0.25, 0.5, 0.75, 0.97, 1 - 2**-40]])
    knots = np.concatenate([c.u for c in curves])  # values exactly on every knot too
    u = np.concatenate([u, knots, np.nextafter(knots, 0), np.nextafter(knots, 1)]).clip(0, 1)
    for c in curves:
        ascending = np.sort(u)
        np.testing.assert_array_equal(c.sorted_values(ascending), c.values(ascending))
        np.testing.assert_array_equal(c.rounded_values(u), np.rint(c.values(u)))
