"""Every number a finding writes comes from its evidence: the checker the traceability tests use.

A number in a sentence or action (with its unit: %, x, h, min, s, ms, kbps, B .. PB, and
thousands separators, decimals or e-notation) must equal, as rounded in the text, a value of
the finding's evidence (values and row keys) or the ratio of two of them, in the unit the text
shows (a share 0.43 is "43%", 2.77e9 bytes "2.77 GB", 5.15e8 ms "143.0 h"). Names the evidence
holds (handsets, cells, descriptions quoted from a table) are taken out of the text first:
their digits are part of a name, not numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import permutations

# a unit's value in the evidence's units (bytes, ms, shares as fractions)
SCALE = {"%": 0.01, "x": 1.0, "h": 3.6e6, "min": 6e4, "s": 1e3, "ms": 1.0, "kbps": 1.0,
         "B": 1.0, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15}
NUMBER = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:e(?P<exp>[-+]\d+))?"
    r"(?P<clock>:00)?"
    r"(?:\s?(?P<unit>%|x(?![\w])|h(?![\w])|min(?![\w])|s(?![\w])|ms(?![\w])|kbps|[kMGTP]?B(?![\w])))?"
    r"(?![\w])"
)


@dataclass(frozen=True)
class Shown:
    """A number as the text shows it: its value (in its unit), decimals and unit."""

    text: str
    value: float
    tolerance: float
    unit: str | None


def shown_numbers(text: str, names: Iterable[str] = ()) -> list[Shown]:
    """The numbers of a text, names taken out first (longest first)."""
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, " ")
    out = []
    for m in NUMBER.finditer(text):
        digits = m.group("number").replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        exponent = int(m.group("exp") or 0)
        value = float(digits) * 10.0 ** exponent
        tolerance = 0.5 * 10.0 ** (exponent - decimals)
        out.append(Shown(m.group(0), value, tolerance, m.group("unit")))
    return out


def evidence_values(evidence) -> tuple[list[float], list[str]]:
    """The numbers (values and keys) and the strings of a finding's evidence."""
    numbers, names = [], []
    for item in evidence:
        for value in [*item.key.values(), *item.values.values()]:
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float):
                if math.isfinite(value):
                    numbers.append(float(value))
            elif isinstance(value, str):
                names.append(value)
            elif isinstance(value, list | tuple):
                names += [v for v in value if isinstance(v, str)]
    return numbers, names


def candidates(numbers: list[float]) -> list[float]:
    """Every evidence value and every ratio of two of them."""
    ratios = [a / b for a, b in permutations(numbers, 2) if b != 0]  # equal values: 1
    return list(dict.fromkeys(numbers + ratios))


def matches(shown: Shown, pool: list[float]) -> bool:
    """Whether a value of the pool, in the shown unit and rounded as shown, is the number."""
    scale = SCALE.get(shown.unit or "", 1.0)
    for value in pool:
        converted = abs(value) / scale
        if abs(converted - shown.value) <= shown.tolerance * (1 + 1e-9) + 1e-12 * converted:
            return True
    return False


def untraced(finding) -> list[str]:
    """The numbers of a finding's text and action that no evidence value explains."""
    numbers, names = evidence_values(finding.evidence)
    pool = candidates(numbers)
    text = finding.text + " " + (finding.action or "")
    return [s.text for s in shown_numbers(text, names) if not matches(s, pool)]


def count_numbers(finding) -> int:
    _, names = evidence_values(finding.evidence)
    return len(shown_numbers(finding.text + " " + (finding.action or ""), names))
