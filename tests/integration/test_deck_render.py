"""The deck as LibreOffice renders it: every word on every page lies inside the box of the text
shape (text box, title placeholder or table) that holds it - measured from the PDF's word
positions (pdftotext -bbox), not estimated from character counts - and every page is drawn
(pdftoppm). On a real run folder and on a tiny one with very long findings."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Pt

from telco_analytics.report.build import build_report, load_run
from telco_analytics.report.deck import slide_titles, slides_pptx
from tests.helpers import generated_run
from tests.unit.test_slides import tiny_run

pytestmark = pytest.mark.slow
TOLERANCE = 2.0  # points: anti-aliasing and glyph side bearings
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _tools() -> tuple[str, str, str]:
    tools = tuple(shutil.which(t) for t in ("soffice", "pdftotext", "pdftoppm"))
    assert all(tools), "install libreoffice-impress and poppler-utils (scripts/system-deps.sh)"
    return tools  # type: ignore[return-value]


def render(pptx: Path, out: Path) -> Path:
    soffice, _, _ = _tools()
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{out}/lo",
                    "--convert-to", "pdf", "--outdir", str(out), str(pptx)],
                   check=True, capture_output=True, timeout=240)
    pdf = out / (pptx.stem + ".pdf")
    assert pdf.is_file()
    return pdf


def words_per_page(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    _, pdftotext, _ = _tools()
    html = subprocess.run([pdftotext, "-bbox", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    pages = html.split("<page ")[1:]
    return [[(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in WORD.findall(p)]
            for p in pages]


def text_boxes(slide) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) in points of every shape that holds text."""
    boxes = []
    for s in slide.shapes:
        if s.has_table or (s.has_text_frame and s.text_frame.text.strip()):
            x, y = s.left / Pt(1), s.top / Pt(1)
            h = (sum(r.height for r in s.table.rows) if s.has_table else s.height) / Pt(1)
            boxes.append((x, y, x + s.width / Pt(1), y + h))
    return boxes


def overflowing_words(pptx: bytes, pdf: Path) -> list[tuple[int, str]]:
    """(slide number, word) of each rendered word outside every text shape of its slide."""
    prs = Presentation(io.BytesIO(pptx))
    pages = words_per_page(pdf)
    assert len(pages) == len(prs.slides)
    out = []
    for number, (slide, words) in enumerate(zip(prs.slides, pages, strict=True), start=1):
        boxes = text_boxes(slide)
        for x0, y0, x1, y1, word in words:
            inside = any(x0 >= bx0 - TOLERANCE and x1 <= bx1 + TOLERANCE
                         and y0 >= by0 - TOLERANCE and y1 <= by1 + TOLERANCE
                         for bx0, by0, bx1, by1 in boxes)
            if not inside:
                out.append((number, word))
    return out


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    out = generated_run(tmp_path_factory.mktemp("deck"), report=False, tracking=False)
    build_report(out, html=False)
    return out


def test_no_text_overflows_its_shape_in_libreoffice(real_run, tmp_path):
    deck = real_run / "slides.pptx"
    pdf = render(deck, tmp_path)
    assert overflowing_words(deck.read_bytes(), pdf) == []
    # every page drawn
    _, _, pdftoppm = _tools()
    subprocess.run([pdftoppm, "-png", "-r", "20", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=120)
    assert len(list(tmp_path.glob("page-*.png"))) == len(slide_titles(deck.read_bytes()))


def test_long_findings_are_reworded_or_moved_never_overflow(tmp_path):
    run = tiny_run(tmp_path, many_words=True)
    deck = run / "slides.pptx"
    deck.write_bytes(slides_pptx(load_run(run)))
    pdf = render(deck, tmp_path)
    words = [w for page in words_per_page(pdf) for *_, w in page]
    assert not any(w.endswith(("...", "…")) for w in words)
    assert overflowing_words(deck.read_bytes(), pdf) == []


def test_overflow_check_can_fail(tmp_path):
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "A title"
    box = slide.shapes.add_textbox(Pt(40), Pt(200), Pt(200), Pt(30))
    box.text_frame.word_wrap = True
    box.text_frame.text = "far too many words for this small box " * 6
    path = tmp_path / "bad.pptx"
    prs.save(path)
    pdf = render(path, tmp_path)
    assert overflowing_words(path.read_bytes(), pdf)
