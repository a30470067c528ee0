"""Database export of a result table (SPEC section 6): atomic replace and the top-rows query.

The only package that writes SQL for the export; this file only names its public API.

  identifiers  names safe to write into SQL (`validate_identifier`)
  connection   the URL, short-lived engines, one-line errors with the password masked
  frame        whether a frame can be exported, and the key order to write it in
  values       how the frame's values reach a driver (kinds, chunks, NULLs)
  loaders      filling the staging table: SQLite, MySQL fallback and generic executemany
  infile       MySQL/MariaDB `LOAD DATA LOCAL INFILE` from a temporary CSV
  staging      the staging table, the atomic swap, dropping leftovers
  export       `stage_table` (validate, fill a staging table) and its `commit` (swap);
               `export_table`: both at once
  readback     `select_top`: the top rows read back for the report
"""

from .connection import (
    DB_URL_ENV,
    DEFAULT_SQLITE_NAME,
    check_connection,
    resolve_db_url,
)
from .export import StagedTable, export_table, stage_table
from .frame import EXPORTED_AT_COLUMN, KEY_LENGTH, RUN_ID_COLUMN
from .identifiers import IDENTIFIER_RE, MAX_IDENTIFIER, validate_identifier
from .readback import select_top

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_SQLITE_NAME",
    "EXPORTED_AT_COLUMN",
    "IDENTIFIER_RE",
    "KEY_LENGTH",
    "MAX_IDENTIFIER",
    "RUN_ID_COLUMN",
    "StagedTable",
    "check_connection",
    "export_table",
    "resolve_db_url",
    "select_top",
    "stage_table",
    "validate_identifier",
]
