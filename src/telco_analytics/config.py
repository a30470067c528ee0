"""Frozen, validated run parameters. Defaults are exactly SPEC section 4."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import ConfigError


@dataclass(frozen=True)
class RunConfig:
    # rule 3: cleaning
    iqr_factor: float = 1.5
    # rule 8 / 9 / 10: clustering
    k_engagement: int = 3
    k_experience: int = 3
    k_satisfaction: int = 2
    kmeans_n_init: int = 10
    random_state: int = 42
    elbow_k_max: int = 10
    # restarts per k of the elbow curve when it is fitted on a sample of users (beyond
    # elbow_sample_size users); on all users every k gets kmeans_n_init restarts, as the k=3 fit
    elbow_n_init: int = 3
    # rule 10: regression
    test_size: float = 0.2
    # 75 boosting iterations at learning rate 0.25: within 0.001 of the test R^2 of 200 at 0.1,
    # 2.4x faster (see models/regression.py)
    regression_max_iter: int = 75
    regression_learning_rate: float = 0.25
    # experience per handset: handsets with at least this many users are reported
    handset_min_users: int = 30
    # beyond this many users, k-means and the elbow are fitted on a uniform sample of users
    # (every user is still assigned and scored); below it everything is exact
    kmeans_sample_threshold: int = 1_000_000
    kmeans_sample_size: int = 1_000_000
    # beyond this many users the elbow curve (k = 1..elbow_k_max) is fitted on a uniform
    # sample of this many users (elbow_n_init restarts); up to it on all users, exactly
    # (kmeans_n_init restarts). Beyond kmeans_sample_threshold the satisfaction regression is
    # trained and evaluated on a uniform sample of regression_sample_size users (hold-out
    # split inside it)
    elbow_sample_size: int = 200_000
    regression_sample_size: int = 250_000
    # up to this many users, the independent fits (engagement beside experience) run side by
    # side on two cores; beyond it one after the other, so that their temporaries (several
    # GB each at tens of millions of users) are never held at the same time
    side_by_side_max_users: int = 20_000_000
    # DuckDB input at least this large on disk (bytes) is read, cleaned and aggregated in a
    # child process that hands the per-user table over as Parquet: the engine's allocator
    # keeps GBs after a large group-by (28.5M users: about 4 GB) that only its process's end
    # returns. 0 = always; below it the steps run in the process (no start-up cost)
    engine_child_min_bytes: int = 1_000_000_000
    # engine for the session-level steps
    engine: str = "duckdb"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.iqr_factor <= 0:
            problems.append(f"iqr_factor must be > 0, got {self.iqr_factor}")
        for name in ("k_engagement", "k_experience", "k_satisfaction"):
            if getattr(self, name) < 2:
                problems.append(f"{name} must be >= 2, got {getattr(self, name)}")
        if self.kmeans_n_init < 1:
            problems.append(f"kmeans_n_init must be >= 1, got {self.kmeans_n_init}")
        if self.elbow_k_max < 3:
            problems.append(f"elbow_k_max must be >= 3, got {self.elbow_k_max}")
        if not 0 < self.test_size < 1:
            problems.append(f"test_size must be in (0, 1), got {self.test_size}")
        for name in ("kmeans_sample_threshold", "kmeans_sample_size", "elbow_sample_size",
                     "regression_sample_size", "side_by_side_max_users", "handset_min_users"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.engine_child_min_bytes < 0:
            problems.append(
                f"engine_child_min_bytes must be >= 0, got {self.engine_child_min_bytes}"
            )
        if self.elbow_sample_size < self.elbow_k_max:
            problems.append(
                f"elbow_sample_size must be >= elbow_k_max ({self.elbow_k_max}), "
                f"got {self.elbow_sample_size}"
            )
        if self.regression_sample_size < 10:
            problems.append(
                f"regression_sample_size must be >= 10, got {self.regression_sample_size}"
            )
        if self.regression_max_iter < 1:
            problems.append(f"regression_max_iter must be >= 1, got {self.regression_max_iter}")
        if not 0 < self.regression_learning_rate <= 1:
            problems.append(
                f"regression_learning_rate must be in (0, 1], got {self.regression_learning_rate}"
            )
        if self.engine not in ("duckdb", "spark"):
            problems.append(f"engine must be duckdb or spark, got {self.engine!r}")
        if problems:
            raise ConfigError("invalid run parameters: " + "; ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)
