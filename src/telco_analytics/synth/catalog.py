"""Catalogues drawn from: handsets (manufacturer, type, TAC) and cell locations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .profile import REFERENCE_ROWS, column_facts, profile

UNDEFINED = "undefined"
N_TYPES = 1396  # distinct Handset Type values, 'undefined' included
SESSIONS_PER_USER = 1.3938  # 148,935 xDRs with an MSISDN / 106,856 users
# Real type names seen in the published rows but absent from the per-maker top-5 lists; they
# name the first tail types of their maker.
_SEEN_TYPES = {
    "Apple": ["Apple iPhone 8 Plus (A1897)", "Apple iPhone 7 Plus (A1784)",
              "Apple iPhone Xs (A2097)", "Apple iPhone 5S (A1457)"],
    "Samsung": ["Samsung Galaxy A8 (2018)", "Samsung Sm-G390F",
                "Samsung Galaxy Note 8 (Sm-N950F Ds)"],
    "Huawei": ["Huawei Mate 20 Lite", "Huawei Fig-Lx1"],
}
# Makers whose IMEIs sit in the 86xxxxxx TAC band (the other band is 35xxxxxx).
_TAC_86_MAKERS = ("Huawei", "Xiaomi", "Zte", "ZTE", "Oneplus", "Oppo", "Vivo", "Lenovo", "Tcl",
                  "TCL", "Meizu", "Shenzhen")


@dataclass(frozen=True)
class HandsetCatalog:
    """Every handset type with its manufacturer, TAC and share of users."""

    types: np.ndarray  # object array of type names
    makers: np.ndarray  # object array, maker of each type
    tac: np.ndarray  # int64 8-digit type allocation code of each type
    user_share: np.ndarray  # float64, sums to 1

    def cumulative(self) -> np.ndarray:
        """Cumulative user shares, for drawing a type from a uniform."""
        return np.cumsum(self.user_share)


def _maker_totals(known: dict[str, dict[str, float]]) -> dict[str, float]:
    """xDR count of each manufacturer: exact for the top 5, else the top-5 sum plus a share of
    the rows the top 5 leave (makers listing fewer than 5 types are complete)."""
    p = profile()
    non_null = REFERENCE_ROWS - (column_facts("Handset Type")["missing_count"] - 1)
    exact = dict(p["handset_manufacturer_top"])
    lower = {m: sum(t.values()) for m, t in known.items()}
    rest = non_null - sum(exact.values())
    open_makers = [m for m in lower if m not in exact and len(known[m]) >= 5]
    spare = rest - sum(v for m, v in lower.items() if m not in exact)
    open_total = sum(lower[m] for m in open_makers)
    totals = {m: float(exact.get(m, lower[m])) for m in lower}
    for m in open_makers:
        totals[m] += spare * lower[m] / open_total
    return totals


def _tail_counts(remainder: float, cap: float, k: int) -> np.ndarray:
    """k decreasing counts <= cap summing to remainder (geometric, ratio found by bisection)."""
    lo, hi = 1e-6, 1.0
    for _ in range(60):
        r = (lo + hi) / 2
        total = cap * (1 - r**k) / (1 - r)
        lo, hi = (r, hi) if total < remainder else (lo, r)
    counts = cap * r ** np.arange(k)
    return counts * remainder / counts.sum()


def _tac(maker: str, index: int) -> int:
    """A plausible 8-digit TAC for a type: 86xxxxxx for Chinese makers, else 35xxxxxx."""
    band = 86 if maker.startswith(_TAC_86_MAKERS) else 35
    return band * 1_000_000 + (index * 7919 + 104_729) % 1_000_000


@lru_cache(maxsize=1)
def handset_catalog() -> HandsetCatalog:
    """Published handset types with their counts, plus a long tail up to 1,396 types."""
    p = profile()
    known = {m: dict(t) for m, t in p["handset_type_by_manufacturer_top5"].items()}
    owner = {t: m for m, ts in known.items() for t in ts}
    for name, count in p["handset_type_top"]:  # e.g. iPhone Xr / X: top-10 but not maker top-5
        if name not in owner:
            maker = next(m for m in known if name.startswith(m + " "))
            known[maker][name] = count
            owner[name] = maker
    totals = _maker_totals({m: t for m, t in known.items()})
    remainder = {m: totals[m] - sum(known[m].values()) for m in known}
    open_makers = [m for m in known if remainder[m] >= 1.0]
    caps = {m: min(known[m].values()) for m in open_makers}
    # each open maker gets enough tail types to stay under its 5th type, the rest by volume
    k = {m: int(np.ceil(remainder[m] / caps[m])) for m in open_makers}
    spare = N_TYPES - len(owner) - sum(k.values())
    volume = sum(remainder[m] for m in open_makers)
    for m in open_makers:
        k[m] += int(spare * remainder[m] / volume)
    k[max(open_makers, key=lambda m: remainder[m])] += N_TYPES - len(owner) - sum(k.values())
    types, makers, counts = [], [], []
    for m, ts in known.items():
        types += list(ts)
        makers += [m] * len(ts)
        counts += list(ts.values())
        if m in k:
            prefix = m if len(m) <= 16 else m[:16] + "."  # the extract truncates long makers so
            seen = _SEEN_TYPES.get(m, [])[: k[m]]
            types += seen + [f"{prefix} Model {len(types) + j:04d}" for j in range(k[m] - len(seen))]
            makers += [m] * k[m]
            counts += list(_tail_counts(remainder[m], caps[m], k[m]))
    counts_arr = np.asarray(counts, dtype=float)
    # users per type: xDRs / sessions per user, but every type keeps at least one user in a
    # reference-size sample (the rarest published types are single xDRs of single users)
    share = np.maximum(counts_arr / SESSIONS_PER_USER, 1.0)
    return HandsetCatalog(
        types=np.asarray(types, dtype=object),
        makers=np.asarray(makers, dtype=object),
        tac=np.asarray([_tac(m, i) for i, m in enumerate(makers)], dtype=np.int64),
        user_share=share / share.sum(),
    )


# Cell locations: a Zipf-like popularity over a fixed pool, tuned so that a reference-size
# sample shows ~45,500 distinct names with the busiest cell near 80 xDRs (as published).
LOCATION_POOL = 60_000
_ZIPF_S, _ZIPF_OFFSET = 0.8, 300
_NUMERIC_SHARE, _CELL_SHARE = 0.12, 0.03  # names mangled to 9.16456...E+015 / CELL_208_20_...


def location_index(u: np.ndarray) -> np.ndarray:
    """Pool index (0 = most popular) at uniforms u: inverse of the continuous Zipf-like CDF
    F(x) ~ (x + offset)^(1-s), which is fast and close to the discrete one."""
    e = 1.0 - _ZIPF_S
    lo, hi = _ZIPF_OFFSET**e, (LOCATION_POOL + _ZIPF_OFFSET) ** e
    x = (lo + u * (hi - lo)) ** (1.0 / e) - _ZIPF_OFFSET
    return np.minimum(x.astype(np.int32), LOCATION_POOL - 1)


def location_names(seed: int) -> np.ndarray:
    """The pool's location names for one extract (object array), in popularity order."""
    rng = np.random.default_rng([seed, 0x10C])
    codes = rng.choice(3 * 100_000 * 3, LOCATION_POOL, replace=False)
    kind = rng.random(LOCATION_POOL)
    letters, suffix = np.array(list("DLT")), np.array(list("ABC"))
    names = np.empty(LOCATION_POOL, dtype=object)
    for i, code in enumerate(codes.tolist()):  # 60k names once per extract, not per row
        if kind[i] < _NUMERIC_SHARE:
            names[i] = f"9.164566{code:08d}E+015"
        elif kind[i] < _NUMERIC_SHARE + _CELL_SHARE:
            names[i] = f"CELL_208_20_{code % 1_000_000:06d}_1"
        else:
            names[i] = f"{letters[code // 300_000]}{(code // 3) % 100_000:05d}{suffix[code % 3]}"
    return names
