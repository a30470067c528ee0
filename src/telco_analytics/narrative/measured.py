"""What the experience findings need to know about measured and filled values: which metrics
are mostly filled (they rank nothing and drive no advice), the measured shares to quote, and
how a metric's value reads in a sentence."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..report.figures.style import human_bytes
from . import share_text
from .records import Evidence, row_evidence

MEASUREMENT = "experience_measurement"
LABEL = {"rtt_ms": "RTT", "tcp_retrans_bytes": "retransmission",
         "throughput_kbps": "throughput"}
LONG_LABEL = {"rtt_ms": "round-trip time (RTT)", "tcp_retrans_bytes": "TCP retransmission",
              "throughput_kbps": "throughput"}
ORDER = ("rtt_ms", "throughput_kbps", "tcp_retrans_bytes")  # how sentences list them


def metric_text(metric: str, value: float) -> str:
    """A metric's value with its unit: '24.4 ms', '7,382 kbps', '1.66 MB'."""
    if metric == "rtt_ms":
        return f"{value:,.1f} ms"
    if metric == "throughput_kbps":
        return f"{value:,.0f} kbps"
    return human_bytes(value)


class Measurement:
    """The experience_measurement table, or nothing (an older run): then every metric counts
    as measured and nothing is said about filling."""

    def __init__(self, table: pd.DataFrame | None) -> None:
        self.table = None if table is None else table.set_index("metric", drop=False)

    def known(self) -> bool:
        return self.table is not None

    def mostly_filled(self, metric: str) -> bool:
        return self.known() and bool(self.table.loc[metric, "mostly_filled"])

    def filled_metrics(self, metrics: Sequence[str] = ORDER) -> list[str]:
        return [m for m in metrics if self.mostly_filled(m)]

    def value(self, metric: str, column: str) -> float:
        return float(self.table.loc[metric, column])

    def evidence(self, metric: str, columns: Sequence[str]) -> Evidence:
        return row_evidence(MEASUREMENT, self.table.loc[metric], ["metric"], columns)

    def advice(self, metric: str, text: str, evidence: list[Evidence], consequence: str,
               action: str | None) -> tuple[str, str | None]:
        """The finding's text and action: on a mostly filled metric the text says so
        (' Retransmission is mostly filled in (measured in 27% of sessions)<consequence>',
        its evidence appended) and the action is dropped; else both as they are."""
        if not self.mostly_filled(metric):
            return text, action
        evidence.append(self.evidence(metric, ["measured_share", "mostly_filled"]))
        return (text + f" {LABEL[metric].capitalize()} is mostly filled in (measured in "
                f"{share_text(self.value(metric, 'measured_share'))} of sessions){consequence}",
                None)
