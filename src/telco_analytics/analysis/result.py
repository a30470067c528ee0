"""What an analysis hands back: its tables, fitted models, metrics and manifest facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class AnalysisResult:
    """The outputs of one analysis (engagement, experience or satisfaction).

    tables: table name -> DataFrame (SPEC section 3 names, e.g. engagement_users).
    models: name -> fitted object to track ("engagement", "engagement_best_k", "experience",
        "satisfaction_clusters", "satisfaction_regression").
    metrics: flat, unprefixed name -> number for tracking (the runner prefixes the section).
    sampling: manifest["sampling"] entries: whether (or how) a model saw a sample of users
        (engagement_kmeans, engagement_elbow, engagement_elbow_restarts, experience_kmeans,
        satisfaction_kmeans, satisfaction_regression).
    facts: other manifest entries (e.g. engagement_chosen_k).
    """

    tables: dict[str, pd.DataFrame]
    models: dict[str, object] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
