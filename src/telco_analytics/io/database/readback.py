"""Reading the exported table back: the most satisfied users, as the database itself returns them.

The report shows this query and its result as proof that the export landed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ...errors import ConfigError, DatabaseError
from ...privacy import mask_url
from .connection import db_error, engine_for
from .identifiers import validate_identifier


def select_top(
    url: str,
    table: str,
    n: int = 10,
    order_by: str = "satisfaction_score",
    *,
    tie_break: str | None = "msisdn",
    shown_as: str | None = None,
) -> pd.DataFrame:
    """The `n` rows with the largest `order_by` (ties by `tie_break` ascending).

    The SQL statement that was run is in `result.attrs["sql"]` (for the report's
    `report.db_select.format_select`), naming `shown_as` instead of `table` when given (a
    staging table read before it is swapped in under that name).
    """
    validate_identifier(table)
    validate_identifier(order_by, "order-by column")
    if tie_break is not None:
        validate_identifier(tie_break, "tie-break column")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"invalid row count {n!r}: expected a positive integer")
    with engine_for(url) as engine:
        q = engine.dialect.identifier_preparer.quote
        order = f"{q(order_by)} DESC" + (f", {q(tie_break)} ASC" if tie_break else "")
        sql = f"SELECT * FROM {q(table)} ORDER BY {order} LIMIT {int(n)}"
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(table):
                    raise DatabaseError(
                        f"query of table {table!r} in {mask_url(url)} failed: no such table"
                    )
                # the reflected column types turn stored values back into Python values
                # (SQLite keeps DATETIME as text)
                reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
                typed = [sa.column(c.name, read_type(c.type)) for c in reflected.c]
                stmt = sa.text(sql).columns(*typed)
                result = conn.execute(stmt)
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except DatabaseError:
            raise
        except Exception as exc:
            raise db_error(f"query of table {table!r} in", url, exc) from exc
    if shown_as is not None:
        validate_identifier(shown_as)
        sql = sql.replace(q(table), q(shown_as), 1)
    frame.attrs["sql"] = sql + ";"
    return frame


def read_type(reflected: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """Type used to read a column back: floats as float (reflected MySQL DOUBLE would give
    Decimal rounded to 10 places), everything else as reflected."""
    if isinstance(reflected, sa.Float):
        return sa.Double()
    return reflected
