"""Declared nodes (order, checks, lazy references), the run catalog and the settings."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from telco_analytics.config import AnalysisParams, ExecutionSettings
from telco_analytics.errors import ConfigError, InputError
from telco_analytics.run import graph
from telco_analytics.run.catalog import (
    INSIGHTS,
    MANIFEST,
    RunCatalog,
    latest_run,
    staged_folder,
    write_atomic,
)
from telco_analytics.run.graph import node
from telco_analytics.run.nodes import NODES


def test_nodes_run_after_what_they_wait_for():
    nodes = [node(len, name="c", inputs=("b",), outputs=("c",)),
             node(len, name="b", inputs=("a", "params"), outputs=("b",)),
             node(len, name="a", inputs=("input",), outputs=("a",))]
    assert [n.name for n in graph.order(nodes)] == ["a", "b", "c"]


def test_a_cycle_a_missing_input_or_a_dataset_made_twice_is_refused():
    cycle = [node(len, name="a", inputs=("y",), outputs=("x",)),
             node(len, name="b", inputs=("x",), outputs=("y",))]
    with pytest.raises(ValueError, match="no node can produce"):
        graph.check_graph(cycle)
    with pytest.raises(ValueError, match="no node can produce"):
        graph.check_graph([node(len, name="a", inputs=("nowhere",), outputs=("x",))])
    with pytest.raises(ValueError, match="produced twice"):
        graph.check_graph([node(len, name="a", outputs=("x",)),
                           node(len, name="b", outputs=("x",))])


def test_a_star_input_gathers_every_dataset_with_the_prefix():
    nodes = [node(len, name="p1", outputs=("fit_1",)), node(len, name="p0", outputs=("fit_0",)),
             node(len, name="all", inputs=("fit_*",), outputs=("fits",))]
    assert graph.dependencies(nodes)["all"] == {"fit_0", "fit_1"}
    assert graph.expand("fit_*", ["fit_1", "other", "fit_0"]) == ["fit_0", "fit_1"]


def test_collected_inputs_wait_for_every_analysis():
    needs = graph.dependencies(NODES)
    produced = {o for n in NODES if n.kind != "output" for o in n.outputs}
    assert needs["insights"] == produced


def test_the_run_graph_is_valid_and_every_function_takes_its_inputs():
    import inspect

    graph.check_graph(NODES)
    for n in NODES:
        # one positional argument per declared input (bind raises TypeError otherwise)
        inspect.signature(n.function()).bind(*n.inputs)


def test_node_references_are_imported_only_when_called():
    n = node("analysis.overview:app_totals", name="x", outputs=("y",))
    assert n.func == "analysis.overview:app_totals"
    from telco_analytics.analysis.overview import app_totals

    assert n.function() is app_totals
    with_kwargs = node("analysis.overview:top_n_positions", name="k", kwargs={"n": 3})
    assert with_kwargs.function().keywords == {"n": 3}


def test_write_atomic_never_leaves_a_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "a" / "file.txt"
    write_atomic(target, "first")
    assert target.read_text() == "first"

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "second")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path):
    final = tmp_path / "runs" / "r"
    with pytest.raises(RuntimeError), staged_folder(final) as staging:
        (staging / "half.txt").write_text("x")
        raise RuntimeError("failed")
    assert not (tmp_path / "runs").exists()  # the parent made for it is gone too
    with staged_folder(final) as staging:
        (staging / "one.txt").write_text("1")
    with staged_folder(final) as staging:
        (staging / "two.txt").write_text("2")
    assert sorted(p.name for p in final.iterdir()) == ["two.txt"]
    assert sorted(p.name for p in final.parent.iterdir()) == ["r"]


def test_the_catalog_reads_what_it_writes(tmp_path):
    catalog = RunCatalog(tmp_path / "run")
    assert "does not exist" in catalog.problem()
    with pytest.raises(InputError, match="not a run folder"):
        catalog.require_run()
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    catalog.write_table("t", df)
    catalog.write_json(MANIFEST, {"run_id": "r1", "n": float("nan")})
    catalog.write_json(INSIGHTS, [{"topic": "x"}])
    catalog.write_figure("f", b"png")
    assert catalog.problem() is None and catalog.is_run()
    pd.testing.assert_frame_equal(catalog.read_table("t"), df)
    assert pd.read_csv(catalog.csv_path("t")).shape == (2, 2)
    assert catalog.read_manifest() == {"run_id": "r1", "n": None}
    assert catalog.read_insights() == [{"topic": "x"}]
    assert catalog.table_names() == ["t"] and list(catalog.figures()) == ["f"]
    assert catalog.read_tracking_runs() is None


def test_latest_run_is_the_newest_complete_one(tmp_path):
    assert latest_run(tmp_path / "absent") is None
    for name in ("old", "new", ".new.partial-1"):
        RunCatalog(tmp_path / name).write_json(MANIFEST, {})
    os.utime(tmp_path / "old" / MANIFEST, (1, 1))
    (tmp_path / "no-manifest").mkdir()
    assert latest_run(tmp_path) == tmp_path / "new"


def test_settings_name_every_bad_field_and_its_range():
    with pytest.raises(ConfigError) as bad:
        AnalysisParams(elbow_n_init=0, kmeans_n_init=-2, test_size=1.0, k_engagement=2.5)
    message = str(bad.value)
    assert "\n" not in message
    for text in ("elbow_n_init must be an integer >= 1, got 0",
                 "kmeans_n_init must be an integer >= 1, got -2",
                 "test_size must be a number in (0, 1), got 1.0",
                 "k_engagement must be an integer >= 2, got 2.5"):
        assert text in message
    with pytest.raises(ConfigError, match="elbow_sample_size must be >= elbow_k_max"):
        AnalysisParams(elbow_sample_size=5)
    with pytest.raises(ConfigError, match="engine must be 'duckdb' or 'spark', got 'oracle'"):
        ExecutionSettings(engine="oracle")
    with pytest.raises(ConfigError, match="workers must be None or an integer >= 1, got 0"):
        ExecutionSettings(workers=0)
    with pytest.raises(ConfigError, match="iqr_factor must be a number in"):
        AnalysisParams(iqr_factor=True)
    assert AnalysisParams().kmeans_n_init == 10 and ExecutionSettings().workers is None


def test_analysis_parameters_and_execution_settings_do_not_mix():
    params, settings = set(AnalysisParams().as_dict()), set(ExecutionSettings().as_dict())
    assert not params & settings
    assert {"engine", "side_by_side_max_users", "engine_child_min_bytes"} <= settings
    assert {"k_engagement", "kmeans_n_init", "iqr_factor", "handset_min_users"} <= params
