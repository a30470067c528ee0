"""Browser fixtures: a small real run, the dashboard served by a real Streamlit subprocess,
and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import generated_run

from .browser import VIEWPORT, launch_chromium, served

SCREENSHOTS_ENV = "TELCO_SCREENSHOTS"  # a folder to keep the screenshots in, for a human look


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    """The real pipeline on a small generated extract (no figures: the dashboard draws its own)."""
    return generated_run(tmp_path_factory.mktemp("browser-run"), report=False, figures=False,
                     tracking=False)


@pytest.fixture(scope="session")
def dashboard_url(small_run, tmp_path_factory) -> Iterator[str]:
    with served(small_run, tmp_path_factory.mktemp("dashboard-server")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where a test saves its screenshots: $TELCO_SCREENSHOTS if set, else its tmp_path."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_terminal_summary(terminalreporter) -> None:
    """The first view of each page, as the browser tests timed it (seconds)."""
    from .test_dashboard_browser import FIRST_VIEWS

    if FIRST_VIEWS:
        terminalreporter.section("dashboard first views (s, cold browser, this run's server)")
        for slug, seconds in FIRST_VIEWS.items():
            terminalreporter.write_line(f"{slug:<14}{seconds:6.2f}")
