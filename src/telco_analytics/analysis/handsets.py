"""Handset and manufacturer rankings (SPEC rule 2): counted over sessions, ties by name."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..aggregate import known_handset


def handset_counts(clean: ibis.Table) -> pd.DataFrame:
    """Sessions and distinct users per (manufacturer, handset type), unknowns marked.

    Small (one row per handset type), so the rankings below run in pandas.
    """
    t = clean.mutate(
        _known_type=known_handset(clean.handset_type),
        _known_maker=known_handset(clean.handset_manufacturer),
    )
    out = t.group_by(["handset_manufacturer", "handset_type", "_known_type", "_known_maker"]).aggregate(
        sessions=t.count(), users=t.msisdn.nunique()
    )
    return out.to_pandas()


def _distinct_users(clean: ibis.Table, key: str, values: list[str]) -> dict[str, int]:
    """Distinct MSISDN per value of `key` (users cannot be summed across handset rows)."""
    if not values:
        return {}
    t = clean.filter(clean[key].isin(values))
    out = t.group_by(key).aggregate(users=t.msisdn.nunique()).to_pandas()
    return dict(zip(out[key], out["users"].astype(int)))


def handsets_top10(clean: ibis.Table, counts: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Top handset types by sessions; manufacturer = the type's most frequent known maker."""
    known = counts[counts["_known_type"]]
    per_type = known.groupby("handset_type", as_index=False)["sessions"].sum()
    top = per_type.sort_values(["sessions", "handset_type"], ascending=[False, True]).head(n)
    makers = known[known["_known_maker"]].sort_values(
        ["sessions", "handset_manufacturer"], ascending=[False, True]
    ).drop_duplicates("handset_type").set_index("handset_type")["handset_manufacturer"]
    users = _distinct_users(clean, "handset_type", top["handset_type"].tolist())
    return with_known_share(pd.DataFrame({
        "rank": range(1, len(top) + 1),
        "handset": top["handset_type"].to_numpy(),
        "manufacturer": [makers.get(h, "unknown") for h in top["handset_type"]],
        "sessions": top["sessions"].astype("int64").to_numpy(),
        "users": [users.get(h, 0) for h in top["handset_type"]],
    }), int(known["sessions"].sum()))


def with_known_share(ranking: pd.DataFrame, known_sessions: int) -> pd.DataFrame:
    """The ranking with known_sessions (sessions whose handset, or maker, is known: what a
    share of the market is a share of) and share_of_known (sessions / known_sessions)."""
    return ranking.assign(known_sessions=np.int64(known_sessions),
                          share_of_known=ranking["sessions"] / max(known_sessions, 1))


def manufacturers_top(clean: ibis.Table, counts: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """Top manufacturers by sessions (unknown makers excluded)."""
    known = counts[counts["_known_maker"]]
    per_maker = known.groupby("handset_manufacturer", as_index=False)["sessions"].sum()
    top = per_maker.sort_values(
        ["sessions", "handset_manufacturer"], ascending=[False, True]
    ).head(n)
    users = _distinct_users(clean, "handset_manufacturer", top["handset_manufacturer"].tolist())
    return with_known_share(pd.DataFrame({
        "rank": range(1, len(top) + 1),
        "manufacturer": top["handset_manufacturer"].to_numpy(),
        "sessions": top["sessions"].astype("int64").to_numpy(),
        "users": [users.get(m, 0) for m in top["handset_manufacturer"]],
    }), int(known["sessions"].sum()))


def handsets_top_per_manufacturer(
    counts: pd.DataFrame, manufacturers: list[str], n: int = 5
) -> pd.DataFrame:
    """Top handset types of each given manufacturer, by sessions under that manufacturer."""
    known = counts[counts["_known_type"] & counts["_known_maker"]]
    rows = []
    for maker in manufacturers:
        mine = known[known["handset_manufacturer"] == maker]
        per = mine.groupby("handset_type", as_index=False).agg(
            sessions=("sessions", "sum"), users=("users", "sum")
        )
        top = per.sort_values(["sessions", "handset_type"], ascending=[False, True]).head(n)
        for rank, row in enumerate(top.itertuples(index=False), start=1):
            rows.append({"manufacturer": maker, "rank": rank, "handset": row.handset_type,
                         "sessions": int(row.sessions), "users": int(row.users)})
    return pd.DataFrame(rows, columns=["manufacturer", "rank", "handset", "sessions", "users"])


def unknown_handset_counts(counts: pd.DataFrame) -> dict[str, int]:
    """Sessions whose handset type / manufacturer is missing or 'undefined' (for the manifest)."""
    missing_type = counts["handset_type"].isna()
    missing_maker = counts["handset_manufacturer"].isna()
    return {
        "sessions_handset_missing": int(counts.loc[missing_type, "sessions"].sum()),
        "sessions_handset_undefined": int(
            counts.loc[~missing_type & ~counts["_known_type"], "sessions"].sum()
        ),
        "sessions_manufacturer_missing": int(counts.loc[missing_maker, "sessions"].sum()),
        "sessions_manufacturer_undefined": int(
            counts.loc[~missing_maker & ~counts["_known_maker"], "sessions"].sum()
        ),
    }
