"""The customer keys a typed phone number may stand for.

People type a number as they know it: `+33 6 01 00 12 16`, `0033-601001216`, `06 01 00 12 16`
(the national form, with the trunk 0), `+33 (0)6 01 00 12 16`. The run's msisdn column holds it
as `33601001216`. `candidates` lists the keys a typed number may be; the lookup keeps the ones
the run has, so a form is accepted where it points at one customer only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

SEPARATORS = re.compile(r"[\s\-./()]")
MAX_COUNTRY_CODE = 3  # ITU country codes have 1 to 3 digits


def country_prefix(keys: Iterable[str]) -> str:
    """The digits every key starts with, at most a country code long ('' when they differ).

    The run's keys share their country code; the shared digits may go on past it (every UK
    mobile is 447...), so `candidates` tries each length up to this prefix's.
    """
    shared = os.path.commonprefix([str(k) for k in keys])
    digits = re.match(r"\d*", shared).group()
    return digits[:MAX_COUNTRY_CODE]


def candidates(typed: str, prefix: str) -> list[str]:
    """The keys `typed` may be, most literal first (an empty list for an empty entry).

    Separators (spaces, dashes, dots, slashes, brackets) and the international '+' or '00' are
    dropped; a national number (leading 0) is tried with each possible country code from
    `prefix`; a country code followed by the trunk 0 ('33 0601...') is tried without the 0.
    Anything that is not a phone number (a pseudonym, a typo) is returned as typed (and in
    lower case: pseudonyms are lower-case hexadecimal).
    """
    text = typed.strip()
    compact = SEPARATORS.sub("", text)
    international = compact.startswith(("+", "00"))
    digits = compact[1:] if compact.startswith("+") else compact[2:] if international \
        else compact
    if not digits.isdigit():
        return list(dict.fromkeys([text, text.lower()])) if text else []
    found = [digits]
    if not international and digits.startswith("0"):
        found += [prefix[:n] + digits[1:] for n in range(1, len(prefix) + 1)]
    for n in range(1, MAX_COUNTRY_CODE + 1):
        if digits[n:n + 1] == "0" and prefix.startswith(digits[:n]):
            found.append(digits[:n] + digits[n + 1:])
    return list(dict.fromkeys(found))
