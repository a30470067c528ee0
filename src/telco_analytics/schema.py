"""The xDR columns, declared once: raw header, canonical name, type, kind, group, description.

Everything else selects columns through this module (by kind or group), never by literals.
Kinds:
  id          personal or session identifier, kept as text, never imputed or used as a feature
  timestamp   session start/end
  subsecond   millisecond offsets of start/end (not cleaned)
  measurement numeric session measurement (cleaned by SPEC rule 3)
  category    text attribute (handset, location)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    raw: str  # header in the reference extract (the second "Dur. (ms)" is written "Dur. (ms).1")
    name: str  # canonical snake_case name with unit
    dtype: str  # canonical type: string, timestamp, float64
    kind: str
    group: str  # e.g. app:social_media:dl, rtt, tcp, throughput, handset, volume, duration
    description: str


def _m(raw: str, name: str, group: str, description: str) -> Column:
    return Column(raw, name, "float64", "measurement", group, description)


APPS: tuple[str, ...] = (
    "social_media",
    "google",
    "email",
    "youtube",
    "netflix",
    "gaming",
    "other",
)
_APP_RAW = {
    "social_media": "Social Media",
    "google": "Google",
    "email": "Email",
    "youtube": "Youtube",
    "netflix": "Netflix",
    "gaming": "Gaming",
    "other": "Other",
}
_APP_TITLE = {"youtube": "YouTube"}


def _app_columns() -> list[Column]:
    cols = []
    for app in APPS:
        label = _APP_TITLE.get(app, _APP_RAW[app])
        for direction, verb in (("dl", "received by"), ("ul", "sent by")):
            cols.append(
                _m(
                    f"{_APP_RAW[app]} {direction.upper()} (Bytes)",
                    f"{app}_{direction}_bytes",
                    f"app:{app}:{direction}",
                    f"{label} data volume (in Bytes) {verb} the MS during this session",
                )
            )
    return cols


COLUMNS: tuple[Column, ...] = (
    Column("Bearer Id", "bearer_id", "string", "id", "id", "xDr session identifier"),
    Column("Start", "start_time", "timestamp", "timestamp", "time",
           "Start time of the xDR (first frame timestamp)"),
    Column("Start ms", "start_ms", "float64", "subsecond", "time",
           "Milliseconds offset of start time for the xDR (first frame timestamp)"),
    Column("End", "end_time", "timestamp", "timestamp", "time",
           "End time of the xDR (last frame timestamp)"),
    Column("End ms", "end_ms", "float64", "subsecond", "time",
           "Milliseconds offset of end time of the xDR (last frame timestamp)"),
    _m("Dur. (ms)", "duration_s", "duration",
       "Total Duration of the xDR (in s; the header says ms but the values are seconds)"),
    Column("IMSI", "imsi", "string", "id", "id", "International Mobile Subscriber Identity"),
    Column("MSISDN/Number", "msisdn", "string", "id", "id",
           "MS International PSTN/ISDN Number of mobile - customer number"),
    Column("IMEI", "imei", "string", "id", "id", "International Mobile Equipment Identity"),
    Column("Last Location Name", "last_location_name", "string", "category", "location",
           "User location call name (2G/3G/4G) at the end of the bearer"),
    _m("Avg RTT DL (ms)", "avg_rtt_dl_ms", "rtt",
       "Average Round Trip Time measurement Downlink direction (msecond)"),
    _m("Avg RTT UL (ms)", "avg_rtt_ul_ms", "rtt",
       "Average Round Trip Time measurement Uplink direction (msecond)"),
    _m("Avg Bearer TP DL (kbps)", "avg_bearer_tp_dl_kbps", "throughput",
       "Average Bearer Throughput for Downlink (kbps) - based on BDR duration"),
    _m("Avg Bearer TP UL (kbps)", "avg_bearer_tp_ul_kbps", "throughput",
       "Average Bearer Throughput for uplink (kbps) - based on BDR duration"),
    _m("TCP DL Retrans. Vol (Bytes)", "tcp_dl_retrans_bytes", "tcp",
       "TCP volume of Downlink packets detected as retransmitted (bytes)"),
    _m("TCP UL Retrans. Vol (Bytes)", "tcp_ul_retrans_bytes", "tcp",
       "TCP volume of Uplink packets detected as retransmitted (bytes)"),
    _m("DL TP < 50 Kbps (%)", "dl_tp_lt_50kbps_pct", "tp_share",
       "Duration ratio when Bearer Downlink Throughput < 50 kbps"),
    _m("50 Kbps < DL TP < 250 Kbps (%)", "dl_tp_50_250kbps_pct", "tp_share",
       "Duration ratio when Bearer Downlink Throughput range is 50-250 kbps"),
    _m("250 Kbps < DL TP < 1 Mbps (%)", "dl_tp_250kbps_1mbps_pct", "tp_share",
       "Duration ratio when Bearer Downlink Throughput range is 250 kbps-1 Mbps"),
    _m("DL TP > 1 Mbps (%)", "dl_tp_gt_1mbps_pct", "tp_share",
       "Duration ratio when Bearer Downlink Throughput > 1 Mbps"),
    _m("UL TP < 10 Kbps (%)", "ul_tp_lt_10kbps_pct", "tp_share",
       "Duration ratio when Bearer Uplink Throughput < 10 kbps"),
    _m("10 Kbps < UL TP < 50 Kbps (%)", "ul_tp_10_50kbps_pct", "tp_share",
       "Duration ratio when Bearer Uplink Throughput range is 10-50 kbps"),
    _m("50 Kbps < UL TP < 300 Kbps (%)", "ul_tp_50_300kbps_pct", "tp_share",
       "Duration ratio when Bearer Uplink Throughput range is 50-300 kbps"),
    _m("UL TP > 300 Kbps (%)", "ul_tp_gt_300kbps_pct", "tp_share",
       "Duration ratio when Bearer Uplink Throughput > 300 kbps"),
    _m("HTTP DL (Bytes)", "http_dl_bytes", "http",
       "HTTP data volume (in Bytes) received by the MS during this session"),
    _m("HTTP UL (Bytes)", "http_ul_bytes", "http",
       "HTTP data volume (in Bytes) sent by the MS during this session"),
    _m("Activity Duration DL (ms)", "activity_duration_dl_ms", "activity",
       "Activity Duration for downlink (ms) - excluding periods of inactivity > 500 ms"),
    _m("Activity Duration UL (ms)", "activity_duration_ul_ms", "activity",
       "Activity Duration for uplink (ms) - excluding periods of inactivity > 500 ms"),
    _m("Dur. (ms).1", "duration_ms", "duration", "Total Duration of the xDR (in ms)"),
    Column("Handset Manufacturer", "handset_manufacturer", "string", "category", "handset",
           "Handset manufacturer"),
    Column("Handset Type", "handset_type", "string", "category", "handset",
           "Handset type of the mobile device"),
    _m("Nb of sec with 125000B < Vol DL", "dl_vol_gt_125000b_s", "volume_seconds",
       "Number of seconds with IP Volume DL > 125000 B"),
    _m("Nb of sec with 1250B < Vol UL < 6250B", "ul_vol_1250_6250b_s", "volume_seconds",
       "Number of seconds with IP Volume UL between 1250 B and 6250 B"),
    _m("Nb of sec with 31250B < Vol DL < 125000B", "dl_vol_31250_125000b_s", "volume_seconds",
       "Number of seconds with IP Volume DL between 31250 B and 125000 B"),
    _m("Nb of sec with 37500B < Vol UL", "ul_vol_gt_37500b_s", "volume_seconds",
       "Number of seconds with IP Volume UL > 37500 B"),
    _m("Nb of sec with 6250B < Vol DL < 31250B", "dl_vol_6250_31250b_s", "volume_seconds",
       "Number of seconds with IP Volume DL between 6250 B and 31250 B"),
    _m("Nb of sec with 6250B < Vol UL < 37500B", "ul_vol_6250_37500b_s", "volume_seconds",
       "Number of seconds with IP Volume UL between 6250 B and 37500 B"),
    _m("Nb of sec with Vol DL < 6250B", "dl_vol_lt_6250b_s", "volume_seconds",
       "Number of seconds with IP Volume DL < 6250 B"),
    _m("Nb of sec with Vol UL < 1250B", "ul_vol_lt_1250b_s", "volume_seconds",
       "Number of seconds with IP Volume UL < 1250 B"),
    *_app_columns(),
    _m("Total UL (Bytes)", "total_ul_bytes", "total",
       "Data volume (in Bytes) sent by the MS during this session (IP layer + overhead); "
       "includes Other UL"),
    _m("Total DL (Bytes)", "total_dl_bytes", "total",
       "Data volume (in Bytes) received by the MS during this session (IP layer + overhead); "
       "excludes Other DL"),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
RAW_HEADER: tuple[str, ...] = tuple("Dur. (ms)" if c.raw == "Dur. (ms).1" else c.raw for c in COLUMNS)
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)


def names(kind: str | None = None, group: str | None = None) -> list[str]:
    """Canonical names of the columns of a kind and/or group (group may be a prefix like 'app')."""
    return [
        c.name
        for c in COLUMNS
        if (kind is None or c.kind == kind)
        and (group is None or c.group == group or c.group.startswith(group + ":"))
    ]


ID_COLUMNS = names(kind="id")
TIMESTAMP_COLUMNS = names(kind="timestamp")
MEASUREMENT_COLUMNS = names(kind="measurement")  # the columns cleaned by rule 3
STRING_COLUMNS = [c.name for c in COLUMNS if c.dtype == "string"]
HANDSET_COLUMNS = names(group="handset")
RTT_COLUMNS = names(group="rtt")
TCP_COLUMNS = names(group="tcp")
THROUGHPUT_COLUMNS = names(group="throughput")
APP_COLUMNS = names(group="app")  # the 14 per-app DL/UL byte columns


def app_columns(app: str) -> tuple[str, str]:
    """(dl, ul) canonical column names of one app."""
    return f"{app}_dl_bytes", f"{app}_ul_bytes"


# Handset values that mean "unknown" (SPEC rule 2): missing or the literal "undefined".
UNKNOWN_HANDSET = "undefined"
UNKNOWN_USER_HANDSET = "unknown"

# Text written for a missing value in database dumps (PostgreSQL COPY format).
NULL_MARKERS = ("", "\\N")

# Per-user table (SPEC section 3, user_overview).
USER_KEY = "msisdn"
USER_APP_BYTES = [f"{app}_bytes" for app in APPS]
USER_OVERVIEW_COLUMNS = [
    "msisdn", "sessions", "duration_ms", "dl_bytes", "ul_bytes", "total_bytes", *USER_APP_BYTES
]
ENGAGEMENT_METRICS = ["sessions", "duration_ms", "total_bytes"]
EXPERIENCE_METRICS = ["tcp_retrans_bytes", "rtt_ms", "throughput_kbps"]
# The raw columns each per-session experience metric is computed from (SPEC rule 9). A
# session's metric is *measured* when every one of them holds its raw value (present and
# inside the cleaning fences), *filled* when cleaning replaced one of them (rule 3).
EXPERIENCE_COMPONENTS: dict[str, list[str]] = {
    "tcp_retrans_bytes": TCP_COLUMNS, "rtt_ms": RTT_COLUMNS, "throughput_kbps": THROUGHPUT_COLUMNS,
}
# short names of the metrics in the names of their measured-session columns
METRIC_SHORT = {"tcp_retrans_bytes": "tcp", "rtt_ms": "rtt", "throughput_kbps": "throughput"}


def measured_flag(metric: str) -> str:
    """The clean sessions' boolean column: the session's `metric` is measured, not filled."""
    return f"{METRIC_SHORT[metric]}_measured"


def measured_share(metric: str) -> str:
    """The per-user column: the share (0-1) of the user's sessions whose `metric` is measured."""
    return f"{METRIC_SHORT[metric]}_measured_share"


def observed_value(metric: str) -> str:
    """The clean sessions' column: the session's raw `metric` with each column clipped to its
    cleaning fences (missing where a column is missing): real values only, never the mean
    that cleaning puts in; extreme ones count at the fence."""
    return f"{metric}_observed"


def measured_sessions(metric: str) -> str:
    """A grouped table's column: the number of sessions with an observed `metric`."""
    return f"{METRIC_SHORT[metric]}_sessions"


MEASURED_FLAGS = [measured_flag(m) for m in EXPERIENCE_METRICS]
MEASURED_SHARES = [measured_share(m) for m in EXPERIENCE_METRICS]
OBSERVED_VALUES = [observed_value(m) for m in EXPERIENCE_METRICS]
# where and when a session happened: the cell at its end and its start time (network hotspots)
LOCATION = "last_location_name"
START = "start_time"

# Columns an input must have to be analysed (SPEC sections 3-4); the others are optional and
# read as missing when absent. The duration may come as either Dur. (ms) column (see io.reader).
REQUIRED_COLUMNS = [
    "msisdn", "duration_ms", *HANDSET_COLUMNS, *RTT_COLUMNS, *THROUGHPUT_COLUMNS, *TCP_COLUMNS,
    *APP_COLUMNS, "total_ul_bytes", "total_dl_bytes",
]
# Other spellings of a column seen in the wild (pandas de-duplicates the header with ".1",
# DuckDB with "_1"; the field descriptions call the seconds column "Dur. (s)").
ALIASES = {
    "duration_ms": ("Dur. (ms).1", "Dur. (ms)_1", "Dur (ms).1", "duration_ms"),
    "duration_s": ("Dur. (s)", "duration_s"),
    "msisdn": ("MSISDN", "MSISDN/Number", "msisdn"),
}
