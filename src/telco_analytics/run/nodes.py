"""The run's nodes: wiring only. Each line says which function makes which datasets from which.

The order they run in follows from the names (see graph.order); nodes that do not wait for
each other may run side by side (see execution). Adding an analysis = a module with a plain
function, and one `node(...)` line here.
"""

from __future__ import annotations

from .graph import Node, node

ENGAGEMENT_TABLES = ("engagement_users", "engagement_top10", "engagement_clusters",
                     "app_top10_users", "engagement_elbow", "engagement_clusters_best_k")
EXPERIENCE_TABLES = ("experience_users", "experience_values", "throughput_per_handset",
                     "tcp_per_handset", "experience_clusters")
SATISFACTION_TABLES = ("satisfaction", "satisfaction_top10", "satisfaction_clusters",
                       "regression_metrics", "regression_loss", "regression_predictions")
# the elbow curve's k values are fitted in this many interleaved parts (similar cost), so that
# they can run beside each other and beside the main fits
ELBOW_PARTS = 2

ENGINE: list[Node] = [
    node("run.session_steps:read_and_validate", name="read and validate", kind="engine",
         inputs=("con", "input", "settings"), outputs=("sessions", "input_facts")),
    node("run.session_steps:clean", name="clean", kind="engine",
         inputs=("con", "sessions", "params", "input", "column_map"),
         outputs=("clean_sessions", "cleaning_report", "missing_values", "rows_read",
                  "clean_facts")),
    node("run.session_steps:handset_rankings", name="handsets", kind="engine",
         inputs=("clean_sessions",),
         outputs=("handsets_top10", "manufacturers_top3", "handsets_top5_per_manufacturer",
                  "handsets_top10_per_manufacturer", "handset_facts")),
    # measured or filled, and network hotspots (before the hand-over releases the sessions)
    node("analysis.measured:measured_sessions", name="measured sessions", kind="engine",
         inputs=("clean_sessions",), outputs=("measured_sessions",)),
    node("analysis.hotspots:experience_per_cell", name="cells", kind="engine",
         inputs=("clean_sessions", "measured_sessions", "params"),
         outputs=("experience_per_cell", "hotspot_facts")),
    node("analysis.hotspots:experience_per_hour", name="hours", kind="engine",
         inputs=("clean_sessions", "measured_sessions", "params"),
         outputs=("experience_per_hour",)),
    node("analysis.hotspots:experience_per_handset", name="handsets measured", kind="engine",
         inputs=("clean_sessions", "measured_sessions", "params"),
         outputs=("experience_per_handset",)),
    node("run.session_steps:per_user_summary", name="per-user summary", kind="engine",
         inputs=("clean_sessions",), outputs=("user_summary",)),
    node("run.handover:fetch_users", name="per-user tables", kind="engine", handover=True,
         inputs=("con", "user_summary"), outputs=("users",)),
]

ANALYSES: list[Node] = [
    node("run.handover:user_tables", name="user tables", inputs=("users", "params"),
         outputs=("user_overview", "user_experience", "user_facts")),
    # overview (SPEC rules 4-7)
    node("analysis.overview:variables_table", name="variables",
         inputs=("missing_values", "rows_read"),
         outputs=("variables",)),
    node("analysis.overview:app_totals", name="app totals", inputs=("user_overview",),
         outputs=("app_totals",)),
    node("analysis.traffic:traffic_totals", name="traffic totals", inputs=("user_overview",),
         outputs=("traffic_totals",)),
    node("analysis.overview:univariate", name="univariate", inputs=("user_overview",),
         outputs=("univariate",)),
    node("analysis.overview:decile_table_all", name="deciles", inputs=("user_overview",),
         outputs=("decile_data_all",)),
    node("analysis.overview:reported_deciles", name="reported deciles", inputs=("decile_data_all",),
         outputs=("decile_data",)),
    node("analysis.overview:app_correlation", name="app correlation", inputs=("user_overview",),
         outputs=("app_correlation",)),
    node("analysis.overview:pca_table", name="pca", inputs=("user_overview",), outputs=("pca",)),
    # engagement (SPEC rule 8)
    node("analysis.engagement:engagement_model", name="engagement model",
         inputs=("user_overview", "params"), outputs=("engagement_model",)),
    *[node("analysis.engagement:engagement_elbow_fits", kwargs={"part": part, "parts": ELBOW_PARTS},
           name=f"engagement elbow {part + 1}/{ELBOW_PARTS}", inputs=("user_overview", "params"),
           outputs=(f"engagement_elbow_fits_{part}",)) for part in range(ELBOW_PARTS)],
    node("analysis.engagement:engagement_tables", name="engagement", section="engagement",
         inputs=("user_overview", "engagement_model", "engagement_elbow_fits_*", "params"),
         outputs=ENGAGEMENT_TABLES),
    # engagement on heavy tails: log-scaled k-means beside the SPEC one, stability of both
    node("analysis.engagement_log:engagement_log_clusters", name="engagement log-scaled",
         inputs=("user_overview", "params"), outputs=("engagement_clusters_log",)),
    node("analysis.engagement_log:engagement_stability", name="engagement stability",
         inputs=("user_overview", "params"), outputs=("engagement_stability",)),
    # experience (SPEC rule 9)
    node("analysis.measured:experience_measurement", name="measurement",
         inputs=("measured_sessions", "user_experience", "params"),
         outputs=("experience_measurement",)),
    node("analysis.experience:experience_model", name="experience model",
         inputs=("user_experience", "params"), outputs=("experience_model",)),
    node("analysis.experience:experience_tables", name="experience", section="experience",
         inputs=("user_experience", "experience_model", "params"), outputs=EXPERIENCE_TABLES),
    # satisfaction (SPEC rule 10)
    node("analysis.satisfaction:satisfaction_scores", name="satisfaction scores",
         inputs=("engagement_users", "experience_users", "engagement_model",
                 "experience_model"), outputs=("satisfaction_scores",)),
    node("analysis.satisfaction:satisfaction_clustering", name="satisfaction clusters",
         inputs=("satisfaction_scores", "params"), outputs=("satisfaction_clustering",)),
    node("analysis.satisfaction:satisfaction_regression", name="satisfaction regression",
         inputs=("satisfaction_scores", "params"), outputs=("satisfaction_regression_fit",)),
    node("analysis.satisfaction:satisfaction_tables", name="satisfaction", section="satisfaction",
         inputs=("satisfaction_scores", "satisfaction_clustering",
                 "satisfaction_regression_fit", "params"), outputs=SATISFACTION_TABLES),
    node("analysis.satisfaction_drivers:satisfaction_drivers", name="satisfaction drivers",
         inputs=("satisfaction",), outputs=("satisfaction_drivers",)),
]

OUTPUTS: list[Node] = [
    node("run.output_steps:findings", name="insights", kind="output", inputs=("tables",),
         outputs=("findings",)),
    node("run.output_steps:save_findings", name="save insights", kind="output",
         inputs=("catalog", "findings"), outputs=("findings_saved",)),
    node("run.output_steps:figures", name="figures", kind="output", option="figures",
         inputs=("catalog", "tables"), outputs=("figure_names",)),
    node("run.output_steps:write_tables", name="write tables", kind="output",
         inputs=("catalog", "tables", "pseudonym_key", "budget"), outputs=("tables_written",)),
    node("run.output_steps:database_export", name="database export", kind="output",
         inputs=("catalog", "satisfaction", "db_url", "pseudonym_key", "run_id"),
         outputs=("database_facts",)),
    # tracking logs the run folder's files; the report shows them and the tracking table
    node("run.output_steps:track", name="tracking", kind="output", option="tracking",
         inputs=("catalog", "manifest", "tables", "models", "metrics", "tracking_uri",
                 "warmups"),
         after=("figure_names", "tables_written", "findings_saved", "database_facts"),
         outputs=("tracking_facts",)),
    # the report reads the run folder and builds its charts beside tracking, and is written
    # once the tracking table is there
    node("run.output_steps:report_draft", name="report charts", kind="output",
         option="report", inputs=("catalog", "manifest"),
         after=("figure_names", "tables_written", "findings_saved", "database_facts"),
         outputs=("report_draft",)),
    node("run.output_steps:report", name="report", kind="output", option="report",
         inputs=("catalog", "manifest", "report_draft"), after=("tracking_facts",),
         outputs=("report_files",)),
]

NODES: list[Node] = [*ENGINE, *ANALYSES, *OUTPUTS]
# frames the nodes pass on that are not published tables
TRANSIENT = frozenset({"users", "satisfaction_scores"})
