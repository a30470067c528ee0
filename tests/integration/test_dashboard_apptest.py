"""The dashboard in-process (Streamlit AppTest) over a real small run, and its data layer.

Expected numbers are read from the run's own tables with plain pandas, never copied from output.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from telco_analytics.dashboard import data, launch
from telco_analytics.errors import ConfigError
from tests.e2e.contract_tables import write_hotspot_tables
from tests.helpers import generated_run

APP = Path(launch.__file__).with_name("app.py")
PAGES = ["overview", "engagement", "experience", "network", "satisfaction", "model", "lookup",
         "tables"]
TITLES = {"overview": "User overview", "engagement": "User engagement",
          "experience": "User experience", "network": "Network hotspots",
          "satisfaction": "User satisfaction", "model": "Satisfaction model",
          "lookup": "Customer lookup", "tables": "Tables"}


def _make_run(base: Path, pseudonymize: bool = False) -> Path:
    """The real pipeline on a small generated extract (no figures: the dashboard draws its own)."""
    return generated_run(base, report=False, figures=False, tracking=False,
                     pseudonymize=pseudonymize)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    return _make_run(tmp_path_factory.mktemp("dashboard-run"))


@pytest.fixture(scope="session")
def pseudonymized_run(tmp_path_factory) -> Path:
    old = os.environ.get("TELCO_PSEUDONYM_KEY")
    os.environ["TELCO_PSEUDONYM_KEY"] = "test-key-for-the-dashboard"
    try:
        return _make_run(tmp_path_factory.mktemp("dashboard-pseudo-run"), pseudonymize=True)
    finally:
        if old is None:
            del os.environ["TELCO_PSEUDONYM_KEY"]
        else:
            os.environ["TELCO_PSEUDONYM_KEY"] = old


def _table(run_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "tables" / f"{name}.parquet")


def _app(monkeypatch, run_dir: Path | None, page: str | None = None) -> AppTest:
    if run_dir is None:
        monkeypatch.delenv(data.RUN_ENV, raising=False)
    else:
        monkeypatch.setenv(data.RUN_ENV, str(run_dir))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if page:
        at.query_params["page"] = page
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


DIVISORS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "h": 3.6e6, "min": 6e4,
            "s": 1e3, "ms": 1, "kbps": 1}


def _unit(element, column: str) -> tuple[str, float]:
    """A shown table column's header and what its raw values were divided by for display."""
    label = json.loads(element.proto.columns)[column]["label"]
    unit = label.rsplit("(", 1)[-1].rstrip(")") if label.endswith(")") else ""
    return label, DIVISORS.get(unit, 1)


# ---------------------------------------------------------------- no run / bad run


def test_without_a_run_folder_the_app_says_how_to_make_one(monkeypatch):
    at = _app(monkeypatch, None)
    assert not at.exception
    assert len(at.error) == 1
    assert "No run folder given" in at.error[0].value
    assert "telco run --out DIR" in at.error[0].value


def test_a_folder_without_manifest_is_refused_with_a_clear_message(monkeypatch, tmp_path):
    (tmp_path / "tables").mkdir()
    at = _app(monkeypatch, tmp_path)
    assert not at.exception
    assert "no manifest.json" in at.error[0].value
    assert "telco run --out DIR" in at.error[0].value


def test_run_folder_from_script_argument_wins_over_environment(tmp_path):
    found = data.run_dir_from(["--run", str(tmp_path)], {data.RUN_ENV: "/elsewhere"})
    assert found == tmp_path
    assert data.run_dir_from([], {data.RUN_ENV: str(tmp_path)}) == tmp_path
    assert data.run_dir_from(["unrelated", "--flag"], {}) is None


# ---------------------------------------------------------------- every page


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(monkeypatch, small_run, page):
    at = _app(monkeypatch, small_run, page)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    assert [t.value for t in at.title] == [TITLES[page]]
    assert at.radio(key="page").value == page


SECTIONS = {"overview": "overview-section", "engagement": "engagement-section",
            "experience": "experience-section", "network": "network-section",
            "satisfaction": "satisfaction-section", "model": "model-section"}


@pytest.mark.parametrize("page", list(SECTIONS))
def test_each_section_is_drawn_alone_on_demand(monkeypatch, small_run, tmp_path, page):
    """A page draws the first of its sections; each other one when picked, in its place (the
    first view's charts are not drawn under it), without an exception."""
    run = _with_hotspots(small_run, tmp_path, True)[0] if page == "network" else small_run
    at = _app(monkeypatch, run, page)
    chooser = at.radio(key=SECTIONS[page])
    assert chooser.value == chooser.options[0]
    first = len(at.get("vega_lite_chart"))
    headers = {h.value for h in at.header}
    for name in chooser.options[1:]:
        at.radio(key=SECTIONS[page]).set_value(name).run()
        assert not at.exception, (name, [e.message for e in at.exception])
        assert at.title[0].value == TITLES[page]
        # the first section's headers are gone: only the picked section is drawn
        assert headers and not headers <= {h.value for h in at.header}, name
    assert first >= 1


def test_menu_switches_page(monkeypatch, small_run):
    at = _app(monkeypatch, small_run)
    assert at.title[0].value == TITLES["overview"]
    at.radio(key="page").set_value("satisfaction").run()
    assert at.title[0].value == TITLES["satisfaction"]
    assert at.query_params["page"] == "satisfaction"


def test_overview_numbers_come_from_the_run(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "overview")
    shown = _metrics(at)
    manifest = json.loads((small_run / "manifest.json").read_text())
    assert shown["Users"] == f"{len(_table(small_run, 'user_overview')):,}"
    assert shown["Sessions (xDRs)"] == f"{manifest['rows']['sessions']:,}"
    assert shown["Sessions without MSISDN"] == f"{manifest['rows']['sessions_without_msisdn']:,}"


def test_overview_manufacturer_filter_shows_its_own_top_handsets(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "overview")
    top3 = _table(small_run, "manufacturers_top3")
    maker = top3["manufacturer"].iloc[-1]
    at.selectbox(key="overview-maker").set_value(maker).run()
    at.toggle(key="overview-handset-tables").set_value(True).run()
    assert not at.exception
    # the maker's own ranking, not the overall top 10 filtered down to its few rows
    ranked = _table(small_run, "handsets_top10_per_manufacturer")
    own = ranked[ranked["manufacturer"] == maker]
    assert len(own) == 10
    shown = at.dataframe[0].value
    assert shown["handset"].tolist() == own["handset"].tolist()
    assert set(shown["manufacturer"]) == {maker}
    # the ranking is the maker's sessions per handset type, largest first (SPEC rule 2)
    assert own["sessions"].is_monotonic_decreasing


def test_a_manufacturer_in_an_older_run_shows_its_top_5(monkeypatch, small_run, tmp_path):
    old = tmp_path / "old-run"
    shutil.copytree(small_run, old)
    for suffix in ("parquet", "csv"):
        (old / "tables" / f"handsets_top10_per_manufacturer.{suffix}").unlink()
    at = _app(monkeypatch, old, "overview")
    maker = _table(old, "manufacturers_top3")["manufacturer"].iloc[0]
    assert at.selectbox(key="overview-maker").options == ["All", *_table(
        old, "manufacturers_top3")["manufacturer"]]
    at.selectbox(key="overview-maker").set_value(maker).run()
    at.toggle(key="overview-handset-tables").set_value(True).run()
    assert not at.exception
    top5 = _table(old, "handsets_top5_per_manufacturer")
    assert at.dataframe[0].value["handset"].tolist() == top5[
        top5["manufacturer"] == maker]["handset"].tolist()
    assert any("older version" in c.value for c in at.caption)


def test_engagement_cluster_metrics_and_filter(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "engagement")
    clusters = _table(small_run, "engagement_clusters")
    values = [m.value for m in at.metric]
    assert values == [f"{int(n):,} users" for n in clusters["users"]]
    users = _table(small_run, "engagement_users")
    at.radio(key="engagement-section").set_value("Every user").run()
    at.multiselect(key="engagement-cluster").set_value([2]).run()
    page = at.dataframe[-1].value
    assert set(page["cluster"]) == {2}
    assert len(page) == min(100, (users["cluster"] == 2).sum())
    # default sort: total_bytes, largest first, shown in the unit its header names
    expected = users[users["cluster"] == 2]["total_bytes"].sort_values(ascending=False)
    label, divisor = _unit(at.dataframe[-1], "total_bytes")
    assert label in ("total_bytes (MB)", "total_bytes (GB)")
    assert page["total_bytes"].tolist() == (expected.head(100) / divisor).round(2).tolist()
    caption = next(c.value for c in at.caption if "engagement_users" in c.value)
    assert f"of {(users['cluster'] == 2).sum():,} matching" in caption


def test_experience_handset_filter(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "experience")
    users = _table(small_run, "experience_users")
    handset = users["handset"].value_counts().index[0]
    at.multiselect(key="experience-handset").set_value([handset]).run()
    # the handset filter sits above the sections: the users table keeps it
    at.radio(key="experience-section").set_value("Every user").run()
    assert not at.exception
    page = at.dataframe[-1].value
    assert set(page["handset"]) == {handset}
    caption = next(c.value for c in at.caption if "experience_users" in c.value)
    assert f"of {(users['handset'] == handset).sum():,} matching" in caption


def test_satisfaction_page_shows_cluster_means(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "satisfaction")
    clusters = _table(small_run, "satisfaction_clusters")
    shown = _metrics(at)
    for row in clusters.itertuples():
        assert shown[f"Cluster {row.cluster}: mean satisfaction"] == f"{row.mean_satisfaction:.3f}"
    at.radio(key="satisfaction-section").set_value("Every user").run()
    page = at.dataframe[-1].value
    assert page["satisfaction_score"].iloc[0] == round(_table(small_run, "satisfaction")[
        "satisfaction_score"].max(), 3)


def test_first_view_scatters_are_samples_their_subtitle_counts(monkeypatch, small_run):
    """The first views' scatters draw at most common.SCATTER_POINTS points and say so."""
    from telco_analytics.dashboard.views.common import SCATTER_POINTS

    users = len(_table(small_run, "satisfaction"))
    assert users > SCATTER_POINTS  # else this run cannot show the sampling
    def subtitles(at: AppTest) -> list[str]:
        specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
        return [s["title"]["subtitle"] for s in specs if isinstance(s.get("title"), dict)]

    at = _app(monkeypatch, small_run, "satisfaction")
    assert any(t.endswith(f"sample of {SCATTER_POINTS:,} of {users:,} users")
               for t in subtitles(at))
    tested = len(_table(small_run, "regression_predictions"))
    at = _app(monkeypatch, small_run, "model")
    shown = min(tested, SCATTER_POINTS)
    assert f"{shown:,} test users; dashed line = perfect prediction" in subtitles(at)


def test_model_page_shows_test_quality(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "model")
    metrics = _table(small_run, "regression_metrics")
    test = metrics[(metrics["split"] == "test") & (metrics["model"] == "hist_gradient_boosting")]
    assert _metrics(at)["Test R²"] == f"{test['r2'].iloc[0]:.4f}"


def test_customer_lookup_shows_score_and_percentile(monkeypatch, small_run):
    sat = _table(small_run, "satisfaction")
    person = sat.sort_values("satisfaction_score").iloc[len(sat) // 3]  # not an extreme user
    at = _app(monkeypatch, small_run, "lookup")
    box = at.text_input(key="lookup-key")
    assert box.label == "MSISDN"
    box.input(f"  {person['msisdn']} ").run()
    assert not at.exception
    shown = _metrics(at)
    assert shown["Satisfaction score"] == f"{person['satisfaction_score']:.4f}"
    assert shown["Engagement score"] == f"{person['engagement_score']:.4f}"
    assert shown["Satisfaction cluster"].startswith(f"{int(person['cluster'])}:")
    share = 100 * (sat["satisfaction_score"] <= person["satisfaction_score"]).mean()
    ranks = [m.value for m in at.markdown if "percentile" in m.value]
    assert f"percentile {share:.1f}:" in ranks[0]  # the satisfaction score comes first
    engagement = _table(small_run, "engagement_users").set_index("msisdn")
    assert shown["Engagement cluster"].startswith(f"{engagement.loc[person['msisdn'], 'cluster']}:")
    usage = at.dataframe[0].value.set_index("metric")
    overview = _table(small_run, "user_overview").set_index("msisdn")
    sessions = overview["sessions"]
    expected = 100 * (sessions <= sessions.loc[person["msisdn"]]).mean()
    assert usage.loc["sessions", "percentile"] == pytest.approx(expected, abs=0.05)


def test_customer_lookup_of_an_unknown_key_warns(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "lookup")
    at.text_input(key="lookup-key").input("not-a-customer").run()
    assert not at.exception
    assert "No customer with MSISDN not-a-customer" in at.warning[0].value
    assert not at.metric


def test_lookup_in_a_pseudonymized_run_is_by_pseudonym(monkeypatch, pseudonymized_run):
    sat = _table(pseudonymized_run, "satisfaction")
    person = sat.iloc[0]
    assert len(person["msisdn"]) == 16  # the column holds pseudonyms, not numbers
    at = _app(monkeypatch, pseudonymized_run, "lookup")
    box = at.text_input(key="lookup-key")
    assert box.label == "Pseudonym"
    assert "pseudonymized" in at.info[0].value
    box.input(person["msisdn"]).run()
    assert _metrics(at)["Satisfaction score"] == f"{person['satisfaction_score']:.4f}"


def test_tables_page_pages_through_any_table(monkeypatch, small_run):
    at = _app(monkeypatch, small_run, "tables")
    at.selectbox(key="tables-name").set_value("user_overview").run()
    at.number_input[0].set_value(3).run()
    page = at.dataframe[0].value
    table = _table(small_run, "user_overview")
    assert page["msisdn"].tolist() == table["msisdn"].iloc[200:300].tolist()
    assert list(page.index) == list(range(201, 301))
    assert [b.label for b in at.get("download_button")] == ["Download user_overview.csv"]


# ---------------------------------------------------------------- network hotspots


def _with_hotspots(small_run: Path, tmp_path: Path, intervals: bool = True
                   ) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    run = tmp_path / "run-with-hotspots"
    shutil.copytree(small_run, run)
    cells, hours = write_hotspot_tables(run, intervals=intervals)
    return run, cells, hours


@pytest.mark.parametrize("intervals", [True, False], ids=["with-intervals", "contract-only"])
def test_network_page_shows_the_worst_cells_and_the_hours(monkeypatch, small_run, tmp_path,
                                                           intervals):
    run, cells, hours = _with_hotspots(small_run, tmp_path, intervals)
    at = _app(monkeypatch, run, "network")
    assert not at.exception, [e.message for e in at.exception]
    assert not at.info  # no "older version" note
    shown = _metrics(at)
    assert shown["Cells ranked"] == f"{len(cells):,}"
    assert shown["Sessions in them"] == f"{cells['sessions'].sum():,}"
    # first the chart of the worst cells and every cell, paged, worst first (the table's own
    # order); then, in their section, the hours chart and the 24 hours in order
    assert len(at.get("vega_lite_chart")) == 1
    assert not at.dataframe  # the table of every cell is drawn on demand
    at.toggle(key="network-every-cell").set_value(True).run()
    every_cell = at.dataframe[0].value
    assert every_cell["cell"].tolist() == cells["cell"].head(100).tolist()
    assert every_cell["rank"].tolist() == list(range(1, min(100, len(cells)) + 1))
    at.radio(key="network-section").set_value("Hours of the day").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1
    by_hour = at.dataframe[0].value
    assert by_hour["hour"].tolist() == list(range(24))
    assert by_hour["rtt_ms"].tolist() == hours.sort_values("hour")["rtt_ms"].round(1).tolist()
    # RTT across every ranked cell: their sessions' mean, each cell weighted by its sessions
    rtt = (cells["rtt_ms"] * cells["rtt_sessions"]).sum() / cells["rtt_sessions"].sum()
    assert shown["Round-trip time (ms), all ranked cells"] == f"{rtt:,.1f} ms"
    at.radio(key="network-section").set_value("Cells").run()
    at.selectbox(key="network-metric").set_value("throughput_kbps").run()
    assert not at.exception
    assert "Throughput DL+UL (kbps), all ranked cells" in _metrics(at)


def test_network_page_of_an_older_run_says_why_it_is_empty(monkeypatch, small_run, tmp_path):
    """A run made before the hotspot tables existed: its copy without them."""

    older = tmp_path / "older"
    shutil.copytree(small_run, older)
    for path in (older / "tables").glob("experience_per_*"):
        path.unlink()
    at = _app(monkeypatch, older, "network")
    assert not at.exception
    assert "no hotspot tables" in at.info[0].value and "older version" in at.info[0].value
    assert not at.get("vega_lite_chart")


# ---------------------------------------------------------------- data layer on many row groups


@pytest.fixture
def grouped_run(tmp_path) -> Path:
    """A fake run whose only table is split into many small row groups, in shuffled order."""
    rng = np.random.default_rng(1)
    n = 1000
    frame = pd.DataFrame({"msisdn": [f"u{i:04d}" for i in rng.permutation(n)],
                          "value": rng.normal(size=n).round(6),
                          "cluster": rng.integers(0, 3, n)})
    (tmp_path / "tables").mkdir()
    (tmp_path / "manifest.json").write_text("{}")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                   tmp_path / "tables" / "users.parquet", row_group_size=64)
    return tmp_path


def test_pages_filters_and_sorts_across_row_groups(grouped_run):
    frame = _table(grouped_run, "users")
    assert data.shape(grouped_run, "users").row_group_rows[0] == 64
    filters = (("cluster", (0, 2)),)
    expected = frame[frame["cluster"].isin([0, 2])].sort_values("value", ascending=False,
                                                                kind="stable")
    for number in (0, 3):
        got = data.page(grouped_run, "users", number, size=50, filters=filters,
                        sort=("value", True))
        want = expected.iloc[number * 50:(number + 1) * 50]
        assert got["msisdn"].tolist() == want["msisdn"].tolist()
    assert data.matching_count(grouped_run, "users", filters) == len(expected)
    last = data.page(grouped_run, "users", 19, size=50)
    assert last["msisdn"].tolist() == frame["msisdn"].iloc[950:].tolist()
    beyond = data.page(grouped_run, "users", 20, size=50)
    assert beyond.empty and list(beyond.columns) == list(frame.columns)


@pytest.mark.parametrize("descending", [True, False])
def test_pages_of_a_sort_with_ties_and_missing_values_are_those_of_a_stable_sort(
        tmp_path, descending):
    # the head of the order is found without sorting every row: it must be the same rows
    rng = np.random.default_rng(2)
    n = 1000
    value = rng.integers(0, 12, n).astype("float64")  # many ties
    value[rng.choice(n, 80, replace=False)] = np.nan  # missing values go last either way
    frame = pd.DataFrame({"msisdn": [f"u{i:04d}" for i in range(n)], "value": value,
                          "cluster": rng.integers(0, 3, n)})
    (tmp_path / "tables").mkdir()
    (tmp_path / "manifest.json").write_text("{}")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                   tmp_path / "tables" / "users.parquet", row_group_size=64)
    for filters in ((), (("cluster", (0, 2)),)):
        kept = frame if not filters else frame[frame["cluster"].isin([0, 2])]
        expected = kept.sort_values("value", ascending=not descending, kind="stable",
                                    na_position="last")
        for number in range(len(kept) // 50 + 1):
            got = data.page(tmp_path, "users", number, size=50, filters=filters,
                            sort=("value", descending))
            want = expected.iloc[number * 50:(number + 1) * 50]
            assert got["msisdn"].tolist() == want["msisdn"].tolist(), (filters, number)


def test_chart_rows_samples_big_tables_and_keeps_small_ones(grouped_run):
    frame = _table(grouped_run, "users")
    whole = data.chart_rows(grouped_run, "users", ["value"], limit=5000)
    assert whole["value"].tolist() == frame["value"].tolist()
    sample = data.chart_rows(grouped_run, "users", ["msisdn", "value"], limit=100)
    assert len(sample) == 100 and sample["msisdn"].is_unique
    assert set(sample["msisdn"]) <= set(frame["msisdn"])
    kept = data.chart_rows(grouped_run, "users", ["cluster"], filters=(("cluster", (1,)),),
                           limit=5000)
    assert len(kept) == (frame["cluster"] == 1).sum() and set(kept["cluster"]) == {1}


def test_lookup_and_percentile(grouped_run):
    frame = _table(grouped_run, "users")
    row = frame.iloc[777]
    found = data.lookup(grouped_run, "users", row["msisdn"])
    assert found["value"].tolist() == [row["value"]]
    assert data.lookup(grouped_run, "users", "nobody").empty
    share = data.percentile_rank(grouped_run, "users", "value", row["value"])
    assert share == pytest.approx(100 * (frame["value"] <= row["value"]).mean())


def test_csv_download_is_the_table(grouped_run, small_run):
    # a run's own CSV is served as written; without one it is written from the Parquet
    assert data.csv_bytes(small_run, "satisfaction_top10") == (
        small_run / "tables" / "satisfaction_top10.csv").read_bytes()
    from io import BytesIO

    back = pd.read_csv(BytesIO(data.csv_bytes(grouped_run, "users")))
    pd.testing.assert_frame_equal(back, _table(grouped_run, "users"), check_dtype=False)


# ---------------------------------------------------------------- launcher


def test_find_latest_run_picks_the_newest_complete_run(tmp_path):
    assert launch.find_latest_run(tmp_path / "absent") is None
    assert launch.find_latest_run(tmp_path) is None
    for i, name in enumerate(["run-a", "run-b", ".run-c.partial-1234", "not-a-run"]):
        folder = tmp_path / name
        folder.mkdir()
        if name != "not-a-run":
            (folder / "manifest.json").write_text("{}")
            os.utime(folder / "manifest.json", ns=(10**18 + i, 10**18 + i))
    assert launch.find_latest_run(tmp_path) == tmp_path / "run-b"


def test_launch_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ConfigError, match="not a run folder.*telco run --out DIR"):
        launch.launch(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        launch.launch(tmp_path / "missing")


def test_launch_command_serves_the_app_over_the_run(small_run):
    command = launch.dashboard_command(small_run, port=8765, headless=True)
    assert command[1:4] == ["-m", "telco_analytics.dashboard.server", "run"]
    assert Path(command[4]) == APP
    assert command[command.index("--server.port") + 1] == "8765"
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[-3:] == ["--", "--run", str(small_run.resolve())]


def test_launch_returns_the_server_exit_code(small_run, monkeypatch):
    calls = []
    monkeypatch.setattr(launch, "serve", lambda cmd: calls.append(cmd) or 3)
    assert launch.launch(small_run, port=9999) == 3
    assert calls and calls[0] == launch.dashboard_command(small_run, 9999, True)


@pytest.mark.parametrize(("returncode", "shown"), [(0, 0), (3, 3), (-9, 137), (-15, 143)])
def test_a_server_killed_by_a_signal_exits_as_a_shell_reports_it(returncode, shown):
    assert launch.exit_code(returncode) == shown


def test_copied_run_is_still_readable(tmp_path, small_run, monkeypatch):
    # a run moved elsewhere (e.g. to a share) needs no path inside it
    moved = tmp_path / "moved"
    shutil.copytree(small_run, moved)
    at = _app(monkeypatch, moved, "overview")
    assert not at.exception and _metrics(at)["Users"] == f"{len(_table(moved, 'user_overview')):,}"


# ---------------------------------------------------------------- what a typed number may be


@pytest.mark.parametrize("typed", [
    "33601001216", " 33601001216 ", "+33601001216", "+33 6 01 00 12 16", "0033 601-001-216",
    "06 01 00 12 16", "06.01.00.12.16", "0601001216", "+33 (0)6 01 00 12 16", "330601001216",
])
def test_the_forms_people_type_include_the_stored_key(typed):
    from telco_analytics.dashboard.keys import candidates, country_prefix

    prefix = country_prefix(["33601001216", "33712345678", "33698765432"])
    assert prefix == "33"
    assert "33601001216" in candidates(typed, prefix)


def test_a_country_code_is_tried_at_each_length_the_keys_allow():
    from telco_analytics.dashboard.keys import candidates, country_prefix

    # every UK mobile key starts 447: the code could be 4, 44 or 447 for all the keys tell
    prefix = country_prefix(["447700900123", "447911123456"])
    assert prefix == "447"
    assert candidates("07700 900123", prefix)[1:] == ["47700900123", "447700900123",
                                                      "4477700900123"]
    assert candidates("not a number", prefix) == ["not a number"]
    assert candidates("A3F9C2", "") == ["A3F9C2", "a3f9c2"]  # a pseudonym, any case
    assert candidates("   ", prefix) == []


def test_a_national_number_matching_two_customers_is_ambiguous(monkeypatch, tmp_path):
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    (run / "manifest.json").write_text("{}")
    # every key starts 447: 07700900123 may be 44 7700900123 or 447 7700900123
    scores = pd.DataFrame({"msisdn": ["447700900123", "4477700900123", "447911123456"],
                           "engagement_score": [1.0, 2.0, 3.0], "experience_score": 1.0,
                           "satisfaction_score": [1.0, 1.5, 2.0], "cluster": [0, 1, 1]})
    scores.to_parquet(run / "tables" / "satisfaction.parquet")
    at = _app(monkeypatch, run, "lookup")
    at.text_input(key="lookup-key").input("07700 900123").run()
    assert not at.exception
    assert "may be any of 447700900123, 4477700900123" in at.warning[0].value
    assert not at.metric
    at.text_input(key="lookup-key").input("+44 7700 900123").run()
    assert not at.warning and _metrics(at)["Satisfaction score"] == "1.0000"


# ---------------------------------------------------------------- numbers as people read them


def test_each_column_is_shown_in_one_unit_named_in_its_header():
    from telco_analytics.dashboard.formats import readable

    raw = pd.DataFrame({"cluster": [0, 1], "users": [86983, 3269],
                        "users_share": [0.814, 0.031],
                        "duration_ms_mean": [91_093_820.5, 514_750_209.4],
                        "total_bytes_mean": [502_140_000.0, 2_770_000_000.0],
                        "rtt_ms": [24.668, 24.185], "r2": [0.99612, -1.2e-17]})
    shown, config = readable(raw, "engagement_clusters")
    labels = {c: config[c]["label"] for c in config}
    assert labels["duration_ms_mean"] == "duration_mean (h)"
    assert labels["total_bytes_mean"] == "total_bytes_mean (GB)"
    assert labels["rtt_ms"] == "rtt_ms (ms)"
    assert shown["duration_ms_mean"].tolist() == [25.3, 143.0]
    assert shown["total_bytes_mean"].tolist() == [0.5, 2.77]
    assert shown["users_share"].tolist() == [81.4, 3.1]  # a share as a percentage
    assert config["users_share"]["type_config"]["format"] == "%,.1f%%"
    assert config["users"]["type_config"]["format"] == "%,.0f"  # thousands separated
    assert str(shown["r2"].iloc[1]) == "0.0"  # never "-0"
    assert raw["users_share"].tolist() == [0.814, 0.031]  # the raw frame is left alone


def test_a_table_of_one_variable_a_row_shows_each_row_in_its_unit():
    from telco_analytics.dashboard.formats import readable

    raw = pd.DataFrame({"variable": ["sessions", "duration_ms", "total_bytes"],
                        "count": [10, 10, 10], "mean": [1.5, 7_200_000.0, 2.5e9],
                        "var": [0.25, 1e12, 1e18], "skew": [1.1, 2.2, 3.3]})
    shown, config = readable(raw, "univariate")
    assert shown["mean"].tolist() == ["1.50", "2.0 h", "2.50 GB"]
    assert "var" not in shown  # squared units: in the CSV only
    assert config["skew"]["type_config"]["format"] == "%,.2f"
    one = readable(raw.iloc[[2]], "univariate")[1]
    assert one["mean"]["label"] == "mean (GB)"  # one variable: numbers, unit in the header


# ---------------------------------------------------------------- charts across the page


def test_a_chart_is_fitted_to_the_page_width_with_a_readable_plot():
    from telco_analytics.dashboard.fit import MIN_PLOT_HEIGHT, fit
    from telco_analytics.report.figures import experience, overview

    two = pd.DataFrame({"handset": ["A", "B"], "users": [40, 30], "mean": [5.0, 6.0],
                        "median": [4.0, 5.0], "p25": [2.0, 3.0], "p75": [8.0, 9.0]})
    (spec,) = fit(experience.throughput_per_handset_chart(two).to_dict()).specs
    assert spec["width"] == "container" and spec["height"] == MIN_PLOT_HEIGHT  # not 2 x 28 px
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    per_maker = pd.DataFrame({"manufacturer": ["X", "Y"], "rank": [1, 1], "handset": ["a", "b"],
                              "sessions": [5, 4], "users": [3, 2]})
    (spec,) = fit(overview.handsets_top5_per_manufacturer_chart(per_maker).to_dict()).specs
    assert spec["layer"][0]["encoding"]["color"]["legend"]["orient"] == "right"  # off the bars


def test_panels_become_a_row_of_charts_under_one_title_and_legend():
    from telco_analytics.dashboard.fit import fit
    from telco_analytics.report.figures import engagement

    users = pd.DataFrame({"sessions": [1, 2, 5], "duration_ms": [3.6e6, 7.2e6, 3.6e7],
                          "total_bytes": [1e8, 1e9, 5e9], "cluster": [0, 1, 2]})
    fitted = fit(engagement.engagement_scatter(users).to_dict())
    assert len(fitted.specs) == 3 and fitted.title == "Users by engagement cluster"
    assert [label for label, _ in fitted.legend] == [engagement.cluster_name(c, 3)
                                                     for c in range(3)]
    assert all(s["encoding"]["color"]["legend"] is None and s["width"] == "container"
               and "datasets" in s for s in fitted.specs)


def _axis_labels(spec: dict) -> list[str]:
    """The tick labels Vega draws for a fitted spec (rendered to SVG, no browser)."""
    import re

    import vl_convert

    svg = vl_convert.vegalite_to_svg({**spec, "width": 600}).split('role-title"')[0]
    axes = re.findall(r'class="mark-group role-axis".*?(?=class="mark-group role-axis"|$)', svg,
                      flags=re.DOTALL)
    return [label for axis in axes for label in re.findall(r"<text[^>]*>([^<]*)</text>", axis)]


def test_si_axes_read_zero_at_the_origin_and_bytes_axes_their_unit():
    from telco_analytics.dashboard.fit import fit
    from telco_analytics.report.figures import overview

    deciles = pd.DataFrame({"decile": range(1, 4), "users": [10, 10, 10],
                            "total_bytes": [2.2e13, 8e12, 4e12],
                            "total_bytes_share": [0.6, 0.25, 0.15]})
    labels = _axis_labels(fit(overview.decile_chart(deciles).to_dict()).specs[0])
    assert "0" in labels and "10 TB" in labels and "20 TB" in labels
    assert not any(label.endswith(("T", "G", "M", "k")) for label in labels)  # no bare '20T'
    top = pd.DataFrame({"handset": [f"h{i}" for i in range(3)], "sessions": [19_697, 9_300, 80],
                        "users": [1, 1, 1]})
    labels = _axis_labels(fit(overview.handsets_top10_chart(top).to_dict()).specs[0])
    assert "0" in labels and "10k" in labels and "0k" not in labels  # counts: no unit, no 0k


def test_hours_chart_over_a_narrow_range_has_distinct_ticks_and_a_whole_axis_title():
    from telco_analytics.dashboard import network_charts
    from telco_analytics.dashboard.fit import fit

    rtt = 32.5 + np.sin(np.arange(24)) * 0.9  # 31.6-33.4 ms: ticks every 0.5 once read 33, 33
    hours = pd.DataFrame({"hour": range(24), "sessions": 100, "rtt_sessions": 90, "rtt_ms": rtt,
                          "rtt_ms_low": rtt - 0.6, "rtt_ms_high": rtt + 0.6})
    (spec,) = fit(network_charts.hours_chart(hours, "rtt_ms").to_dict()).specs
    labels = _axis_labels(spec)
    y_ticks = labels[labels.index("Hour of the day (session start)") + 1:-1]
    assert len(y_ticks) >= 2 and len(set(y_ticks)) == len(y_ticks)
    assert labels[-1] == "Round-trip time (ms)"  # which way is better: in the subtitle
    assert "lower is better" in spec["title"]["subtitle"]


def test_bars_faceted_into_columns_become_grouped_bars():
    from telco_analytics.dashboard.fit import fit
    from telco_analytics.report.figures import satisfaction

    clusters = pd.DataFrame({"cluster": [0, 1], "users": [90, 10], "mean_satisfaction": [1, 4],
                             "mean_experience": [3, 3], "mean_engagement": [1, 5]})
    (spec,) = fit(satisfaction.clusters_chart(clusters).to_dict()).specs
    assert "column" not in spec["encoding"]
    assert spec["encoding"]["x"]["field"] == "group"
    assert spec["encoding"]["xOffset"]["field"] == "score"
    assert spec["width"] == "container"


# ---------------------------------------------------------------- warm-up at server start


def test_after_the_warm_up_every_page_is_computed_from_memory(small_run, monkeypatch):
    """The server's warm-up computes every page once: a page shown after it reads no table."""
    import pyarrow.dataset as pads

    from telco_analytics.dashboard import warm
    from telco_analytics.dashboard.views import PAGES, common

    run_dir = small_run.resolve()
    took = warm.warm_up(run_dir)
    assert not common.EVERY_SECTION.get()  # visitors after the warm-up see one section
    assert list(took) == list(PAGES) and None not in took.values()  # no page failed

    def refuse(*args, **kwargs):
        raise AssertionError("a table read from disk after the warm-up")

    for module, name in ((pq, "read_table"), (pq, "ParquetFile"), (pads, "dataset")):
        monkeypatch.setattr(module, name, refuse)
    every = common.EVERY_SECTION.set(True)  # every section, not only each page's first
    try:
        for _, page in PAGES.values():
            page(run_dir)
    finally:
        common.EVERY_SECTION.reset(every)
