"""Per-user tables from clean sessions (SPEC rules 1, 2, 4, 5, 9)."""

from __future__ import annotations

import ibis

from . import schema

# The session columns the per-user tables and handset rankings need (the rest is only
# profiled and cleaned for the report, never kept in full).
SESSION_COLUMNS_USED = [
    "msisdn", "handset_manufacturer", "handset_type", "duration_ms", "total_dl_bytes",
    "total_ul_bytes", *schema.APP_COLUMNS, *schema.TCP_COLUMNS, *schema.RTT_COLUMNS,
    *schema.THROUGHPUT_COLUMNS, schema.START, schema.LOCATION,
]


def known_handset(value: ibis.Value) -> ibis.Value:
    """True for a real handset name: not missing and not the literal 'undefined'."""
    return value.notnull() & (value.strip().lower() != schema.UNKNOWN_HANDSET)


def with_user(sessions: ibis.Table) -> ibis.Table:
    """Sessions that belong to a user (rule 1: no MSISDN -> excluded from per-user tables)."""
    return sessions.filter(sessions.msisdn.notnull())


def user_summary(clean: ibis.Table) -> ibis.Table:
    """One row per MSISDN with everything the per-user tables need, in one group-by:
    sessions, duration, DL/UL/total and per-app bytes (rule 5), mean TCP retransmission, RTT
    and throughput (rule 9), the handset (rule 2) and, per experience metric, the share of
    the user's sessions whose value is measured rather than filled (float32: 4 bytes a user)."""
    s = with_user(session_experience(clean, keep=True))
    apps = {}
    for app in schema.APPS:
        dl, ul = schema.app_columns(app)
        apps[f"{app}_bytes"] = (s[dl] + s[ul]).sum()
    out = s.group_by("msisdn").aggregate(
        sessions=s.count(),
        duration_ms=s.duration_ms.sum(),
        dl_bytes=s.total_dl_bytes.sum(),
        ul_bytes=s.total_ul_bytes.sum(),
        **apps,
        **{m: exact_mean(s[m]) for m in schema.EXPERIENCE_METRICS},
        **{schema.measured_share(m): s[schema.measured_flag(m)].cast("float64").mean()
           for m in schema.EXPERIENCE_METRICS},
    )
    out = out.mutate(total_bytes=out.dl_bytes + out.ul_bytes)
    joined = out.left_join(user_handset(clean), "msisdn")
    return joined.select(
        *schema.USER_OVERVIEW_COLUMNS,
        *schema.EXPERIENCE_METRICS,
        handset=joined.handset.fill_null(schema.UNKNOWN_USER_HANDSET),
        **{c: joined[c].cast("float32") for c in schema.MEASURED_SHARES},
    ).order_by("msisdn")


def exact_mean(values: ibis.Column) -> ibis.Value:
    """The mean, and exactly the value when all of a group's values are equal.

    Sum-then-divide rounds: three sessions of 0.1 average to 0.10000000000000002. Users whose
    sessions all hold the same value (often the cleaning replacement) must share one
    per-user value, or the most frequent values (SPEC rule 9) split one value into several.
    """
    low = values.min()
    return ibis.ifelse(low == values.max(), low, values.mean())


USER_EXPERIENCE_COLUMNS = ["msisdn", *schema.EXPERIENCE_METRICS, "handset",
                           *schema.MEASURED_SHARES]


def user_overview(clean: ibis.Table) -> ibis.Table:
    """One row per MSISDN: sessions, duration, DL/UL/total bytes and bytes per app (DL + UL)."""
    return user_summary(clean).select(*schema.USER_OVERVIEW_COLUMNS)


def user_experience(clean: ibis.Table) -> ibis.Table:
    """One row per MSISDN: mean TCP retransmission, RTT and throughput; handset (rule 2);
    the measured shares of the three metrics."""
    return user_summary(clean).select(*USER_EXPERIENCE_COLUMNS)


def metric_value(metric: str, dl: ibis.Value, ul: ibis.Value) -> ibis.Value:
    """A session's experience metric from its two columns (SPEC rule 9): TCP retransmission
    and throughput DL + UL, RTT the mean of DL and UL."""
    return (dl + ul) / 2 if metric == "rtt_ms" else dl + ul


def session_experience(clean: ibis.Table, keep: bool = False) -> ibis.Table:
    """Per session: TCP retransmitted bytes (DL+UL), RTT (mean of DL and UL), throughput (DL+UL);
    with the session's other columns when `keep`."""
    return clean.select(
        *(clean.columns if keep else ("msisdn", "handset_type")),
        **{m: metric_value(m, *(clean[c] for c in schema.EXPERIENCE_COMPONENTS[m]))
           for m in schema.EXPERIENCE_METRICS},
    )


def user_handset(clean: ibis.Table) -> ibis.Table:
    """Each user's handset: the mode of their known handsets, ties to the alphabetically first.

    Deterministic on purpose (DuckDB's mode() breaks ties arbitrarily): count per
    (user, handset), then keep the first by (count desc, name asc).
    """
    s = with_user(clean)
    s = s.filter(known_handset(s.handset_type))
    counts = s.group_by(["msisdn", "handset_type"]).aggregate(n=s.count())
    rank = ibis.row_number().over(
        group_by=counts.msisdn, order_by=[ibis.desc(counts.n), counts.handset_type]
    )
    top = counts.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    return top.select("msisdn", handset="handset_type")
