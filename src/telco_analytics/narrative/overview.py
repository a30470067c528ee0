"""Findings of the user overview section (handsets, apps, deciles, correlation, PCA), written
from the tables' numbers; a finding whose table is missing or empty is skipped."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from .. import schema
from ..analysis.overview import components_for
from ..analysis.traffic import OTHER
from ..report.figures.style import human_bytes, human_duration_ms
from . import nonempty_table, share_text
from .records import Evidence, Finding, finding, plain, row_evidence

log = logging.getLogger(__name__)

HANDSETS_TOP10, MAKERS_TOP3, PER_MAKER = (
    "handsets_top10", "manufacturers_top3", "handsets_top5_per_manufacturer")
APP_TOTALS, UNIVARIATE, CORRELATION, PCA = "app_totals", "univariate", "app_correlation", "pca"
TRAFFIC = "traffic_totals"

# Device names that denote a router / hotspot / modem rather than a phone: explicit words, and
# the model-number families of Huawei/ZTE home routers and pocket hotspots (B528s-23a, B315s-22,
# E5573, MF920, ...). "Sm-B310E" (a Samsung phone) has no "-NN" suffix and does not match.
ROUTER_PATTERN = re.compile(
    r"router|\bcpe\b|mifi|hotspot|modem|dongle|wingle|livebox"
    r"|\bB\d{3}[a-z]?-\d{2}[a-z]?\b|\bE5\d{3}[a-z]?\b|\bE3\d{3}[a-z]?\b|\bMF\d{2,3}[a-z]?\b",
    re.IGNORECASE,
)


def is_router(handset: str) -> bool:
    """True when a handset name looks like a 4G home router, pocket hotspot or USB modem."""
    return bool(ROUTER_PATTERN.search(str(handset)))


def _label(variable: str) -> str:
    """Readable name of a per-user variable or app ('youtube_bytes' -> 'YouTube')."""
    for app in schema.APPS:
        if variable in (app, f"{app}_bytes"):
            dl, _ = schema.app_columns(app)
            return schema.BY_NAME[dl].description.split(" data volume")[0]
    return {"dl_bytes": "total download", "ul_bytes": "total upload"}.get(variable, variable)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _share_base(ranking: pd.DataFrame) -> tuple[int, str]:
    """What a ranking's shares are shares of: the sessions with a known handset (the
    known_sessions column), or for older runs the ranking's own sessions."""
    if "known_sessions" in ranking:
        return int(ranking["known_sessions"].iloc[0]), "the sessions with a known handset"
    return int(ranking["sessions"].sum()), f"the {len(ranking)} listed ones' sessions"


def top_handset_insight(top10: pd.DataFrame) -> Finding:
    """Which device dominates, whether it is a phone at all, and what that means for marketing."""
    top10 = top10.sort_values("rank")
    first = top10.iloc[0]
    known, base = _share_base(top10)
    share = first["sessions"] / known
    routers = [h for h in top10["handset"] if is_router(h)]
    text = (
        f"The most used device is the {first['handset']} ({first['sessions']:,} sessions, "
        f"{first['users']:,} users, {share_text(share)} of {base})"
    )
    if len(top10) > 1:
        second = top10.iloc[1]
        text += f", {first['sessions'] / second['sessions']:.1f}x the runner-up {second['handset']}"
    if is_router(first["handset"]):
        text += (
            f". The {first['handset']} is a 4G home router or hotspot, not a phone: "
            "fixed-wireless home broadband is the largest single device segment."
        )
        action = (
            f"Fixed-wireless home broadband users ({first['handset']} owners) should be "
            "targeted with home-internet plans rather than handset offers."
        )
    else:
        text += "."
        action = (
            f"Device-specific offers (accessories, trade-ins, upgrades) aimed at the owners of "
            f"the {first['handset']} reach the largest single device group."
        )
    if routers and not (len(routers) == 1 and routers[0] == first["handset"]):
        text += (f" Routers/hotspots among the {len(top10)} most used devices: {len(routers)} "
                 f"({_join(routers)}).")
    evidence = [row_evidence(HANDSETS_TOP10, first, ["rank"], ["handset", "sessions", "users"])]
    if len(top10) > 1:
        evidence.append(row_evidence(HANDSETS_TOP10, top10.iloc[1], ["rank"],
                                     ["handset", "sessions"]))
    evidence.append(Evidence(HANDSETS_TOP10, {}, {
        "sum(sessions)": int(top10["sessions"].sum()), "known_sessions": known,
        "count(rows)": len(top10), "count(routers)": len(routers)}))
    return finding(
        "handsets.top_handset",
        text,
        action=action,
        priority=1,
        evidence=evidence,
        numbers={
            "top_handset": first["handset"],
            "sessions": int(first["sessions"]),
            "users": int(first["users"]),
            "share_of_top10": float(share),
            "is_router": is_router(first["handset"]),
            "routers_in_top10": len(routers),
        },
    )


def manufacturer_insight(top3: pd.DataFrame, per_maker: pd.DataFrame | None) -> Finding:
    """Which makers dominate, by how much, and which model leads each of them."""
    top3 = top3.sort_values("rank")
    total, base = _share_base(top3)
    parts = [f"{r.manufacturer} {r.sessions:,} ({share_text(r.sessions / total)})"
             for r in top3.itertuples()]
    lead = top3.iloc[0]
    text = (
        f"{_join(list(top3['manufacturer']))} are the top manufacturers by sessions: "
        f"{', '.join(parts)} of {base.replace('handset', 'maker')}."
    )
    numbers = {
        "leader": lead["manufacturer"],
        "leader_share": float(lead["sessions"] / total),
    }
    evidence = [row_evidence(MAKERS_TOP3, r, ["rank"], ["manufacturer", "sessions"])
                for _, r in top3.iterrows()]
    evidence.append(Evidence(MAKERS_TOP3, {}, {"known_sessions": total,
                                               "sum(sessions)": int(top3["sessions"].sum()),
                                               "count(rows)": len(top3)}))
    action = None
    if per_maker is not None:
        more, action, used = _best_sellers(top3, per_maker)
        text += more
        evidence += used
    return finding("handsets.manufacturers", text, action=action, evidence=evidence,
                   numbers=numbers)


def _best_sellers(top3: pd.DataFrame, per_maker: pd.DataFrame
                  ) -> tuple[str, str, list[Evidence]]:
    """The best seller of each maker (sentences), the action they imply, and the rows used."""
    # the makers in ranking order (top3 first), each with its rank-1 model
    maker_rank = {m: i for i, m in enumerate(top3["manufacturer"])}
    best = per_maker.sort_values("rank", kind="mergesort").groupby("manufacturer").head(1)
    best = best.assign(_r=best["manufacturer"].map(maker_rank).fillna(len(maker_rank)))
    best = best.sort_values(["_r", "manufacturer"], kind="mergesort")
    notes, shares, evidence = [], [], []
    for _, r in best.iterrows():
        maker_total = per_maker.loc[per_maker["manufacturer"] == r["manufacturer"], "sessions"].sum()
        shares.append(r["sessions"] / maker_total)
        kind = " (a router)" if is_router(r["handset"]) else ""
        models = int((per_maker["manufacturer"] == r["manufacturer"]).sum())
        notes.append(f"{r['manufacturer']}: {r['handset']}{kind}, {share_text(shares[-1])} of "
                     f"the sessions of its {models} best-selling models")
        evidence += [
            row_evidence(PER_MAKER, r, ["manufacturer", "rank"], ["handset", "sessions"]),
            Evidence(PER_MAKER, {"manufacturer": r["manufacturer"]},
                     {"sum(sessions)": int(maker_total), "count(rows)": models}),
        ]
    text = " Best seller per maker: " + "; ".join(notes) + "."
    top = best.assign(share=shares).sort_values("share", ascending=False).iloc[0]
    if top["share"] >= 0.5:
        text += f" {top['manufacturer']}'s presence rests on a single model."
        action = (f"Campaigns for {top['manufacturer']} are really campaigns for the "
                  f"{top['handset']} and should be planned as such.")
    else:
        lead = top3.iloc[0]["manufacturer"]
        text += f" {lead} users spread over many models."
        action = f"Offers for {lead} users should target the brand rather than one device."
    return text, action, evidence


def app_traffic_insight(totals: pd.DataFrame, traffic: pd.DataFrame | None) -> Finding:
    """Which named apps carry the traffic classified by app; what "Other" and the app-column
    total are, set once against total traffic (traffic_totals)."""
    named = totals[totals["app"] != OTHER].sort_values(["bytes", "app"], ascending=[False, True])
    classified = float(named["bytes"].sum())
    share = named["bytes"] / classified if classified > 0 else named["bytes"] * np.nan
    top2 = named.head(2)
    top2_share = float(share.iloc[: len(top2)].sum())
    names = [_label(a) for a in top2["app"]]
    text = (f"Of the traffic classified by app ({human_bytes(classified)}), {_join(names)} carry "
            f"{share_text(top2_share)}")
    if len(named) > 2:
        last = named.iloc[-1]
        text += f"; {_label(last['app'])} the least ({share_text(share.iloc[-1])})"
    text += "."
    evidence = [row_evidence(APP_TOTALS, r, ["app"], ["bytes"]) for _, r in top2.iterrows()]
    if len(named) > 2:
        evidence.append(row_evidence(APP_TOTALS, named.iloc[-1], ["app"], ["bytes"]))
    evidence.append(Evidence(APP_TOTALS, {}, {
        "sum(bytes) over the named apps": classified,
        "sum(bytes) over the two largest named apps": float(top2["bytes"].sum())}))
    other = totals[totals["app"] == OTHER]
    if not other.empty:
        other_bytes = float(other["bytes"].iloc[0])
        text += (f" Another {human_bytes(other_bytes)} is 'Other': traffic the extract does not "
                 "classify by app, shown as unclassified and kept out of app recommendations.")
        evidence.append(row_evidence(APP_TOTALS, other.iloc[0], ["app"], ["bytes"]))
    if traffic is not None:
        t = traffic.set_index("measure")
        text += (
            f" The seven app columns add up to {human_bytes(t.loc['app_columns', 'bytes'])}, "
            f"{t.loc['app_columns', 'share_of_total']:.2f}x the total traffic of "
            f"{human_bytes(t.loc['total_bytes', 'bytes'])} (Total DL + Total UL, the one "
            "definition of traffic in this report): the extract records app volumes apart from "
            "the totals (its Total DL even excludes Other DL), so app shares are shares of the "
            "app columns, never of total traffic."
        )
        evidence += [row_evidence(TRAFFIC, row, ["measure"], ["bytes", "share_of_total"])
                     for _, row in traffic.iterrows()
                     if row["measure"] in ("app_columns", "total_bytes")]
    action = (f"Capacity planning and data-plan design should follow the heaviest named apps, "
              f"{_join(names)}; the unclassified traffic needs classifying before it can "
              "guide plans.")
    return finding(
        "overview.app_traffic", text, action=action, priority=1, evidence=evidence,
        numbers={"top_apps": list(top2["app"]), "top2_share_of_classified": top2_share,
                 "classified_bytes": classified},
    )


def decile_insight(deciles: pd.DataFrame, user_overview: pd.DataFrame | None,
                   table: str = "decile_data") -> Finding | None:
    """Does the most-connected 10% of users also generate a matching share of the traffic?
    `table` names the decile table the rows come from (decile_data or decile_data_all)."""
    deciles = deciles.sort_values("decile")
    first = deciles.iloc[0]
    if "total_bytes_share" in deciles:
        shares = deciles["total_bytes_share"].to_numpy(dtype="float64")
    elif user_overview is not None and user_overview["total_bytes"].sum() > 0:
        shares = (
            deciles["total_bytes"].to_numpy(dtype="float64") / user_overview["total_bytes"].sum()
        )
    else:
        return None
    if "users_share" in deciles:
        users_share = float(first["users_share"])
    elif user_overview is not None:
        users_share = first["users"] / len(user_overview)
    else:
        return None
    ratio = shares[0] / users_share
    top5 = deciles[deciles["decile"] <= 5]
    text = (
        f"The {share_text(users_share)} of users with the longest total session time (decile 1, "
        f"at least {human_duration_ms(first['min_duration_ms'])} each) generate "
        f"{share_text(shares[0])} of all traffic ({ratio:.1f}x their share of users)"
    )
    if len(top5) == 5:
        text += f"; the top half by duration generates {share_text(shares[: len(top5)].sum())}"
        top_half = float(shares[: len(top5)].sum())
    if ratio >= 1.3:
        text += (
            ". Time online translates into data: the longest-connected users are the heavy users."
        )
    elif ratio <= 0.8:
        text += (
            ". Long connections are not heavy data use here (many are idle always-on "
            "sessions), so duration alone is a poor proxy for value."
        )
    else:
        text += (
            ". Traffic grows only mildly with time online; duration is a weak proxy for data use."
        )
    columns = [c for c in ("min_duration_ms", "users", "users_share", "total_bytes",
                           "total_bytes_share") if c in deciles]
    evidence = [row_evidence(table, first, ["decile"], columns),
                Evidence(table, {}, {"decile 1 traffic share / users share": ratio,
                                     "decile 1 traffic share": float(shares[0]),
                                     "decile 1 users share": float(users_share)})]
    if len(top5) == 5:
        evidence.append(Evidence(table, {}, {"traffic share of deciles 1-5": top_half}))
    return finding(
        "overview.duration_deciles",
        text,
        evidence=evidence,
        numbers={
            "decile1_traffic_share": float(shares[0]),
            "decile1_users_share": float(users_share),
            "ratio": float(ratio),
        },
    )


def correlation_insight(corr: pd.DataFrame) -> Finding | None:
    """Strongest and typical correlation between per-user app volumes."""
    matrix = corr.set_index("app")
    apps = list(matrix.index)
    pairs = [
        (abs(matrix.loc[a, b]), matrix.loc[a, b], a, b)
        for i, a in enumerate(apps)
        for b in apps[i + 1 :]
        if pd.notna(matrix.loc[a, b])
    ]
    if not pairs:
        return None
    pairs.sort(key=lambda p: (-p[0], p[2], p[3]))
    _, r, a, b = pairs[0]
    median_abs = float(np.median([p[0] for p in pairs]))
    text = (
        f"The strongest link between apps is {_label(a)}–{_label(b)} (Pearson r = {r:.2f}); "
        f"the typical pair has |r| = {median_abs:.2f}."
    )
    action = None
    if median_abs >= 0.3 and abs(r) - median_abs < 0.1:
        text += (
            " All pairs are about equally correlated: users with more sessions simply use "
            "more of every app, rather than favouring particular combinations."
        )
    elif abs(r) < 0.3:
        text += (
            " App usage is largely independent: heavy use of one app says little about "
            "another."
        )
        action = "App bundles should be sold on their own merits."
    elif r > 0:
        text += f" Users heavy on {_label(a)} also use {_label(b)}."
        action = f"{_label(a)} and {_label(b)} are a natural pair for a bundle or cross-sell."
    else:
        text += f" Users tend to favour either {_label(a)} or {_label(b)}, not both."
    return finding(
        "overview.app_correlation", text, action=action,
        evidence=[Evidence(CORRELATION, {"app": a}, {b: float(r)}),
                  Evidence(CORRELATION, {}, {"median(abs(r)) over app pairs": median_abs})],
        numbers={"pair": [a, b], "r": float(r), "median_abs_r": median_abs})


def _cumulative(pca: pd.DataFrame, component: int) -> float:
    return float(pca.loc[pca["component"] == component, "cumulative_ratio"].iloc[0])


def pca_insights(pca: pd.DataFrame) -> list[Finding]:
    """At most two findings: how many components matter, and what the first one measures."""
    variables = [
        c for c in pca.columns if c in schema.USER_APP_BYTES or c in ("dl_bytes", "ul_bytes")
    ]
    first = pca.sort_values("component").iloc[0]
    loadings = first[variables].astype("float64")
    top = loadings.abs().sort_values(ascending=False, kind="mergesort").head(3).index
    k80, k90 = components_for(pca, 0.8), components_for(pca, 0.9)
    out = []
    if k80 is not None and k90 is not None:
        out.append(
            finding(
                "overview.pca_components",
                (
                    f"{k80} of {len(pca)} principal components keep "
                    f"{share_text(_cumulative(pca, k80))} of the variance of the app and DL/UL "
                    f"volumes, {k90} keep {share_text(_cumulative(pca, k90))}: "
                    + (
                        "the nine volumes are largely redundant."
                        if k80 <= len(pca) / 3
                        else "the volumes vary mostly independently and little can be compressed."
                    )
                ),
                evidence=[*(row_evidence(PCA, r, ["component"], ["cumulative_ratio"])
                            for _, r in pca.iterrows() if r["component"] in (k80, k90)),
                          Evidence(PCA, {}, {"count(rows)": len(pca)})],
                numbers={"components_80": k80, "components_90": k90},
            )
        )
    same_sign = bool((loadings > 0).all() or (loadings < 0).all())
    text = (
        f"PC1 explains {share_text(first['explained_variance_ratio'])} of the variance and loads "
        f"most on {_join([_label(v) for v in top])}"
    )
    text += (
        "; all loadings share one sign, so it is an overall data-volume axis."
        if same_sign
        else "; it contrasts users by what they use, not only how much."
    )
    out.append(
        finding(
            "overview.pca_first_component",
            text,
            priority=3,
            evidence=[row_evidence(PCA, first, ["component"],
                                   ["explained_variance_ratio", *variables])],
            numbers={"pc1_ratio": float(first["explained_variance_ratio"]),
                     "pc1_top": list(top)},
        )
    )
    return out


def typical_user_insight(univariate: pd.DataFrame) -> Finding | None:
    """The typical (median) user, and how far the mean is pulled by heavy users."""
    stats = univariate.set_index("variable")
    if not {"sessions", "duration_ms", "total_bytes"} <= set(stats.index):
        return None
    s, d, b = stats.loc["sessions"], stats.loc["duration_ms"], stats.loc["total_bytes"]
    plural = "" if s["median"] == 1 else "s"
    text = (
        f"The median user has {s['median']:,.0f} session{plural}, "
        f"{human_duration_ms(d['median'])} online and {human_bytes(b['median'])} of data; "
        f"the mean volume is {human_bytes(b['mean'])} (skew {b['skew']:.1f})"
    )
    text += (
        ", pulled up by a minority of heavy users."
        if b["mean"] > 1.2 * b["median"]
        else ", close to the median: volumes are fairly even across users."
    )
    return finding(
        "overview.typical_user",
        text,
        evidence=[
            Evidence(UNIVARIATE, {"variable": "sessions"}, {"median": plain(s["median"])}),
            Evidence(UNIVARIATE, {"variable": "duration_ms"}, {"median": plain(d["median"])}),
            Evidence(UNIVARIATE, {"variable": "total_bytes"},
                     {c: plain(b[c]) for c in ("median", "mean", "skew")}),
        ],
        numbers={
            "median_sessions": float(s["median"]),
            "median_duration_ms": float(d["median"]),
            "median_total_bytes": float(b["median"]),
            "mean_total_bytes": float(b["mean"]),
        },
    )


def overview_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Findings of the overview section from whichever SPEC tables are present."""
    out: list[Finding | None] = []
    if (top10 := nonempty_table(tables, HANDSETS_TOP10)) is not None:
        out.append(top_handset_insight(top10))
    if (top3 := nonempty_table(tables, MAKERS_TOP3)) is not None:
        out.append(manufacturer_insight(top3, nonempty_table(tables, PER_MAKER)))
    if (totals := nonempty_table(tables, APP_TOTALS)) is not None:
        out.append(app_traffic_insight(totals, nonempty_table(tables, TRAFFIC)))
    if (uni := nonempty_table(tables, UNIVARIATE)) is not None:
        out.append(typical_user_insight(uni))
    deciles_table = "decile_data" if nonempty_table(tables, "decile_data") is not None \
        else "decile_data_all"
    if (deciles := nonempty_table(tables, deciles_table)) is not None:
        out.append(decile_insight(deciles, nonempty_table(tables, "user_overview"), deciles_table))
    if (corr := nonempty_table(tables, CORRELATION)) is not None:
        out.append(correlation_insight(corr))
    if (pca := nonempty_table(tables, PCA)) is not None:
        out.extend(pca_insights(pca))
    insights = [i for i in out if i is not None]
    log.debug("overview insights: %d", len(insights))
    return insights
