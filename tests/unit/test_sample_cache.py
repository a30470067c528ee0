"""The built-in sample's cache: one file per size, seed, structure and generator version, with
its planted truth beside it."""

from __future__ import annotations

import pandas as pd

from telco_analytics import sample
from telco_analytics.synth import fingerprint, generate_frame
from telco_analytics.synth.truth import read_truth


def test_planted_and_independent_samples_are_cached_apart_with_their_truth():
    planted = sample.sample_path(2000, seed=1)
    independent = sample.sample_path(2000, seed=1, structure="none")
    assert planted != independent and planted.exists() and independent.exists()
    assert read_truth(sample.sample_truth_path(2000, seed=1))["structure"] == "planted"
    none = read_truth(sample.sample_truth_path(2000, seed=1, structure="none"))
    assert none["structure"] == "none" and none["heavy_users"] == []
    # structure none is the independent generator's extract
    pd.testing.assert_frame_equal(pd.read_parquet(independent),
                                  generate_frame(2000, seed=1, structure="none"))
    assert sample.sample_path(2000, seed=1) == planted  # served from the cache


def test_a_changed_generator_makes_a_new_sample(monkeypatch):
    before = sample.sample_path(1500, seed=2)
    monkeypatch.setattr(fingerprint, "generator_digest", lambda: "f" * 64)
    after = sample.sample_path(1500, seed=2)
    assert after != before and after.exists() and sample.sample_truth_path(1500, seed=2).exists()


def test_a_sample_without_its_truth_is_made_again():
    path = sample.sample_path(1200, seed=3)
    truth = sample.sample_truth_path(1200, seed=3)
    truth.unlink()
    assert sample.sample_path(1200, seed=3) == path and truth.exists()
