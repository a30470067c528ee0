"""Charts declared once as Altair specs: pure functions from tables to charts.

One module per analysis section; the report, the slides and the dashboard all use them.
Shared palette and number formats live in `style`.
"""

from collections.abc import Callable, Mapping

import pandas as pd


def charts_for(tables: Mapping[str, pd.DataFrame],
               builders: Mapping[str, tuple[str, Callable[[pd.DataFrame], object]]]) -> dict:
    """Figure stem -> chart, for every (table name, builder) whose table is present and not
    empty (a run without some analyses still gets all its other charts)."""
    charts = {}
    for stem, (name, build) in builders.items():
        table = tables.get(name)
        if table is not None and len(table) > 0:
            charts[stem] = build(table)
    return charts
