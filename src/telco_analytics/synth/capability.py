"""Handset capability: how fast each handset type can go, as a planted level per type.

Real throughput follows the device: 4G home routers and hotspots (the Huawei B528S-23A, the most
common "handset" of the reference extract, is one) and recent flagships reach the high rates,
old phones and IoT modules stay slow. The published per-handset extremes of the reference
extract (tellco_data_facts.md 9.12) read that way: highest mean throughput Huawei B715S-23C,
New-Bund Mix 2, Lg G6+, Zyxel Sbg3600, Huawei Y9 2019; lowest Quectel Ec25-E, Wct Uno,
Lg Lg-T385. Each type gets the level of the first device class its name matches, plus a
small random offset of its own (so that types of one class differ too); the unknown
("undefined") handset gets 0.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .catalog import UNDEFINED, handset_catalog

# (class, level in latent standard deviations, name patterns); the first class that matches wins.
DEVICE_CLASSES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("router", 1.5, (r"\bB\d{3}S?\b", r"\bE5\d{3}\b", "Zyxel", "Tp-Link", "Netgear", "Gateway",
                     "Aircard", "Airbox", r"\bMf\d{3}", r"\bMr\d{3}", "Archer", r"Lte\d{4}",
                     r"Sbg\d{4}")),
    ("module", -2.0, ("Quectel", "Sierra Wireless", "Telit", "Simcom", "Gemalto", "Cinterion",
                      "M2M", "Module", "Wct Uno", r"Lg-T\d{3}")),
    ("flagship", 0.8, (r"iPhone (X|Xs|Xr|8)\b", r"Galaxy (S8|S9|S10|Note ?[89])",
                       r"Huawei (P20|P30|Mate 20)(?! Lite)", "Mix 2", "Lg G[67]", "Y9 2019",
                       "Oneplus [56]", "Xperia Xz", "Pixel")),
    ("old", -0.8, ("iPhone [45]", r"iPhone 6 \(", r"Galaxy (J[123]|Grand|S[345]\b|Ace|Young)",
                   "Lumia", "Alcatel", "Pixi", r"Desire [2-6]\d\d", "Sunny", "Lenny", r"\b3G\b")),
)
OFFSET_SD = 0.4  # spread of a type's own offset around its class level
_PATTERNS = tuple((name, level, re.compile("|".join(p), re.IGNORECASE))
                  for name, level, p in DEVICE_CLASSES)


def device_class(type_name: str) -> tuple[str, float]:
    """(class, level) of a handset type from its name; ("other", 0.0) when none matches."""
    for name, level, pattern in _PATTERNS:
        if pattern.search(type_name):
            return name, level
    return "other", 0.0


@lru_cache(maxsize=1)
def _class_levels() -> np.ndarray:
    """Class level of every catalog type (same order as handset_catalog().types)."""
    return np.array([device_class(t)[1] for t in handset_catalog().types])


@lru_cache(maxsize=4)
def capability(seed: int) -> np.ndarray:
    """Capability level of every catalog type for an extract: class level + own offset
    (latent standard deviations; 0 for the unknown handset)."""
    types = handset_catalog().types
    offset = np.random.default_rng([seed, 0xCA9]).normal(0.0, OFFSET_SD, len(types))
    levels = _class_levels() + offset
    levels[types == UNDEFINED] = 0.0
    levels.flags.writeable = False
    return levels
