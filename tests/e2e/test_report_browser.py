"""The HTML report in Debian's Chromium, as a TellCo analyst reads and prints it: every chart
drawn and present in the printed PDF (non-blank pixels under each chart's title on the rendered
pages), nothing wider than the 1,100 px column, rank columns sorting as numbers, no internal
rule numbers in the text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import generated_run

from .browser import PAGE_WIDTH, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PDF_DPI = 60
DONE = "document.body.dataset.charts === 'done'"

# every element of <main> whose right edge passes the column's content edge
OVERFLOW_JS = """() => {
  const main = document.querySelector('main');
  const right = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
  const out = [];
  for (const el of main.querySelectorAll('*')) {
    const b = el.getBoundingClientRect();
    if (b.width > 0 && b.right > right + 1) {
      const t = el.closest('table'), f = el.closest('figure');
      const where = (t && t.caption && t.caption.textContent) || (f && f.querySelector('.chart, img')
                    && f.querySelector('.chart, img').id) || el.id || '';
      out.push(`${el.tagName} ${where}: ${Math.round(b.right - right)} px too wide`);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def report_run(tmp_path_factory) -> Path:
    """A real run with figures and report on a small generated extract (tracking off)."""
    out = generated_run(tmp_path_factory.mktemp("report-run"), tracking=False)
    assert (out / "report.html").is_file()
    return out


@pytest.fixture(scope="module")
def report_page(browser, report_run):
    context = browser.new_context(viewport={"width": PAGE_WIDTH, "height": 1000})
    tab = context.new_page()
    tab.goto((report_run / "report.html").as_uri())
    tab.wait_for_function(DONE, timeout=TIMEOUT_MS)
    yield tab
    context.close()


def chart_titles(html: str) -> dict[str, str]:
    """Figure id -> the title its spec draws (the text searched for in the PDF)."""
    titles = {}
    for stem, spec in re.findall(r'<script type="application/json" id="spec-([^"]+)">(.*?)'
                                 r"</script>", html, flags=re.DOTALL):
        title = json.loads(spec).get("title")
        text = title.get("text") if isinstance(title, dict) else title
        titles[stem] = " ".join(text) if isinstance(text, list) else str(text or "")
    return titles


def word_boxes(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, xMin, yMin, yMax, word) of every word of the PDF, in points."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    words, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                      r"(.*?)</word>", line)
        if m:
            words.append((page, float(m[1]), float(m[2]), float(m[3]), m[4]))
    return words


def find_title(words, title: str) -> tuple[int, float, float] | None:
    """Page, x and bottom y of the first place the title's first words appear in order."""
    wanted = title.split()[:4]
    texts = [w[4] for w in words]
    for i in range(len(words) - len(wanted) + 1):
        if texts[i:i + len(wanted)] == wanted and len({w[0] for w in words[i:i + len(wanted)]}) == 1:
            return words[i][0], words[i][1], words[i][3]
    return None


def ink(png: Path, box: tuple[int, int, int, int]) -> float:
    """Share of non-white pixels in a box of a rendered page."""
    with Image.open(png) as img:
        grey = img.convert("L").crop(box)
        hist = grey.histogram()
        return sum(hist[:235]) / max(1, grey.width * grey.height)


def test_every_chart_is_drawn_on_screen(report_page):
    missing = report_page.evaluate(
        "() => [...document.querySelectorAll('div.chart')].filter(c => !c.querySelector('svg'))"
        ".map(c => c.id)")
    assert missing == []
    assert report_page.evaluate("() => document.querySelectorAll('div.chart').length") > 20


def test_nothing_wider_than_its_column(report_page):
    assert report_page.evaluate(OVERFLOW_JS) == []
    assert report_page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_overflow_check_can_fail(report_page):
    report_page.evaluate("() => { const d = document.createElement('div'); d.id = 'wide';"
                         " d.style.width = '2000px'; d.style.height = '1px';"
                         " document.querySelector('main').appendChild(d); }")
    try:
        assert any("wide" in p for p in report_page.evaluate(OVERFLOW_JS))
    finally:
        report_page.evaluate("() => document.getElementById('wide').remove()")


def test_rank_columns_sort_as_numbers(report_page):
    tables = report_page.locator("table.sortable:has(th:text-is('Rank'))")
    assert tables.count() >= 2
    for i in range(tables.count()):
        table = tables.nth(i)
        col = [h.strip() for h in table.locator("th").all_inner_texts()].index("Rank")
        cells = table.locator(f"tbody tr td:nth-child({col + 1})")

        def ranks(cells=cells) -> list[int]:
            return [int(t) for t in cells.all_inner_texts()]

        shown = ranks()
        if len(set(shown)) == len(shown):  # one ranking (not one per manufacturer)
            assert shown == sorted(shown), shown  # as written: 1, 2, ..., 10
        if len(set(shown)) < 3:
            continue
        header = table.locator("th").nth(col)
        header.click()
        assert ranks() == sorted(shown)
        header.click()
        assert ranks() == sorted(shown, reverse=True)  # 10 before 9, never "9" before "10"


def test_no_internal_rule_numbers_in_the_text(report_page):
    text = report_page.evaluate("() => document.body.innerText")
    assert "SPEC rule" not in text and not re.search(r"\bSPEC\b", text)
    assert not re.search(r"\d\.\d+e[+-]\d\d", text)  # no '1.657e+06' for a person to decode
    assert "mysql>" not in text  # the run exported to SQLite: its client's prompt
    assert ".partial-" not in text  # the final database location, not the staging folder's


def test_printed_pdf_has_every_chart(report_page, report_run, tmp_path):
    if not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.fail("install poppler-utils (scripts/system-deps.sh)")
    html = (report_run / "report.html").read_text()
    titles = chart_titles(html)
    assert len(titles) > 20 and all(titles.values()), [k for k, v in titles.items() if not v]
    report_page.emulate_media(media="print")
    pdf = tmp_path / "report.pdf"
    report_page.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)
    report_page.emulate_media(media="screen")
    subprocess.run(["pdftoppm", "-png", "-r", str(PDF_DPI), str(pdf), str(tmp_path / "page")],
                   check=True, timeout=300)
    pages = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    words = word_boxes(pdf)
    scale = PDF_DPI / 72
    problems = []
    for stem, title in titles.items():
        found = find_title(words, title)
        if found is None:
            problems.append(f"{stem}: title {title!r} not in the PDF")
            continue
        page, x, bottom = found
        # the plot under the title: a box 150 pt wide and 80 pt high, a little below it
        box = (int(x * scale), int((bottom + 20) * scale), int((x + 150) * scale),
               int((bottom + 100) * scale))
        share = ink(pages[page - 1], box)
        if share < 0.01:
            problems.append(f"{stem}: blank under its title on page {page} ({share:.3f})")
    assert problems == []


def test_blank_box_check_can_fail(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    assert ink(blank, (0, 0, 200, 200)) == 0.0
