"""Findings for the network team: the worst cells and hours of the day, from the values the
network recorded (experience_per_cell, experience_per_hour; ranking rule in
analysis/hotspots.py). Part of the experience section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.hotspots import CELL, HOUR
from . import nonempty_table, share_text
from .measured import MEASUREMENT, Measurement, metric_text
from .records import Evidence, Finding, finding, row_evidence

CELLS, HOURS = "experience_per_cell", "experience_per_hour"
TOP_CELLS = 10  # the cells a network finding names
SHOWN = ("rtt_ms", "throughput_kbps")  # the metrics quoted per cell and hour


def _shown(measured: Measurement) -> list[str]:
    """The metrics quoted: RTT and throughput, unless mostly filled."""
    return [m for m in SHOWN if not measured.mostly_filled(m)] or list(SHOWN)


def _group_text(row: pd.Series, metrics: list[str]) -> str:
    """'49.5 ms RTT, 9,655 kbps over 21 sessions'."""
    values = ", ".join(f"{metric_text(m, row[m])}" + (" RTT" if m == "rtt_ms" else "")
                       for m in metrics)
    return f"{values} over {int(row['sessions']):,} sessions"


def _network_text(measured: Measurement, metrics: list[str]) -> tuple[str, list[Evidence]]:
    """'network-wide 32.3 ms RTT and 11,751 kbps' and its evidence (the observed means)."""
    if not measured.known():
        return "", []
    parts = [metric_text(m, measured.value(m, "mean")) + (" RTT" if m == "rtt_ms" else "")
             for m in metrics]
    evidence = [Evidence(MEASUREMENT, {"metric": m}, {"mean": measured.value(m, "mean")})
                for m in metrics]
    return " and ".join(parts), evidence


def worst_cells_insight(cells: pd.DataFrame, measured: Measurement) -> Finding:
    """The cells where the network serves its users worst, and how many of them stand out
    beyond chance (allowing for every cell compared)."""
    cells = cells.sort_values("rank")
    top = cells.head(TOP_CELLS)
    metrics = _shown(measured)
    level = float(cells["interval_level"].iloc[0])
    standing = cells[cells["stands_out"].astype(bool)]
    listed = "; ".join(f"{r[CELL]} ({_group_text(r, metrics)})" for _, r in top.iterrows())
    network, network_evidence = _network_text(measured, metrics)
    text = (
        f"The {len(top)} cells with the worst recorded experience, of the {len(cells):,} cells "
        f"ranked (each with {int(cells['sessions'].min()):,} sessions or more), worst first by "
        f"the low end of the {share_text(level)} interval of their gap to the network: "
        f"{listed}." + (f" Network-wide: {network}." if network else "")
    )
    if len(standing):
        text += (f" {len(standing):,} of the cells stand out beyond chance, allowing for the "
                 f"{len(cells):,} cells compared.")
    else:
        text += (f" No cell stands out beyond chance, allowing for the {len(cells):,} cells "
                 "compared: the list is where to look first, not proof of a fault.")
    evidence = [row_evidence(CELLS, r, [CELL], ["rank", "sessions", "users", *metrics,
                                                "badness_low", "stands_out"])
                for _, r in top.iterrows()]
    evidence += [Evidence(CELLS, {}, {
        "count(rows)": len(cells), "min(sessions)": int(cells["sessions"].min()),
        "interval_level": level, "count(stands_out)": len(standing),
        "sum(users) over the listed cells": int(top["users"].sum())}), *network_evidence]
    action, users, effect = None, None, None
    key = metrics[0]
    if len(standing) and measured.known() and not measured.mostly_filled(key):
        first = [str(c) for c in standing[CELL].head(3)]
        named = first[0] if len(first) == 1 else f"{', '.join(first[:-1])} and {first[-1]}"
        action = (f"The network team should start with cell{'s' if len(first) > 1 else ''} "
                  f"{named}, which stand out beyond chance, then the other cells listed, and "
                  "check them at their busiest hours.")
        users = int(top["users"].sum())
        weighted = float(np.average(top[key], weights=top["sessions"]))
        ratio = weighted / measured.value(key, "mean")
        effect = ratio - 1 if key == "rtt_ms" else 1 - ratio
        evidence.append(Evidence(CELLS, {}, {
            f"session-weighted mean({key}) over the listed cells": weighted,
            f"that / network mean({key}) - 1": ratio - 1}))
    return finding("experience.worst_cells", text, action=action, priority=1,
                   evidence=evidence, users_affected=users, effect_size=effect, numbers={
                       "cells": [str(c) for c in top[CELL]], "cells_ranked": len(cells),
                       "cells_standing_out": [str(c) for c in standing[CELL]],
                       "metrics": metrics})


def worst_hours_insight(hours: pd.DataFrame, measured: Measurement) -> Finding:
    """The hour of the day when recorded experience is worst and best, and which hours stand
    out beyond chance (allowing for the hours compared)."""
    hours = hours.sort_values("rank")
    worst, best = hours.iloc[0], hours.iloc[-1]
    metrics = _shown(measured)
    network, network_evidence = _network_text(measured, metrics)
    standing = hours[hours["stands_out"].astype(bool)]
    text = (
        f"By hour of the day (session start), recorded experience is worst at "
        f"{int(worst[HOUR]):02d}:00 ({_group_text(worst, metrics)}) and best at "
        f"{int(best[HOUR]):02d}:00 ({_group_text(best, metrics)})"
        + (f"; network-wide {network}." if network else ".")
    )
    columns = ["rank", "sessions", *metrics, "stands_out"]
    evidence = [row_evidence(HOURS, worst, [HOUR], columns),
                row_evidence(HOURS, best, [HOUR], columns), *network_evidence,
                Evidence(HOURS, {}, {"count(rows)": len(hours),
                                     "count(stands_out)": len(standing)})]
    action = None
    if len(standing):
        named = ", ".join(f"{int(h):02d}:00" for h in standing[HOUR])
        text += (f" {len(standing)} of the {len(hours)} hours stand out beyond chance: "
                 f"{named}.")
        evidence += [row_evidence(HOURS, r, [HOUR], ["stands_out"])
                     for _, r in standing.iterrows()]
        action = (f"Capacity work in the worst cells should target the hours around "
                  f"{int(standing[HOUR].iloc[0]):02d}:00 first.")
    else:
        text += (f" No hour stands out beyond chance, allowing for the {len(hours)} hours "
                 "compared.")
    return finding("experience.worst_hours", text, action=action, evidence=evidence,
                   numbers={"worst_hour": int(worst[HOUR]), "best_hour": int(best[HOUR]),
                            "hours_standing_out": [int(h) for h in standing[HOUR]],
                            "metrics": metrics})


def network_insights(tables: dict[str, pd.DataFrame], measured: Measurement) -> list[Finding]:
    """The network findings that the available tables support."""
    out = []
    if (cells := nonempty_table(tables, CELLS)) is not None:
        out.append(worst_cells_insight(cells, measured))
    if (hours := nonempty_table(tables, HOURS)) is not None and len(hours) >= 2:
        out.append(worst_hours_insight(hours, measured))
    return out
