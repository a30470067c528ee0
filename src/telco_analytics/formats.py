"""Text formats of numbers shared by table descriptions and written findings."""

from __future__ import annotations


def share_text(x: float) -> str:
    """A share (0-1) as a percentage with sensible precision: 0.0002 -> '0.02%',
    0.05 -> '5.0%', 0.43 -> '43%'; never '0%' or '100%' unless it is exactly 0 or 1
    (0.99996 -> '99.996%', 0.00001 -> '0.001%')."""
    if x in (0, 1):
        return f"{100 * x:.0f}%"
    decimals = 2 if abs(x) < 0.01 else 1 if abs(x) < 0.1 else 0
    text = f"{100 * x:.{decimals}f}"
    while decimals < 8 and float(text) in (0.0, 100.0, -100.0):
        decimals += 1
        text = f"{100 * x:.{decimals}f}"
    return f"{text}%"
