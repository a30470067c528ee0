"""Read raw xDR extracts (CSV, CSV.GZ, Parquet, XLSX, a folder or a glob) into `sessions`.

The reference extract's quirks handled here: the duplicate `Dur. (ms)` header (first = seconds,
second = milliseconds), `Bearer Id` in scientific notation, `M/D/YYYY H:MM` dates, empty and
`\\N` nulls, identifiers kept as text. Everything is validated before any long work starts.

CSV on DuckDB is read with typed numbers (io/csv_ingest.py), falling back to the text read
here when a value does not parse, and kept in the ingest cache (io/ingest_cache.py) when the
run asks for it.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from .. import engine, schema
from ..errors import InputError, SchemaError

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx")
TIMESTAMP_FORMATS = (
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
)


@dataclass
class InputFile:
    path: str
    bytes: int | None
    sha256: str | None


@dataclass
class ReadResult:
    """The canonical sessions and what the reader learnt about the input."""

    sessions: ibis.Table  # canonical columns (schema.NAMES), artifact rows included
    files: list[InputFile]
    notes: list[str] = field(default_factory=list)
    duration_unit: str = "ms (second Dur. (ms) column)"
    absent_columns: list[str] = field(default_factory=list)
    # how the input was read (CSV: typed or text parse, ingest cache hit or miss): manifest
    ingest: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- files


def resolve_inputs(source: str | Path) -> list[Path]:
    """The files behind a path, a folder or a glob, in a stable order.

    A URL (s3a://, hdfs://, ...) is handed to the engine as is: only Spark (with the matching
    connector) can read it, and the engine reports what it cannot read.
    """
    text = str(source)
    if is_remote(text):
        return [text]  # type: ignore[list-item]
    path = Path(text)
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True))
        files = [p for p in files if p.is_file() and _suffix(p) in SUFFIXES]
        if not files:
            raise InputError(f"no xDR files ({', '.join(SUFFIXES)}) match {text}")
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _suffix(p) in SUFFIXES)
        if not files:
            raise InputError(f"folder {text} holds no xDR files ({', '.join(SUFFIXES)})")
    elif path.exists():
        if _suffix(path) not in SUFFIXES:
            raise InputError(
                f"{text}: unsupported file type {_suffix(path) or '(none)'}; "
                f"expected one of {', '.join(SUFFIXES)}"
            )
        files = [path]
    else:
        raise InputError(f"input not found: {text}")
    kinds = {_kind(p) for p in files}
    if len(kinds) > 1:
        raise InputError(f"{text} mixes file types ({', '.join(sorted(kinds))}); use one type")
    for p in files:
        check_file(p)
    return files


def is_remote(text: str) -> bool:
    """A data-lake URL such as s3a://bucket/prefix/ or hdfs://namenode/path."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) is not None and not text.startswith("file://")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".csv.gz" if name.endswith(".csv.gz") else path.suffix.lower()


def _kind(path: Path | str) -> str:
    """csv, xlsx or parquet (a lake folder without a suffix is taken as Parquet)."""
    suffix = _suffix(Path(str(path)))
    return {".csv.gz": "csv", ".csv": "csv", ".xlsx": "xlsx"}.get(suffix, "parquet")


def check_file(path: Path) -> None:
    """Fail early on an empty, binary or corrupt file (one clear line)."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"input is empty: {path}")
    suffix = _suffix(path)
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if suffix == ".parquet":
        if not head.startswith(b"PAR1"):
            raise InputError(f"{path} is not a Parquet file (bad magic bytes)")
        return
    if suffix == ".xlsx":
        if not head.startswith(b"PK"):
            raise InputError(f"{path} is not an XLSX workbook (not a zip archive)")
        return
    if suffix == ".csv.gz":
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(8192)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path} is not a valid gzip file: {exc}") from None
        if not head.strip():
            raise InputError(f"input is empty: {path} (no data after decompression)")
    if b"\x00" in head:
        raise InputError(f"{path} is binary, not a CSV text file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end is fine
            raise InputError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    if not head.strip():
        raise InputError(f"input is empty: {path}")


def describe_file(path: Path | str) -> InputFile:
    """Path, size and SHA-256 of an input file (a remote input is only named)."""
    if is_remote(str(path)):
        return InputFile(str(path), None, None)  # type: ignore[arg-type]
    path = Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return InputFile(str(path), path.stat().st_size, digest.hexdigest())


# ---------------------------------------------------------------- raw tables


def read_raw(con: Any, files: list[Path]) -> ibis.Table:
    """The input as an engine table with its own header (text for CSV/XLSX, typed for Parquet)."""
    kind = _kind(files[0])
    paths = [str(p) for p in files]
    try:
        if kind == "csv":
            return engine.read_csv_text(con, paths)
        if kind == "parquet":
            return engine.read_parquet(con, paths)
        return engine.from_arrow(con, _read_xlsx(files))
    except InputError:
        raise
    except Exception as exc:  # the engines raise many types; the user needs one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {paths[0]}: {first}") from exc


def _read_xlsx(files: list[Path]):
    import pandas as pd
    import pyarrow as pa

    frames = []
    for p in files:
        try:
            frames.append(pd.read_excel(p, dtype=str, engine="openpyxl"))
        except Exception as exc:
            raise InputError(f"cannot read workbook {p}: {exc}") from exc
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame.columns = [str(c) for c in frame.columns]
    return pa.Table.from_pandas(frame.astype("string"), preserve_index=False)


def _spark_duplicate_durations(columns: list[str]) -> dict[str, str]:
    """Spark renames a duplicate header to name + position ("Dur. (ms)5", "Dur. (ms)28")."""
    dups = [c for c in columns if re.fullmatch(r"Dur\. \(ms\)\d+", c)]
    if len(dups) != 2:
        return {}
    first, second = sorted(dups, key=lambda c: int(c[len("Dur. (ms)"):]))
    return {"duration_s": first, "duration_ms": second}


def _key(name: str) -> str:
    return " ".join(str(name).lower().split())


def map_header(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Canonical name -> input column, and notes. Raises SchemaError listing every missing column.

    A header with two `Dur. (ms)` columns follows the reference extract: the first is seconds,
    the second milliseconds. A lone duration column is resolved later from its values.
    """
    by_key = {_key(c): c for c in columns}
    mapping: dict[str, str] = _spark_duplicate_durations(columns)
    for col in schema.COLUMNS:
        if col.name in mapping:
            continue
        candidates = (col.raw, col.name, *schema.ALIASES.get(col.name, ()))
        for cand in candidates:
            if _key(cand) in by_key:
                mapping[col.name] = by_key[_key(cand)]
                break
    notes = []
    if "duration_ms" not in mapping and "duration_s" in mapping:
        notes.append(
            f"only one duration column ({mapping['duration_s']!r}); its unit is decided "
            "from the values"
        )
    missing = [c for c in schema.REQUIRED_COLUMNS if c not in mapping]
    if "duration_ms" in missing and "duration_s" in mapping:
        missing.remove("duration_ms")
    if missing:
        raws = [schema.BY_NAME[c].raw.replace("Dur. (ms).1", "Dur. (ms)") for c in missing]
        raise SchemaError(
            f"not an xDR extract: {len(missing)} required column(s) missing: "
            + ", ".join(repr(r) for r in raws)
        )
    return mapping, notes


# ---------------------------------------------------------------- typing


def _is_text(t: dt.DataType) -> bool:
    return t.is_string()


def _number(raw: ibis.Table, column: str) -> ibis.Value:
    value = raw[column]
    if _is_text(value.type()):
        # the engines' casts accept surrounding spaces: no strip() (it doubles the cost)
        return value.nullif("").nullif("\\N").try_cast("float64")
    return value.cast("float64")


def _timestamp(raw: ibis.Table, column: str) -> ibis.Value:
    value = raw[column]
    if value.type().is_timestamp():
        return value.cast("timestamp")
    if value.type().is_date():
        return value.cast("timestamp")
    text = value.cast("string").strip().nullif("").nullif("\\N")
    return engine.try_parse_timestamp(_backend(raw), text, TIMESTAMP_FORMATS)


def _backend(table: ibis.Table) -> Any:
    return table._find_backend()


def _identifier(raw: ibis.Table, column: str, key: bool) -> ibis.Value:
    """Identifiers as text: 33664962239, never 3.3664962239e10 (floats lose digits).

    Only the user key (MSISDN) is normalized from float-looking text; the other identifiers
    are only profiled (missing counts), so they stay as written (cheaper at 100M rows).
    """
    value = raw[column]
    kind = value.type()
    if kind.is_integer():
        return value.cast("string")
    if kind.is_floating() or kind.is_decimal():
        return value.cast("decimal(38, 0)").cast("string")
    if not key:
        return value.cast("string").nullif("").nullif("\\N")
    text = value.cast("string").strip().nullif("").nullif("\\N")
    return ibis.cases(
        # the common case first: plain digits need no regular expression (cheap at 100M rows)
        (~text.contains(".") & ~text.contains("e") & ~text.contains("E"), text),
        (text.re_search(r"^[0-9]+\.0*$"), text.re_extract(r"^([0-9]+)", 1)),
        # pandas writes ids of a column with nulls as floats: 3.3664962239e+10
        (
            text.re_search(r"^[0-9]\.[0-9]+[eE]\+?[0-9]+$")
            & ~text.re_search(r"[eE]\+?0*(1[6-9]|[2-9][0-9])$"),
            text.try_cast("float64").cast("decimal(38, 0)").cast("string"),
        ),
        else_=text,
    )


def _text(raw: ibis.Table, column: str, strip: bool) -> ibis.Value:
    """Text with empty and \\N as missing; stripped where names are compared (handsets)."""
    value = raw[column].cast("string")
    return (value.strip() if strip else value).nullif("").nullif("\\N")


def type_problems(raw: ibis.Table, mapping: dict[str, str]) -> list[str]:
    """One phrase per column whose non-empty values do not parse, with an offending value."""
    checks = {}
    for name, source in mapping.items():
        col = schema.BY_NAME[name]
        if not _is_text(raw[source].type()) or col.dtype == "string":
            continue
        text = raw[source].nullif("").nullif("\\N")
        parsed = _timestamp(raw, source) if col.dtype == "timestamp" else _number(raw, source)
        bad = text.notnull() & parsed.isnull()
        checks[name] = (bad, text)
    if not checks:
        return []
    return problems_of(raw, {name: ibis.ifelse(bad, text, ibis.null("string"))
                             for name, (bad, text) in checks.items()}, mapping)


def problems_of(table: ibis.Table, offending: dict[str, ibis.Value],
                mapping: dict[str, str]) -> list[str]:
    """The phrases of type_problems from, per canonical column, its offending text where a
    value does not parse (else null), in one pass over `table`."""
    aggs = {}
    for i, value in enumerate(offending.values()):
        aggs[f"n{i}"] = value.count()
        aggs[f"v{i}"] = value.max()
    row = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    problems = []
    for i, name in enumerate(offending):
        count = row[f"n{i}"] or 0
        if count:
            col = schema.BY_NAME[name]
            expected = "a date-time" if col.dtype == "timestamp" else "a number"
            problems.append(
                f"column {mapping[name]!r} should hold {expected} but {count} value(s) do not, "
                f"e.g. {row[f'v{i}']!r}"
            )
    return problems


def duration_unit(raw: ibis.Table, mapping: dict[str, str]) -> str:
    """Unit of a lone duration column: 'ms' or 's', from its ratio to End - Start."""
    both = "start_time" in mapping and "end_time" in mapping
    return decide_unit(
        raw, _number(raw, mapping["duration_s"]),
        _timestamp(raw, mapping["start_time"]) if both else None,
        _timestamp(raw, mapping["end_time"]) if both else None,
    )


def decide_unit(table: ibis.Table, value: ibis.Value, start: ibis.Value | None,
                end: ibis.Value | None) -> str:
    """duration_unit from the lone duration's values and the parsed Start and End."""
    if start is not None and end is not None:
        span = end.epoch_seconds() - start.epoch_seconds()
        row = table.aggregate(v=value.median(), s=span.median()).to_pyarrow().to_pylist()[0]
        if row["v"] is not None and row["s"]:
            return "ms" if row["v"] / row["s"] > 30 else "s"
    median = table.aggregate(v=value.median()).to_pyarrow().to_pylist()[0]["v"]
    return "ms" if (median or 0) > 1_000_000 else "s"


def canonical(raw: ibis.Table, mapping: dict[str, str], lone_duration_unit: str | None) -> ibis.Table:
    """The sessions table: every schema column, canonical name and type (absent -> null)."""
    return raw.select(**canonical_exprs(raw, mapping, lone_duration_unit))


def canonical_exprs(raw: ibis.Table, mapping: dict[str, str],
                    lone_duration_unit: str | None) -> dict[str, ibis.Value]:
    """canonical's columns as expressions over `raw` (a lone duration with no unit yet is
    left as it is read, as duration_s)."""
    exprs = {}
    for col in schema.COLUMNS:
        source = mapping.get(col.name)
        if source is None:
            exprs[col.name] = ibis.null(
                {"string": "string", "timestamp": "timestamp", "float64": "float64"}[col.dtype]
            )
        elif col.kind == "id":
            exprs[col.name] = _identifier(raw, source, key=col.name == schema.USER_KEY)
        elif col.dtype == "timestamp":
            exprs[col.name] = _timestamp(raw, source)
        elif col.dtype == "string":
            exprs[col.name] = _text(raw, source, strip=col.group == "handset")
        else:
            exprs[col.name] = _number(raw, source)
    if lone_duration_unit is not None:
        exprs.update(lone_duration_exprs(_number(raw, mapping["duration_s"]), lone_duration_unit))
    return exprs


def lone_duration_exprs(value: ibis.Value, unit: str) -> dict[str, ibis.Value]:
    """duration_ms and duration_s from a lone duration column's values in `unit`."""
    if unit == "ms":
        return {"duration_ms": value, "duration_s": (value / 1000).floor().cast("float64")}
    return {"duration_ms": value * 1000, "duration_s": value}


def read_sessions(con: Any, source: str | Path, *, cache_dir: Path | None = None,
                  typed_csv: bool = True) -> ReadResult:
    """Validate and read an input into canonical sessions (materialized once in the engine).

    cache_dir: where a CSV extract read before is kept as Parquet, keyed by its content and
    this reader's version (see ingest_cache); None reads it anew. typed_csv: False reads CSV
    as text only (the tolerant path the typed read falls back to; tests compare the two).
    """
    from . import ingest_cache  # built on this module's helpers: imported here, no cycle

    files = resolve_inputs(source)
    local_csv = (_kind(files[0]) == "csv" and engine.is_local(con)
                 and not is_remote(str(files[0])))
    cache = None
    if cache_dir is not None and local_csv:
        # the files' SHA-256 (for the manifest) is the cache key: hashed once, before reading
        cache = ingest_cache.IngestCache(cache_dir, [describe_file(p) for p in files])
        hit = cache.load(con)
        if hit is not None:
            return hit
    result = _read(con, source, files, typed_csv and local_csv)
    if cache is not None:
        result.files = cache.files
        result.ingest["cache"] = cache.store(con, result)
    else:
        result.files = [describe_file(p) for p in files]
        if local_csv:
            result.ingest["cache"] = {"used": False}
    return result


def _read(con: Any, source: str | Path, files: list[Path], typed_csv: bool) -> ReadResult:
    """read_sessions without the cache (ReadResult.files left empty)."""
    from . import csv_ingest  # built on this module's helpers: imported here, no cycle

    kind = _kind(files[0])
    raw = read_raw(con, files)  # CSV: a lazy text view, for its header
    try:
        mapping, notes = map_header(list(raw.columns))
    except SchemaError as exc:  # say which input: the header alone does not
        raise SchemaError(f"{source}: {exc}") from None
    typed = csv_ingest.read_typed(con, files, mapping) if typed_csv else None
    ingest: dict[str, Any] = {}
    if kind == "csv":
        ingest["csv_parse"] = ("typed" if typed is not None else
                               "text (a value did not parse as typed)" if typed_csv else "text")
    if typed is not None:
        problems, lone_unit = typed.problems, typed.lone_unit
    else:
        if kind != "parquet":
            # text formats are parsed once into the engine; the checks below then scan memory
            raw = engine.materialize(con, raw, "raw")
        problems = type_problems(raw, mapping)
    if problems:
        raise SchemaError(f"{files[0] if len(files) == 1 else source}: " + "; ".join(problems))
    unit_note = "ms (second Dur. (ms) column)"
    if typed is None:
        lone_unit = duration_unit(raw, mapping) if "duration_ms" not in mapping else None
    if lone_unit is not None:
        unit_note = (
            f"{'ms' if lone_unit == 'ms' else 's (converted to ms)'} "
            f"(lone duration column {mapping['duration_s']!r}, unit decided from its values)"
        )
        notes.append(f"duration unit: {unit_note}")
        log.info("duration unit: %s", unit_note)
    if typed is not None:
        sessions = typed.sessions
    else:
        sessions = canonical(raw, mapping, lone_unit)
        if kind != "parquet":
            # text is parsed once and kept; Parquet is re-read lazily, column by column, by
            # the few passes that follow (cheaper than copying all 55 columns, and out of core)
            sessions = engine.materialize(con, sessions, "sessions")
    if int(sessions.count().to_pyarrow().as_py()) == 0:
        raise InputError(f"input has a header but no data rows: {source}")
    absent = [c for c in schema.NAMES if c not in mapping and c != "duration_ms"
              and not (c == "duration_s" and lone_unit)]
    if absent:
        notes.append(f"{len(absent)} optional column(s) absent, read as missing: "
                     + ", ".join(absent))
    return ReadResult(sessions=sessions, files=[], notes=notes, duration_unit=unit_note,
                      absent_columns=absent, ingest=ingest)
