"""The registry of finding topics: every key a finding can carry, and who it is written for.

A topic is `section.name`; the section is its first part. Outputs ask for findings by these keys,
so a key named here and nowhere in the narrative, or the other way round, is caught by a test
instead of leaving a slide silently empty.
"""

from __future__ import annotations

AUDIENCES = ("executive", "marketing", "network", "product")

# topic -> audience; one entry per finding the narrative can write
TOPICS: dict[str, str] = {
    "handsets.top_handset": "marketing",
    "handsets.manufacturers": "marketing",
    "overview.app_traffic": "network",
    "overview.typical_user": "executive",
    "overview.duration_deciles": "product",
    "overview.app_correlation": "product",
    "overview.pca_components": "product",
    "overview.pca_first_component": "product",
    "engagement.most_engaged_cluster": "executive",
    "engagement.least_engaged_cluster": "marketing",
    "engagement.top_apps": "network",
    "engagement.heavy_users": "marketing",
    "engagement.elbow": "product",
    "engagement.segments": "marketing",
    "experience.worst_cluster": "network",
    "experience.clusters": "network",
    "experience.handset_throughput": "marketing",
    "experience.worst_handset_tcp": "network",
    "experience.frequent_value": "product",
    "experience.measurement": "network",
    "experience.worst_cells": "network",
    "experience.worst_hours": "network",
    "satisfaction.satisfied_group": "executive",
    "satisfaction.top_users": "marketing",
    "satisfaction.score_correlation": "product",
    "satisfaction.model_quality": "product",
    "satisfaction.model_leakage": "product",
    "satisfaction.training_loss": "product",
    "satisfaction.drivers": "executive",
    "summary.executive": "executive",
}


def section_of(topic: str) -> str:
    """The section a topic belongs to: the part before its first dot."""
    return topic.split(".", 1)[0]
