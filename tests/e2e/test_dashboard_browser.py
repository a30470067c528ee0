"""The dashboard for real: a Streamlit subprocess over a small run, driven in headless Chromium.

Screenshots of every page are saved under the test's tmp_path (tall viewport) for a human look.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .conftest import serve_dashboard

pytestmark = pytest.mark.browser

TITLES = {"overview": "User overview", "engagement": "User engagement",
          "experience": "User experience", "satisfaction": "User satisfaction",
          "model": "Satisfaction model", "lookup": "Customer lookup", "tables": "Tables"}
MENU = {"overview": "Overview", "engagement": "Engagement", "experience": "Experience",
        "satisfaction": "Satisfaction", "model": "Model", "lookup": "Customer lookup",
        "tables": "Tables"}
# the charts each page draws, as (table the chart needs, number of charts from it)
CHARTS = {
    "overview": [("handsets_top10", 1), ("manufacturers_top3", 1),
                 ("handsets_top5_per_manufacturer", 1), ("app_totals", 1), ("decile_data_all", 1),
                 ("app_correlation", 1), ("pca", 2), ("user_overview", 2)],
    "engagement": [("engagement_users", 1), ("engagement_clusters", 1), ("engagement_elbow", 1),
                   ("app_totals", 1)],
    "experience": [("throughput_per_handset", 1), ("tcp_per_handset", 1),
                   ("experience_users", 1), ("experience_clusters", 1)],
    "satisfaction": [("satisfaction", 1), ("satisfaction_top10", 1),
                     ("satisfaction_clusters", 1)],
    "model": [("regression_predictions", 1), ("regression_metrics", 1), ("regression_loss", 1)],
}
CHART = '[data-testid="stVegaLiteChart"]'
TIMEOUT_MS = 60_000


def _table(run_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "tables" / f"{name}.parquet")


def expected_charts(run_dir: Path, slug: str) -> int:
    """Charts a page must show: one per chart whose table is present and not empty."""
    return sum(n for name, n in CHARTS.get(slug, [])
               if (run_dir / "tables" / f"{name}.parquet").is_file()
               and len(_table(run_dir, name)) > 0)


def open_page(page, url: str, slug: str) -> None:
    """Go to a page and wait until its script finished and nothing is loading."""
    page.goto(f"{url}/?page={slug}")
    page.wait_for_selector(f"h1:has-text('{TITLES[slug]}')", timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=TIMEOUT_MS)


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.locator('[data-testid="stSpinner"]').count() == 0


def assert_charts_drawn(page, expected: int) -> None:
    """`expected` Vega charts, each drawn (a canvas or svg of real size), none still loading."""
    page.wait_for_function(
        """([selector, n]) => {
            const charts = document.querySelectorAll(selector);
            return charts.length === n && [...charts].every(c => c.querySelector('canvas, svg'));
        }""",
        arg=[CHART, expected], timeout=TIMEOUT_MS,
    )
    for chart in page.locator(CHART).all():
        graphic = chart.locator("canvas, svg").first
        box = graphic.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, box


def pick_option(page, box, cluster: str, attempts: int = 3) -> None:
    """Type `cluster` into a multiselect and click the one option left, "<cluster>: ...".

    Pressing Enter straight after typing raced the filtering, and an open list closes when the
    page moves under it (the option is then detached), so the pick is tried again a few times.
    """
    option = page.get_by_role("option", name=re.compile(rf"^{cluster}: "))
    for attempt in range(attempts):
        try:
            box.click()
            box.fill(cluster)
            expect(page.get_by_role("option")).to_have_count(1, timeout=TIMEOUT_MS // attempts)
            option.click(timeout=TIMEOUT_MS // attempts)
            break
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    box.press("Escape")  # close the list (it would hide the table in the screenshot)


@pytest.mark.parametrize("slug", list(TITLES))
def test_page_renders_charts_without_errors(page, dashboard_url, small_run, tmp_path, slug):
    open_page(page, dashboard_url, slug)
    assert_charts_drawn(page, expected_charts(small_run, slug))
    assert_no_error(page)
    # the page menu shows every page, the current one selected
    menu = page.locator('[data-testid="stRadio"]').first
    # expect() retries until Streamlit's rerun has drawn the menu (count() alone raced it)
    expect(menu.get_by_role("radio")).to_have_count(len(TITLES), timeout=TIMEOUT_MS)
    expect(menu.get_by_role("radio", name=MENU[slug], exact=True)).to_be_checked()
    page.screenshot(path=str(tmp_path / f"{slug}.png"))


def test_customer_lookup_shows_the_customers_score(page, dashboard_url, small_run, tmp_path):
    sat = _table(small_run, "satisfaction")
    person = sat.sort_values("satisfaction_score").iloc[(2 * len(sat)) // 3]
    open_page(page, dashboard_url, "lookup")
    box = page.locator('input[aria-label="MSISDN"]')
    box.fill(str(person["msisdn"]))
    box.press("Enter")
    score = f"{person['satisfaction_score']:.4f}"
    page.wait_for_selector(f'[data-testid="stMetricValue"]:has-text("{score}")', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=TIMEOUT_MS)
    expect(page.locator(f"h3:has-text('MSISDN {person['msisdn']}')")).to_have_count(1)
    share = 100 * (sat["satisfaction_score"] <= person["satisfaction_score"]).mean()
    expect(page.get_by_text(f"percentile {share:.1f}:")).to_have_count(1)
    # usage and network experience, each with a percentile per metric
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2, timeout=TIMEOUT_MS)
    assert_no_error(page)
    page.screenshot(path=str(tmp_path / "lookup-found.png"))


def test_engagement_cluster_filter_pages_the_cluster(page, dashboard_url, small_run, tmp_path):
    users = _table(small_run, "engagement_users")
    open_page(page, dashboard_url, "engagement")
    # the charts draw after the script ends; their layout shifts close an open list
    assert_charts_drawn(page, expected_charts(small_run, "engagement"))
    pick_option(page, page.locator('[data-testid="stMultiSelect"] input').first, "2")
    want = f"of {(users['cluster'] == 2).sum():,} matching the filters"
    page.wait_for_selector(f"text={want}", timeout=TIMEOUT_MS)
    assert_no_error(page)
    page.screenshot(path=str(tmp_path / "engagement-cluster-2.png"))


def test_a_folder_that_is_not_a_run_shows_how_to_make_one(page, tmp_path):
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    for url in serve_dashboard(not_a_run, tmp_path):
        page.goto(url)
        page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=TIMEOUT_MS)
        text = page.locator('[data-testid="stAlertContentError"]').inner_text()
        assert "no manifest.json" in text and "telco run --out DIR" in text
        page.screenshot(path=str(tmp_path / "not-a-run.png"))
