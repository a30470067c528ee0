"""The run folder: which file holds which dataset, and the only code that reads or writes it.

The runner, the report and slides, the dashboard and tracking reach a run's files only through
`RunCatalog`. Every write is atomic (a temporary name in the same folder, then a rename), and a
whole run folder appears at once (`staged_folder`: written beside the final name, swapped in
when everything succeeded, removed when anything failed).

```
DIR/manifest.json            provenance, parameters, definitions, timings
DIR/tables/NAME.parquet|csv  every published table
DIR/tables/insights.json     the written findings
DIR/figures/NAME.png         every chart
DIR/db_select.txt            the SELECT shown after the database export
DIR/tracking/runs.csv        one row per tracked run
DIR/report.html, slides.pptx
DIR/telco.db                 the SQLite export when no database URL is given
```
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError, OutputError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TABLES = "tables"
FIGURES = "figures"
INSIGHTS = "insights.json"
DB_SELECT = "db_select.txt"
TRACKING_RUNS = "tracking/runs.csv"
REPORT = "report.html"
SLIDES = "slides.pptx"
SQLITE_EXPORT = "telco.db"


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write to a temporary name in the same folder, then rename: never a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _jsonable(value: Any) -> Any:
    """JSON-ready copy: numpy scalars as Python numbers, NaN as null, paths as text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def json_text(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n"


def lock_path(final: Path) -> Path:
    """The lock file beside a run folder: held by the run writing it (`execution.exclusive`)."""
    final = Path(final).resolve()
    return final.parent / f".{final.name}.lock"


def staging_leftovers(final: Path) -> list[Path]:
    """Staging and replaced folders of `final` still on disk (none after any run ended)."""
    final = Path(final).resolve()
    if not final.parent.is_dir():
        return []
    return sorted(p for p in final.parent.iterdir()
                  if p.name.startswith((f".{final.name}.partial-", f".{final.name}.old-")))


@contextmanager
def staged_folder(final: Path, *, publish: Callable[[], None] | None = None,
                  discard: Callable[[], None] | None = None,
                  shield: Callable[[], AbstractContextManager[Any]] = nullcontext
                  ) -> Iterator[Path]:
    """Yield a staging folder next to `final`; on success it replaces `final`, else vanishes
    (with any parent folders made for it).

    `publish()` runs just before the swap (what must appear with the folder: the database
    table swapped in), `discard()` on any failure or interrupt (dropping what `publish` would
    have published). `shield()` holds interrupts back over publish and swap, so they happen
    together or not at all.
    """
    final = Path(final).resolve()
    created = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
    staging = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}"
    swapped = False
    try:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
        except OSError as exc:
            raise output_error(final, exc) from exc
        yield staging
        with shield():
            if publish is not None:
                publish()
            old = None
            if final.exists():
                old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(final, old)
            os.replace(staging, final)
            swapped = True
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if not swapped:
            if discard is not None:
                discard()
            shutil.rmtree(staging, ignore_errors=True)
            for folder in created:  # parents made for this run: leave nothing behind
                try:
                    folder.rmdir()
                except OSError:
                    break
        raise


# errors of the output location itself (the run's fault only if it is ours to fix)
OUTPUT_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EFBIG,
                 errno.EDQUOT}


def is_output_trouble(exc: BaseException, final: Path) -> bool:
    """Whether an error says the output location cannot be written (read-only, no space, a
    file-size limit), including pyarrow's and SQLite's wording of it."""
    if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
        where = exc.filename
        return where is None or Path(str(where)).resolve().is_relative_to(
            Path(final).resolve().parent)
    text = str(exc).lower()
    return any(words in text for words in ("no space left", "file too large",
                                           "read-only file system", "disk is full"))


def output_error(final: Path, exc: BaseException) -> OutputError:
    """One line naming the location and the system's reason."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    reason = " ".join(str(reason).split())
    return OutputError(f"cannot write the run folder {final}: {reason} (choose another --out, "
                       "or free space / fix permissions there)")


def latest_run(root: Path) -> Path | None:
    """The most recently finished run folder directly under `root`, None when there is none.

    Recency is the manifest's modification time (written last, when the run completed); hidden
    folders are the staging folders of runs in progress or failed and are skipped.
    """
    root = Path(root)
    if not root.is_dir():
        return None
    runs = [RunCatalog(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    runs = [r for r in runs if r.is_run()]
    if not runs:
        return None
    return max(runs, key=lambda r: (r.path(MANIFEST).stat().st_mtime_ns, r.root.name)).root


class RunCatalog:
    """One run folder's datasets by name: paths, readers and atomic writers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # what must be published together with the folder: (commit, discard) pairs
        self.pending: list[tuple[Callable[[], None], Callable[[], None]]] = []

    def publish_with_folder(self, commit: Callable[[], None],
                            discard: Callable[[], None]) -> None:
        """Have `commit()` run when this (staging) folder is swapped in, `discard()` if it
        never is (a database table staged by a node, swapped in with the run folder)."""
        self.pending.append((commit, discard))

    def publish_pending(self) -> None:
        for commit, _ in self.pending:
            commit()

    def discard_pending(self) -> None:
        for _, discard in self.pending:
            try:
                discard()
            except Exception as exc:  # noqa: BLE001 - never masks the error being raised
                log.warning("could not discard a staged output: %s", exc)

    # ------------------------------------------------------------ paths

    @property
    def tables_dir(self) -> Path:
        return self.root / TABLES

    @property
    def figures_dir(self) -> Path:
        return self.root / FIGURES

    def table_path(self, name: str) -> Path:
        return self.tables_dir / f"{name}.parquet"

    def csv_path(self, name: str) -> Path:
        return self.tables_dir / f"{name}.csv"

    def figure_path(self, name: str) -> Path:
        return self.figures_dir / f"{name}.png"

    def path(self, name: str) -> Path:
        """A named file of the run: MANIFEST, INSIGHTS, DB_SELECT, TRACKING_RUNS, REPORT, ..."""
        return self.tables_dir / INSIGHTS if name == INSIGHTS else self.root / name

    # ------------------------------------------------------------ what is there

    def problem(self) -> str | None:
        """Why this is not a readable run folder (one sentence), or None when it is one."""
        if not self.root.is_dir():
            return f"The run folder {self.root} does not exist."
        if not self.path(MANIFEST).is_file():
            return f"{self.root} is not a run folder: it has no {MANIFEST}."
        if not self.tables_dir.is_dir():
            return f"{self.root} is not a complete run folder: it has no {TABLES}/ folder."
        return None

    def is_run(self) -> bool:
        """A folder written by `telco run`: it holds a manifest."""
        return self.path(MANIFEST).is_file()

    def require_run(self) -> RunCatalog:
        """Self, or InputError when the folder is not a run (no manifest)."""
        if not self.is_run():
            raise InputError(f"not a run folder: {self.root} (expected {MANIFEST}; "
                             "make one with `telco run --out DIR`)")
        return self

    def table_names(self) -> list[str]:
        """Names of the tables saved in the run folder, sorted."""
        return sorted(p.stem for p in self.tables_dir.glob("*.parquet"))

    def has_table(self, name: str) -> bool:
        return self.table_path(name).is_file()

    def figures(self) -> dict[str, Path]:
        """Figure stem -> PNG path, sorted by stem."""
        return {p.stem: p for p in sorted(self.figures_dir.glob("*.png"))}

    # ------------------------------------------------------------ readers

    def read_table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        return pd.read_parquet(self.table_path(name), columns=columns)

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.path(name)
        return json.loads(path.read_text()) if path.is_file() else default

    def read_manifest(self) -> dict[str, Any]:
        return self.read_json(MANIFEST, {})

    def read_insights(self) -> list[dict[str, Any]]:
        return self.read_json(INSIGHTS, [])

    def read_text(self, name: str) -> str | None:
        path = self.path(name)
        return path.read_text() if path.is_file() else None

    def read_tracking_runs(self) -> pd.DataFrame | None:
        """tracking/runs.csv, or None when tracking did not run or the file is unreadable."""
        path = self.path(TRACKING_RUNS)
        if not path.is_file():
            return None
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            log.warning("%s unreadable (%s): left out", TRACKING_RUNS, exc)
            return None

    # ------------------------------------------------------------ writers

    def write_table(self, name: str, df: pd.DataFrame) -> None:
        """NAME.parquet and NAME.csv, each written atomically."""
        table = pa.Table.from_pandas(df, preserve_index=False)
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        for path, write in ((self.table_path(name), pq.write_table),
                            (self.csv_path(name), pacsv.write_csv)):  # ~10x DataFrame.to_csv
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                write(table, tmp)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)

    def write_json(self, name: str, data: Any) -> Path:
        return write_atomic(self.path(name), json_text(data))

    def write_text(self, name: str, text: str) -> Path:
        return write_atomic(self.path(name), text)

    def write_bytes(self, name: str, data: bytes) -> Path:
        return write_atomic(self.path(name), data)

    def write_figure(self, name: str, png: bytes) -> Path:
        return write_atomic(self.figure_path(name), png)
