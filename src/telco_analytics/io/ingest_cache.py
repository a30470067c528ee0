"""The ingest cache: a CSV extract read once is kept as Parquet, so that the next run on the
same extract skips parsing and checking it.

An entry is keyed by the files' content and by the reader's version. The content is the files'
SHA-256, which the manifest records anyway (hashing costs no extra pass; SHA-256 was also the
fastest of hashlib's on this machine's CPU, about 0.6 GB/s of CPU). The version is a digest of
the code that turns text into sessions (reader, csv_ingest, this module, schema, engine) and
the engine's version: a changed reader never serves an old parse.

Entries live in the user cache folder (TELCO_CACHE_DIR, else ~/.cache/telco-analytics, as the
built-in sample; see sample.cache_dir) under ingest/. An entry is written to a temporary file
and renamed, so a stopped run or two runs at once never leave a partial one; the newest KEEP
are kept. An entry that cannot be read back whole (truncated, corrupt, another version, a
different row count) is deleted and the extract parsed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import engine, schema
from . import csv_ingest, reader
from .reader import InputFile, ReadResult

log = logging.getLogger(__name__)

FORMAT = 1  # of an entry: bump when what is stored changes
KEEP = 3  # newest entries kept (one 1.5M-session extract: about 0.3 GB)
METADATA_KEY = "telco_ingest"
_STALE_TMP_S = 24 * 3600  # a temporary file this old is left from a stopped run
_FREE_MARGIN = 1 << 30  # bytes left free on the cache's disk beyond the entry's size


def default_dir() -> Path:
    """The ingest cache's folder: ingest/ in the user cache folder."""
    from ..sample import cache_dir

    return cache_dir() / "ingest"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    digest = hashlib.sha256()
    for module in (reader, csv_ingest, schema, engine):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def reader_version(con: Any) -> str:
    """The reader's version: entry format, reader code and engine version."""
    text = f"{FORMAT} {_code_digest()} {engine.engine_name(con)} {con.version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class IngestCache:
    """The cache entry of one input (its files, hashed)."""

    def __init__(self, folder: Path, files: list[InputFile]) -> None:
        self.folder = Path(folder)
        self.files = files

    def _entry(self, con: Any) -> tuple[Path, str]:
        version = reader_version(con)
        digest = hashlib.sha256(version.encode())
        for text in self._inputs():
            digest.update(f"{text};".encode())
        return self.folder / f"{digest.hexdigest()[:32]}.parquet", version

    def _inputs(self) -> list[str]:
        return [f"{f.sha256} {f.bytes}" for f in self.files]

    def load(self, con: Any) -> ReadResult | None:
        """The input's sessions from the cache (materialized, as a parsed CSV), or None."""
        path, version = self._entry(con)
        if not path.exists():
            return None
        try:
            meta = _metadata(path)
            if meta.get("version") != version:
                raise ValueError("written by another reader version")
            if meta.get("inputs") != self._inputs():
                raise ValueError("written for other input files")
            table = engine.read_parquet(con, [str(path)])
            if list(table.columns) != list(schema.NAMES):
                raise ValueError("not the canonical columns")
            # read whole now: a corrupt page fails here (and is parsed again), not mid-run
            sessions = engine.materialize(con, table, "sessions",
                                          expected_bytes=meta["rows"] * len(schema.NAMES) * 8)
            rows = int(sessions.count().to_pyarrow().as_py())
            if rows != meta["rows"]:
                raise ValueError(f"{rows} rows, {meta['rows']} written")
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is parsed again
            log.warning("ingest cache entry %s unreadable (%s); reading the extract again",
                        path.name, str(exc).strip().splitlines()[0] if str(exc).strip()
                        else type(exc).__name__)
            _remove(path)
            return None
        try:
            os.utime(path)  # recently used: kept longest
        except OSError:  # a read-only cache folder still serves its entries
            pass
        log.info("input read from the ingest cache (%s)", path.name)
        return ReadResult(
            sessions=sessions, files=self.files, notes=list(meta["notes"]),
            duration_unit=meta["duration_unit"], absent_columns=list(meta["absent_columns"]),
            ingest={"csv_parse": "none (ingest cache)",
                    "cache": {"used": True, "hit": True, "entry": path.name}},
        )

    def store(self, con: Any, result: ReadResult) -> dict[str, Any]:
        """Keep a read input's sessions; the manifest's cache facts. Never fails the run."""
        path, version = self._entry(con)
        facts: dict[str, Any] = {"used": True, "hit": False, "stored": False}
        tmp = self.folder / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Parquet (zstd) is a few times smaller than the CSV: its size bounds the entry's
            needed = sum(f.bytes or 0 for f in self.files) + _FREE_MARGIN
            if shutil.disk_usage(self.folder).free < needed:
                log.warning("ingest cache not written: less than %.1f GB free in %s",
                            needed / 1e9, self.folder)
                facts["why_not_stored"] = "not enough free disk space"
                return facts
            meta = {"version": version, "inputs": self._inputs(), "rows": int(result.sessions.count().to_pyarrow().as_py()),
                    "notes": result.notes, "duration_unit": result.duration_unit,
                    "absent_columns": result.absent_columns}
            engine.copy_to_parquet(con, result.sessions, tmp, {METADATA_KEY: json.dumps(meta)})
            os.replace(tmp, path)  # atomic: readers see the whole entry or none
        except Exception as exc:  # noqa: BLE001 - the cache only saves time
            log.warning("ingest cache not written (%s)", type(exc).__name__)
            _remove(tmp)
            facts["why_not_stored"] = type(exc).__name__
            return facts
        self._evict(path)
        facts.update(stored=True, entry=path.name)
        return facts

    def _evict(self, newest: Path) -> None:
        """Keep the KEEP most recently used entries; drop temporaries of stopped runs."""
        try:
            entries = sorted(self.folder.glob("*.parquet"),
                             key=lambda p: p.stat().st_mtime, reverse=True)
            for old in [p for p in entries if p != newest][KEEP - 1:]:
                old.unlink(missing_ok=True)
            for tmp in self.folder.glob(".*.tmp"):
                if time.time() - tmp.stat().st_mtime > _STALE_TMP_S:
                    tmp.unlink(missing_ok=True)
        except OSError as exc:  # another run evicting at the same time
            log.debug("ingest cache eviction: %s", exc)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # a read-only cache folder: the entry stays, and is parsed around
        log.debug("ingest cache: cannot remove %s: %s", path.name, exc)


def _metadata(path: Path) -> dict[str, Any]:
    """The entry's own facts, from its Parquet footer (fails on a truncated file)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[METADATA_KEY.encode()])
