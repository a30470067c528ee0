"""First view of each dashboard page, in headless Chromium, as a user opens it.

For each repeat: a fresh dashboard server (`telco dashboard`'s command) over the run, waited
for until it says every page is computed (dashboard.warm.READY: what a visitor finds once the
server has started); then each page opened by its URL in a fresh browser with nothing cached,
timed from navigation until the page's script has finished and every chart and table on it is
drawn (tests/e2e/browser.py: the same driver as the browser tests). That is the page's first
view on that server. Then the same page again in another fresh browser: the repeat view.

    python benchmarks/dashboard_speed.py                  # the built-in sample, made here
    python benchmarks/dashboard_speed.py --run DIR        # any run folder (e.g. 7M users)

Prints, per page, the median first view and repeat view (seconds) over --repeats servers and
the seconds the server spent computing the page at start (its warm-up, the same work a visitor
of a cold server would wait for); then the server's start (until it answers) and warm-up
(until every page is computed), and the floor: Streamlit's own page (no run) in a fresh
browser. Timings on this shared machine are noisy: quote medians, with the load printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser driver lives with the browser tests

from tests.e2e.browser import (
    TIMEOUT_MS,
    VIEWPORT,
    launch_chromium,
    open_page,
    served,
    subprocess_env,
)

TITLES = {"overview": "User overview", "engagement": "User engagement",
          "experience": "User experience", "network": "Network hotspots",
          "satisfaction": "User satisfaction", "model": "Satisfaction model",
          "lookup": "Customer lookup", "tables": "Tables"}


def sample_run(folder: Path) -> Path:
    """The built-in sample's run (`telco run --out DIR`, no report, tracking or figures)."""
    out = folder / "sample-run"
    subprocess.run([sys.executable, "-m", "telco_analytics.cli", "run", "--out", str(out),
                    "--no-report", "--no-tracking", "--no-figures", "--quiet"],
                   check=True, env=subprocess_env())
    return out


def view(browser, url: str, slug: str) -> float:
    """Seconds to open one page in a fresh browser context (nothing cached)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return open_page(context.new_page(), url, slug, TITLES[slug])
    finally:
        context.close()


def floor(browser, workdir: Path) -> float:
    """Seconds for Streamlit to show its simplest page of this app (no run folder)."""
    empty = workdir / "not-a-run"
    empty.mkdir(exist_ok=True)
    with served(empty, workdir) as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=TIMEOUT_MS)
        seconds = time.perf_counter() - started
        context.close()
    return seconds


def warm_up_seconds(workdir: Path) -> dict[str, float]:
    """Seconds per page of the newest server's warm-up, from its READY line."""
    from telco_analytics.dashboard.warm import READY

    log = max(workdir.glob("streamlit-*.log"), key=lambda p: p.stat().st_mtime)
    line = next(ln for ln in log.read_text().splitlines() if READY in ln)
    pages = dict(re.findall(r"(\w+) ([\d.]+) s", line.split(READY, 1)[1]))
    pages["(all)"] = re.search(r"in ([\d.]+) s$", line).group(1)
    return {slug: float(s) for slug, s in pages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="run folder (default: make the sample's)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh servers")
    parser.add_argument("--pages", default=",".join(TITLES), help="comma-separated page slugs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    first: dict[str, list[float]] = {}
    again: dict[str, list[float]] = {}
    warm: dict[str, list[float]] = {}
    ready: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dashboard-speed-") as tmp:
        workdir = Path(tmp)
        run_dir = args.run or sample_run(workdir)
        users = _users(run_dir)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            floors = [floor(browser, workdir) for _ in range(args.repeats)]
            for _ in range(args.repeats):
                started = time.perf_counter()
                with served(run_dir, workdir) as url:
                    ready.append(time.perf_counter() - started)
                    for slug, seconds in warm_up_seconds(workdir).items():
                        warm.setdefault(slug, []).append(seconds)
                    for slug in args.pages.split(","):
                        first.setdefault(slug, []).append(view(browser, url, slug))
                        again.setdefault(slug, []).append(view(browser, url, slug))
            browser.close()
    med = statistics.median
    print(f"run {run_dir} ({users:,} users); median of {args.repeats} fresh servers, "
          f"fresh browser each view, page width {VIEWPORT['width']} px; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)")
    print(f"{'page':<14}{'first view s':>13}{'repeat view s':>15}{'computed at start s':>21}")
    for slug, seconds in first.items():
        print(f"{slug:<14}{med(seconds):>13.2f}{med(again[slug]):>15.2f}"
              f"{med(warm.get(slug, [float('nan')])):>21.2f}")
    print(f"server start until every page is computed: {med(ready):.1f} s "
          f"(of which computing the pages {med(warm['(all)']):.1f} s)")
    print(f"floor: {med(floors):.2f} s, Streamlit's own page of this app (no run)")


def _users(run_dir: Path) -> int:
    from telco_analytics.run.catalog import RunCatalog

    return int(RunCatalog(run_dir).read_manifest().get("rows", {}).get("users", 0))


if __name__ == "__main__":
    main()
