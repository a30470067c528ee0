"""Typed CSV ingest: the numbers parsed while the engine reads the file, one materialized table.

The tolerant text read (reader.read_raw, type_problems, canonical) reads every column as text,
keeps that copy, scans it for values that do not parse, and keeps a second, cast copy. Here
DuckDB parses the measurement columns as DOUBLE while it reads, and the canonical sessions are
materialized once, straight from the file.

Same results: DuckDB's CSV number parsing accepts the same text as the TRY_CAST of the text
read, with the same values (tests/unit/test_csv_ingest.py checks odd values: spaces, signs,
exponents, inf/nan, underscores, quoted numbers). A value it cannot parse makes the read raise;
the reader then falls back to the text read for that input, whose checks name the column and
an offending value exactly as before. The timestamps stay text in the read (each value may
use any of reader.TIMESTAMP_FORMATS) and are parsed in the same pass; the text of a value no
format parses is kept aside in the table, so that it is reported as before without reading the
file again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis

from .. import engine, schema
from . import reader

log = logging.getLogger(__name__)

# materialized beside the canonical columns, dropped from the sessions handed on
_UNPARSED = "_unparsed_"  # + a timestamp column's name: its text where no format parses it


@dataclass
class TypedRead:
    sessions: ibis.Table  # canonical columns (schema.NAMES), artifact rows included
    problems: list[str]  # type_problems' phrases (timestamps only: numbers parsed or raised)
    lone_unit: str | None  # unit of a lone duration column, decided from its values


def read_typed(con: Any, files: list[Path], mapping: dict[str, str]) -> TypedRead | None:
    """The canonical sessions read with typed numbers, or None when a value does not parse as
    typed (the caller falls back to the text read, which reports or accepts it as before)."""
    numeric = [src for name, src in mapping.items() if schema.BY_NAME[name].dtype == "float64"]
    stamps = [name for name in mapping if schema.BY_NAME[name].dtype == "timestamp"]
    try:
        raw = engine.read_csv_typed(con, [str(p) for p in files], numeric)
        exprs = reader.canonical_exprs(raw, mapping, None)
        for name in stamps:
            text = raw[mapping[name]].nullif("").nullif("\\N")
            exprs[_UNPARSED + name] = ibis.ifelse(
                text.notnull() & exprs[name].isnull(), text, ibis.null("string"))
        # the file's size stands for the table's (in memory when it fits, see materialize)
        size = sum(p.stat().st_size * (4 if p.name.lower().endswith(".gz") else 1)
                   for p in files)
        table = engine.materialize(con, raw.select(**exprs), "sessions", expected_bytes=size)
    except Exception as exc:  # noqa: BLE001 - any failure: the text read decides, as before
        # the engine's message quotes the offending line (identifiers): only its kind is logged
        log.info("typed CSV read failed (%s); reading every column as text",
                 type(exc).__name__)
        return None
    problems = reader.problems_of(
        table, {name: table[_UNPARSED + name] for name in stamps}, mapping) if stamps else []
    if problems:
        return TypedRead(table, problems, None)
    columns: dict[str, ibis.Value] = {name: table[name] for name in schema.NAMES}
    lone_unit = None
    if "duration_ms" not in mapping:
        both = "start_time" in mapping and "end_time" in mapping
        lone_unit = reader.decide_unit(
            table, table["duration_s"], table["start_time"] if both else None,
            table["end_time"] if both else None)
        columns.update(reader.lone_duration_exprs(table["duration_s"], lone_unit))
    return TypedRead(table.select(**columns), [], lone_unit)
