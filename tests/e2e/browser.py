"""Driving the dashboard in headless Chromium: a served run, a page opened and timed until
everything on it is drawn, and what a reader would see wrong with its layout.

Shared by the browser tests and `benchmarks/dashboard_speed.py` (which times first views).
Debian's Chromium only (never a downloaded browser).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE_WIDTH = 1100  # the width the screenshots and geometry checks are taken at
# tall: Streamlit scrolls inside its own container, so full_page screenshots miss content
VIEWPORT = {"width": PAGE_WIDTH, "height": 3000}
STARTUP_SECONDS = 60
WARM_UP_SECONDS = 600  # every page computed once at 7M users on a busy machine
TIMEOUT_MS = 60_000
CHART = '[data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stDataFrame"]'
MIN_CHART_HEIGHT = 150


def subprocess_env() -> dict[str, str]:
    """This environment, with the tested package first on the path of child processes (the
    venv may hold another checkout's editable install) and no run folder preset."""
    import telco_analytics

    src = str(Path(telco_analytics.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "TELCO_RUN_DIR"}  # the argument must do
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers 'ok' (fail early if the server died)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"dashboard did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def wait_until_warmed(process: subprocess.Popen, log: Path) -> float:
    """Until the server says every page is computed (dashboard.warm.READY); the seconds waited."""
    from telco_analytics.dashboard.warm import READY

    started = time.monotonic()
    while time.monotonic() < started + WARM_UP_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"dashboard exited with {process.returncode}:\n{log.read_text()}")
        if READY in log.read_text():
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"dashboard not warmed within {WARM_UP_SECONDS} s:\n{log.read_text()}")


@contextmanager
def served(run_dir: Path, workdir: Path, warmed: bool = True) -> Iterator[str]:
    """The dashboard over `run_dir` served as `telco dashboard` serves it; its URL, once it
    answers and (`warmed`) has computed every page, as it has for its visitors after start."""
    from telco_analytics.dashboard.data import run_problem
    from telco_analytics.dashboard.launch import dashboard_command

    port = free_port()
    log = workdir / f"streamlit-{port}.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(dashboard_command(run_dir, port=port, headless=True),
                                   cwd=workdir, env=subprocess_env(), stdout=sink,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        if warmed and run_problem(run_dir) is None:
            wait_until_warmed(process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_drawn(page) -> None:
    """Until the script has finished and every chart and table on the page is drawn."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=TIMEOUT_MS)
    page.wait_for_function(
        """([chart, table]) => {
            const shown = s => [...document.querySelectorAll(s)].filter(e => e.checkVisibility());
            return shown(chart).every(c => c.querySelector('svg, canvas'))
                && shown(table).every(t => t.querySelector('canvas'))
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        arg=[CHART, TABLE], timeout=TIMEOUT_MS)


def open_page(page, url: str, slug: str, title: str) -> float:
    """Go to a page by its URL; the seconds until its title, charts and tables are drawn."""
    started = time.perf_counter()
    page.goto(f"{url}/?page={slug}")
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=TIMEOUT_MS)
    wait_drawn(page)
    return time.perf_counter() - started


# What a reader would see wrong, measured in the page. Charts are Vega SVGs: their boxes, the
# boxes of their texts (titles, labels, legends) and of their plot areas can be compared.
LAYOUT_JS = """
([chart, minHeight]) => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const scroller = document.querySelector('[data-testid="stAppScrollToBottomContainer"]')
                   || main;
  for (const el of [document.documentElement, main, scroller]) {
    if (el.scrollWidth > el.clientWidth + 1)
      problems.push(`horizontal scroll: ${el.tagName} ${el.scrollWidth} > ${el.clientWidth}`);
  }
  const inter = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
                          && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const name = c => (c.querySelector('.role-title text') || {}).textContent || 'untitled chart';
  // a text's box holds its font's whole line height: a few px past a glyph's own edge
  const slack = 4;
  document.querySelectorAll(chart).forEach((c, i) => {
    const drawn = c.querySelector('svg, canvas');  // Vega draws many points on a canvas
    if (!drawn) { problems.push(`chart ${i} not drawn`); return; }
    const box = drawn.getBoundingClientRect();
    const label = `chart ${i} (${name(c)})`;
    if (box.height < minHeight) problems.push(`${label}: ${box.height.toFixed(0)} px high`);
    if (box.left < -1 || box.right > width + 1)
      problems.push(`${label}: x ${box.left.toFixed(0)}..${box.right.toFixed(0)} off the page`);
    if (box.width > c.parentElement.getBoundingClientRect().width + 1)
      problems.push(`${label}: wider than its place`);
    const svg = c.querySelector('svg');
    if (!svg) return;  // a canvas' texts cannot be measured
    const shown = [...svg.querySelectorAll('text')].filter(
      t => t.textContent.trim() && getComputedStyle(t).opacity !== '0'
           && t.getAttribute('opacity') !== '0' && !t.closest('[opacity="0"]'));
    for (const t of shown) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - slack || r.right > box.right + slack || r.top < box.top - slack
          || r.bottom > box.bottom + slack)
        problems.push(`${label}: text "${t.textContent}" clipped by the chart's edge`);
    }
    // the plot areas: the root's and each panel's background
    const plots = [...svg.querySelectorAll('.role-frame > g > path.background')]
      .map(p => p.getBoundingClientRect()).filter(r => r.width > 20 && r.height > 20);
    for (const part of svg.querySelectorAll('.role-legend, .role-title')) {
      const r = part.getBoundingClientRect();
      if (r.width && plots.some(p => inter(p, r)))
        problems.push(`${label}: ${part.classList.contains('role-legend') ? 'legend' : 'title'}`
                      + ' drawn over the plot');
    }
    for (const axis of svg.querySelectorAll('.role-axis-label')) {
      // a label's box is its line box: its glyphs fill the middle ~60% of its height
      const glyphs = r => ({left: r.left, right: r.right, top: r.top + 0.2 * r.height,
                            bottom: r.bottom - 0.2 * r.height});
      const labels = [...axis.querySelectorAll('text')].filter(t => shown.includes(t))
        .map(t => [t.textContent, glyphs(t.getBoundingClientRect())]);
      for (let a = 0; a < labels.length; a++)
        for (let b = a + 1; b < labels.length; b++)
          if (inter(labels[a][1], labels[b][1]))
            problems.push(`${label}: axis labels "${labels[a][0]}" and "${labels[b][0]}" overlap`);
    }
  });
  // text cut by its own box (ellipsis, hidden overflow) or running off the page
  for (const el of main.querySelectorAll('*')) {
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || el.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    if (r.right > width + 1) problems.push(`text off the page: "${el.textContent.slice(0, 60)}"`);
    const style = getComputedStyle(el);
    const cut = style.textOverflow === 'ellipsis' || ['hidden', 'clip'].includes(style.overflowX);
    if (cut && el.scrollWidth > el.clientWidth + 1)
      problems.push(`text cut: "${el.textContent.slice(0, 60)}"`);
  }
  return problems;
}
"""


def layout_problems(page) -> list[str]:
    """What a reader would see wrong on the page as drawn (an empty list when nothing)."""
    return page.evaluate(LAYOUT_JS, [CHART, MIN_CHART_HEIGHT])
