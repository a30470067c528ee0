"""build_report on a real run folder (the pipeline on a small generated extract): both documents
written, tables untouched, HTML self-contained with every section, the deck fits its slides
and LibreOffice renders every page with visible content."""

from __future__ import annotations

import hashlib
import io
import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from PIL import Image
from pptx import Presentation

from telco_analytics.narrative import select
from telco_analytics.narrative.records import read_findings
from telco_analytics.narrative.topics import AUDIENCES, TOPICS, section_of
from telco_analytics.report.build import build_report
from telco_analytics.report.html import SECTIONS
from telco_analytics.report.slides import TOPIC_SLIDES, slide_keys, slide_titles
from tests.helpers import generated_run
from tests.unit.test_report_html import external_fetches
from tests.unit.test_slides import EXPECTED_KEYS, assert_deck_fits


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A pipeline run on 3,000 generated sessions (no report, no tracking), then build_report."""
    out = generated_run(tmp_path_factory.mktemp("report"), report=False, tracking=False)
    before = _hashes(out / "tables")
    written = build_report(out)
    return out, written, before


def test_both_documents_written_and_tables_unchanged(built):
    out, written, before = built
    assert written == {"html": out / "report.html", "slides": out / "slides.pptx"}
    assert _hashes(out / "tables") == before
    assert not list(out.glob(".*.tmp"))


def test_html_is_self_contained_with_every_section(built):
    out, _, _ = built
    text = (out / "report.html").read_text()
    assert len(text) < 8_000_000  # a few MB at most
    soup = BeautifulSoup(text, "html.parser")
    assert soup.find("nav", class_="toc") is not None
    for key, _title in SECTIONS:
        assert soup.find("section", id=key) is not None, key
    assert external_fetches(soup) == []
    # the Vega scripts are inlined once, not once per chart
    assert text.count("window.vegaEmbed=") == 1
    charts = soup.find_all("div", class_="chart")
    assert len(charts) > 20
    for div in charts:
        assert soup.find("script", id=div["data-spec"]) is not None
    # the database section shows the query run, behind the SQLite client's prompt, and the
    # database where it is after the run (never the staging folder the run was written in)
    database = soup.find("section", id="database")
    query = database.find("pre").get_text()
    assert query.startswith("sqlite> SELECT")
    text = database.get_text()
    assert str(out.resolve() / "telco.db") in text and ".partial-" not in text
    # the report leads with the summary and the key findings, the appendix comes last
    ids = [s["id"] for s in soup.find_all("section")]
    assert ids[:2] == ["summary", "findings"] and ids.index("dictionary") > ids.index("satisfaction")


def test_run_renders_the_slides_pngs_only_and_every_chart_is_valid(built):
    from telco_analytics.report.figures import SLIDE_FIGURES
    from telco_analytics.report.run_data import load_run

    out, _, _ = built
    charts = load_run(out).charts()
    pngs = {p.stem for p in (out / "figures").glob("*.png")}
    assert pngs == (set(SLIDE_FIGURES) & set(charts)) | {"db_select"}
    for stem, chart in charts.items():  # rendering skips validation: every spec checked here
        assert chart.to_dict(validate=True), stem


def test_html_tables_show_units(built):
    out, _, _ = built
    soup = BeautifulSoup((out / "report.html").read_text(), "html.parser")
    cells = [td.get_text() for td in soup.find("section", id="overview").find_all("td")]
    assert any(c.endswith((" MB", " GB", " TB")) for c in cells)
    assert any(c.endswith(" h") for c in cells)


def test_deck_titles_and_fit(built):
    out, _, _ = built
    deck = (out / "slides.pptx").read_bytes()
    keys = slide_keys(deck)
    assert keys[:len(EXPECTED_KEYS)] == EXPECTED_KEYS
    assert all(k.startswith(("parameters", "definitions")) for k in keys[len(EXPECTED_KEYS):])
    assert all(slide_titles(deck))
    assert_deck_fits(deck)


def test_findings_have_unique_topics_and_evidence_from_the_saved_tables(built):
    out, _, _ = built
    findings = read_findings(out / "tables" / "insights.json")
    topics = [f.topic for f in findings]
    assert all(topics) and len(set(topics)) == len(topics), topics
    for f in findings:
        assert f.topic in TOPICS and f.audience == TOPICS[f.topic], f.topic
        assert f.audience in AUDIENCES and f.section == section_of(f.topic)
        assert f.text and f.evidence, f.topic
        assert f.action is None or (f.action[0].isupper() and f.action.endswith(".")), f.topic
        for e in f.evidence:  # each named row holds the values the finding says it used
            table = pd.read_parquet(out / "tables" / f"{e.table}.parquet")
            rows = table[(table[list(e.key)] == pd.Series(e.key)).all(axis=1)] if e.key else table
            assert len(rows) >= 1, (f.topic, e)
            for column, value in e.values.items():
                if e.key and column in table:
                    assert _same(rows[column].iloc[0], value), (f.topic, e.table, column)
    # the deck shows each topic slide's findings, and only those
    deck = (out / "slides.pptx").read_bytes()
    for spec in TOPIC_SLIDES:
        present = select.for_topics(findings, spec.topics)
        assert (spec.key in _bulleted_keys(deck)) == bool(present), spec.key


def _same(saved: object, recorded: object) -> bool:
    """A saved cell equals the value a finding recorded (numbers to float precision)."""
    if isinstance(recorded, (int, float)) and not isinstance(recorded, bool):
        return math.isclose(float(saved), recorded, rel_tol=1e-12)
    return saved == recorded


def _bulleted_keys(pptx: bytes) -> set[str]:
    """Keys of the slides that carry bullets."""
    prs = Presentation(io.BytesIO(pptx))
    return {slide.name for slide in prs.slides if any(s.name == "Bullets" for s in slide.shapes)}


def _non_blank(png: Path) -> tuple[int, float]:
    """(distinct colours, share of non-white pixels) of a rendered page."""
    with Image.open(png) as img:
        rgb = img.convert("RGB")
        colours = len(rgb.getcolors(maxcolors=1 << 20) or [])
        grey = rgb.convert("L")
        hist = grey.histogram()
        non_white = sum(hist[:245]) / (rgb.width * rgb.height)
    return colours, non_white


@pytest.mark.slow
def test_libreoffice_renders_every_slide(built, tmp_path):
    out, _, _ = built
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    assert soffice and pdftoppm, "install libreoffice-impress and poppler-utils (scripts/system-deps.sh)"
    deck = out / "slides.pptx"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(deck)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "slides.pdf"
    assert pdf.is_file()
    subprocess.run([pdftoppm, "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(slide_titles(deck.read_bytes()))
    for page in pages:
        colours, non_white = _non_blank(page)
        # the title bar alone is ~14% of the page: content must add to it
        assert colours > 20, page.name
        assert non_white > 0.16, (page.name, non_white)


def test_blank_page_check_can_fail(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 225), "white").save(blank)
    colours, non_white = _non_blank(blank)
    assert colours == 1 and non_white == 0.0
