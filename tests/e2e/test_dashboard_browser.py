"""The dashboard for real: a Streamlit subprocess over a small run, driven in headless Chromium
at the 1,100 px page width the issue was filed at.

Each page is opened, then driven through its filters; after the first view and after each
filter the page must show its charts with nothing a reader would see wrong (see
browser.layout_problems: no horizontal scroll, every chart at least 150 px high and within
the page, no clipped or overlapping text, no legend or title over a plot) and no exception.
The first view of each page is timed and listed at the end of the session (not asserted:
timings on this shared machine are noisy; `benchmarks/dashboard_speed.py` reports them).
Screenshots go to $TELCO_SCREENSHOTS when set (else each test's tmp_path).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from telco_analytics.report.figures.overview import variable_label

from .browser import CHART, TIMEOUT_MS, layout_problems, open_page, served, wait_drawn
from .contract_tables import write_hotspot_tables

pytestmark = pytest.mark.browser

TITLES = {"overview": "User overview", "engagement": "User engagement",
          "experience": "User experience", "network": "Network hotspots",
          "satisfaction": "User satisfaction", "model": "Satisfaction model",
          "lookup": "Customer lookup", "tables": "Tables"}
MENU = {"overview": "Overview", "engagement": "Engagement", "experience": "Experience",
        "network": "Network", "satisfaction": "Satisfaction", "model": "Model",
        "lookup": "Customer lookup", "tables": "Tables"}
# the charts each section of a page draws, as (table the chart needs, charts drawn from it); a
# row of panels (the scatter and profile rows) is one chart a panel. A page draws one section
# at a time ("Show"), the first on its first view.
CHARTS = {
    "overview": {
        "Handsets": [("handsets_top10", 1), ("manufacturers_top3", 1),
                     ("handsets_top5_per_manufacturer", 1)],
        "Traffic": [("app_totals", 1), ("decile_data_all", 1), ("app_correlation", 1),
                    ("pca", 2)],
        "Per-user distributions": [("user_overview", 2)],
        "Result tables": []},
    "engagement": {"Clusters": [("engagement_clusters", 3), ("engagement_elbow", 1)],
                   "Users by cluster": [("engagement_users", 3)],
                   "Top users": [("app_totals", 1)], "Every user": []},
    "experience": {"Per handset": [("throughput_per_handset", 1), ("tcp_per_handset", 1)],
                   "Clusters": [("experience_users", 1), ("experience_clusters", 3)],
                   "Top, bottom and most frequent values": [], "Every user": []},
    "network": {"Cells": [("experience_per_cell", 1)],
                "Hours of the day": [("experience_per_hour", 1)]},
    "satisfaction": {"Scores": [("satisfaction", 1), ("satisfaction_clusters", 1)],
                     "Top 10": [("satisfaction_top10", 1)], "Every user": []},
    "model": {"Quality": [("regression_predictions", 1), ("regression_metrics", 1)],
              "Training": [("regression_loss", 1)], "This run": []},
}
FIRST_VIEWS: dict[str, float] = {}  # page -> seconds, listed at the end of the session


def _table(run_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "tables" / f"{name}.parquet")


def expected_charts(run_dir: Path, slug: str, section: str | None = None) -> int:
    """Charts a page's section (its first: its first view) must show: those whose table is
    present and not empty."""
    sections = CHARTS.get(slug, {})
    section = section or next(iter(sections), None)
    return sum(n for name, n in sections.get(section, [])
               if (run_dir / "tables" / f"{name}.parquet").is_file()
               and len(_table(run_dir, name)) > 0)


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def assert_readable(page, charts: int | None = None) -> None:
    """No exception, `charts` charts drawn (when given), and nothing a reader would see wrong."""
    assert_no_error(page)
    if charts is not None:
        expect(page.locator(CHART)).to_have_count(charts, timeout=TIMEOUT_MS)
    assert layout_problems(page) == []


def rerun_done(page) -> None:
    """After a widget change: until Streamlit has rerun the page and drawn it."""
    try:  # the rerun may start (and even end) before this looks
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]',
                               timeout=2000)
    except PlaywrightTimeout:
        pass
    wait_drawn(page)


def widget(page, kind: str, label: str):
    """The selectbox or multiselect whose label is `label`."""
    return page.locator(f'[data-testid="{kind}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(
            rf"^{re.escape(label)}$")))


def choose(page, label: str, option: str, kind: str = "stSelectbox", attempts: int = 3) -> None:
    """Pick `option` in the selectbox (or multiselect) labelled `label`, then wait for the rerun.

    The option is typed (long lists are virtual: only what is near the top exists) and then
    clicked; an open list closes when the page moves under it, so the pick is tried again.
    """
    box = widget(page, kind, label).locator("input")
    name = re.compile(rf"^{re.escape(option)}$")
    for attempt in range(attempts):
        try:
            box.click()
            box.fill(option)
            page.get_by_role("option", name=name).first.click(timeout=TIMEOUT_MS // attempts)
            break
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    if kind == "stMultiSelect":
        box.press("Escape")  # close the list (it would hide the page in the screenshot)
    rerun_done(page)


def show(page, section: str) -> None:
    """Pick a section of the page in its "Show" row, then wait for the rerun."""
    widget(page, "stRadio", "Show").locator("label").filter(
        has_text=re.compile(rf"^{re.escape(section)}$")).click()
    rerun_done(page)


@pytest.mark.parametrize("slug", list(CHARTS))
def test_each_section_of_a_page(page, dashboard_url, small_run, shots, slug):
    """Every section a reader can pick: its charts drawn at a readable size, nothing wrong."""
    open_page(page, dashboard_url, slug, TITLES[slug])
    for section in list(CHARTS[slug])[1:]:
        show(page, section)
        assert_readable(page, expected_charts(small_run, slug, section))
        name = re.sub(r"\W+", "-", section.lower())
        page.screenshot(path=str(shots / f"{slug}-{name}.png"))


@pytest.mark.parametrize("slug", list(TITLES))
def test_first_view_of_each_page(page, dashboard_url, small_run, shots, slug):
    """The first time a page is opened on the server: drawn whole, nothing wrong, timed."""
    FIRST_VIEWS[slug] = open_page(page, dashboard_url, slug, TITLES[slug])
    assert_readable(page, expected_charts(small_run, slug))
    # the page menu shows every page, the current one selected
    menu = page.locator('[data-testid="stRadio"]').first
    expect(menu.get_by_role("radio")).to_have_count(len(TITLES), timeout=TIMEOUT_MS)
    expect(menu.get_by_role("radio", name=MENU[slug], exact=True)).to_be_checked()
    # an analyst's page: none of Streamlit's developer options (Deploy, rerun, clear cache)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    page.screenshot(path=str(shots / f"{slug}.png"))


def test_overview_filters(page, dashboard_url, small_run, shots):
    open_page(page, dashboard_url, "overview", TITLES["overview"])
    ranked = _table(small_run, "handsets_top10_per_manufacturer")
    top3 = _table(small_run, "manufacturers_top3")["manufacturer"].tolist()
    others = sorted(set(ranked["manufacturer"]) - set(top3))
    for maker in [*top3, others[0], "All"]:
        choose(page, "Manufacturer", maker)
        if maker != "All":
            own = ranked[ranked["manufacturer"] == maker]
            # the maker's own ranking: its top handset heads the chart, not the overall top 10
            expect(page.locator(CHART).first).to_contain_text(
                f"Top {len(own)} {maker} handsets by sessions", timeout=TIMEOUT_MS)
            expect(page.locator(CHART).first).to_contain_text(own["handset"].iloc[0])
        assert_readable(page)
        page.screenshot(path=str(shots / f"overview-maker-{maker}.png"))
    show(page, "Per-user distributions")
    drawn = expected_charts(small_run, "overview", "Per-user distributions")
    for variable in ("sessions", "duration_ms", "youtube_bytes"):
        choose(page, "Variable", variable_label(variable))  # named as on the chart's axis
        assert_readable(page, drawn)
    choose(page, "App", "Netflix")
    assert_readable(page, drawn)


def test_experience_filters(page, dashboard_url, small_run, shots):
    open_page(page, dashboard_url, "experience", TITLES["experience"])
    per_handset = _table(small_run, "throughput_per_handset")
    handsets = per_handset["handset"].tolist()
    # one, then two handsets: the charts once shrank to 56 px with their labels over each other
    for count, handset in enumerate(handsets[:2], start=1):
        choose(page, "Handset", handset, kind="stMultiSelect")
        assert_readable(page, expected_charts(small_run, "experience"))
        page.screenshot(path=str(shots / f"experience-{count}-handsets.png"))
    page.reload()
    wait_drawn(page)
    maker = _table(small_run, "manufacturers_top3")["manufacturer"].iloc[0]
    choose(page, "Manufacturer", maker)
    assert_readable(page)
    expect(page.locator(CHART).first).not_to_contain_text(
        next(h for h in handsets if not h.startswith(maker)))
    show(page, "Every user")  # the handset filters above the sections still apply
    choose(page, "Experience cluster", "0: worst experience", kind="stMultiSelect")
    assert_readable(page)
    show(page, "Top, bottom and most frequent values")
    for metric, kind in (("rtt_ms", "bottom"), ("throughput_kbps", "frequent")):
        choose(page, "Metric", metric)
        choose(page, "Which", kind)
        assert_readable(page)
    page.screenshot(path=str(shots / "experience-filtered.png"))


def test_engagement_filters(page, dashboard_url, small_run, shots):
    users = _table(small_run, "engagement_users")
    open_page(page, dashboard_url, "engagement", TITLES["engagement"])
    show(page, "Every user")
    choose(page, "Engagement cluster", "2: most engaged", kind="stMultiSelect")
    page.wait_for_selector(f"text=of {(users['cluster'] == 2).sum():,} matching the filters",
                           timeout=TIMEOUT_MS)
    assert_readable(page, 0)
    show(page, "Top users")
    choose(page, "Metric", "total_bytes")
    choose(page, "App", "YouTube")
    assert_readable(page, expected_charts(small_run, "engagement", "Top users"))
    page.screenshot(path=str(shots / "engagement-filtered.png"))


def test_satisfaction_and_tables_filters(page, dashboard_url, small_run, shots):
    open_page(page, dashboard_url, "satisfaction", TITLES["satisfaction"])
    show(page, "Every user")
    choose(page, "Satisfaction cluster", "1: more satisfied", kind="stMultiSelect")
    assert_readable(page, 0)
    open_page(page, dashboard_url, "tables", TITLES["tables"])
    for name in ("univariate", "cleaning_report", "engagement_clusters", "user_overview"):
        rows = len(_table(small_run, name))
        choose(page, "Table", f"{name} ({rows:,} rows)")
        assert_readable(page)
        page.screenshot(path=str(shots / f"tables-{name}.png"))


def test_network_page_over_hotspot_tables(page, small_run, tmp_path, shots):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    cells, _ = write_hotspot_tables(run, cells=300)
    with served(run, tmp_path) as url:
        open_page(page, url, "network", TITLES["network"])
        assert_readable(page, expected_charts(run, "network"))
        expect(page.locator(CHART).first).to_contain_text(str(cells["cell"].iloc[0]))
        page.screenshot(path=str(shots / "network.png"))
        page.get_by_text("Every cell, worst first", exact=True).click()  # drawn on demand
        rerun_done(page)
        expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(1, timeout=TIMEOUT_MS)
        assert_readable(page, expected_charts(run, "network"))
        for metric in ("TCP retransmission (bytes) (lower is better)",
                       "Throughput DL+UL (kbps) (higher is better)"):
            choose(page, "Metric", metric)
            assert_readable(page, expected_charts(run, "network"))
        show(page, "Hours of the day")  # keeps the metric picked above the sections
        assert_readable(page, expected_charts(run, "network", "Hours of the day"))
        expect(page.locator(CHART).first).to_contain_text("Throughput DL+UL (kbps) by hour")
        page.screenshot(path=str(shots / "network-throughput.png"))


def test_customer_lookup_takes_the_number_as_people_type_it(page, dashboard_url, small_run,
                                                             shots):
    sat = _table(small_run, "satisfaction")
    person = sat.sort_values("satisfaction_score").iloc[(2 * len(sat)) // 3]
    key = str(person["msisdn"])  # e.g. 33601001216: country code 33, national 06 01 00 12 16
    national = "0" + key[2:]
    spaced = " ".join(national[i:i + 2] for i in range(0, len(national), 2))
    open_page(page, dashboard_url, "lookup", TITLES["lookup"])
    box = page.locator('input[aria-label="MSISDN"]')
    score = f"{person['satisfaction_score']:.4f}"
    for typed in (f"+{key[:2]} {key[2]} {key[3:5]}-{key[5:7]}-{key[7:]}", spaced):
        box.fill(typed)
        box.press("Enter")
        page.wait_for_selector(f'[data-testid="stMetricValue"]:has-text("{score}")',
                               timeout=TIMEOUT_MS)
        rerun_done(page)
        expect(page.locator(f"h3:has-text('MSISDN {key}')")).to_have_count(1)
    share = 100 * (sat["satisfaction_score"] <= person["satisfaction_score"]).mean()
    expect(page.get_by_text(f"percentile {share:.1f}:")).to_have_count(1)
    # each score says what it measures and which way is better
    for sentence in ("Higher = more satisfied", "Higher = more engaged",
                     "Higher = further from the worst experience"):
        expect(page.get_by_text(sentence, exact=False)).to_have_count(1)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2, timeout=TIMEOUT_MS)
    assert_readable(page)
    page.screenshot(path=str(shots / "lookup-found.png"))


def test_a_folder_that_is_not_a_run_shows_how_to_make_one(page, tmp_path, shots):
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    with served(not_a_run, tmp_path) as url:
        page.goto(url)
        page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=TIMEOUT_MS)
        text = page.locator('[data-testid="stAlertContentError"]').inner_text()
        assert "no manifest.json" in text and "telco run --out DIR" in text
        page.screenshot(path=str(shots / "not-a-run.png"))
