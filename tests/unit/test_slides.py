"""The slide deck: titles in order, nothing past the slide edge, no text box over-full, legible
fonts, bullets shortened at clause boundaries; on a tiny run folder built in code."""

from __future__ import annotations

import io
import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu

from telco_analytics.narrative.records import finding
from telco_analytics.report.build import build_report, load_run
from telco_analytics.report.slides import shorten, slide_titles, slides_pptx

EXPECTED_TITLES = [
    "TellCo user analytics", "Executive summary", "The data: variables and types",
    "Handsets and manufacturers", "Best sellers of the top manufacturers", "App usage",
    "Duration deciles", "App correlation", "Principal components", "Engagement clusters",
    "Engagement: choosing k (elbow)", "Experience by handset", "Experience clusters",
    "Satisfaction: top customers", "Satisfaction clusters", "Satisfaction model quality",
    "Model tracking", "Recommendations", "Appendix: run parameters",
]
PT = 12700  # EMU per point
# independent of the module's own estimate: an average glyph of 0.55 em, 1.2 line spacing
TEST_EM, TEST_SPACING = 0.55, 1.2


# ---------------------------------------------------------------- a tiny run folder


def _png(path: Path, size: tuple[int, int]) -> None:
    Image.new("RGB", size, (40, 90, 160)).save(path)


LONG = ("The most used device is the Huawei B528S-23A (19,706 sessions, 14,027 users, 28% of the "
        "top-10 devices' sessions), 2.1x the runner-up. It is a home router, not a phone: "
        "fixed-wireless broadband is the largest segment, to be targeted with home-internet "
        "plans rather than handset offers.")

ACTION = ("Marketing should target fixed-wireless home broadband users, such as the owners of "
          "the Huawei B528S-23A, with home-internet plans rather than handset offers.")
# the findings of the tiny run: (topic, priority)
TOPICS = [("handsets.top_handset", 1), ("overview.app_traffic", 1),
          ("engagement.most_engaged_cluster", 1), ("engagement.least_engaged_cluster", 2),
          ("experience.worst_cluster", 2), ("satisfaction.satisfied_group", 1),
          ("satisfaction.training_loss", 2)]


def tiny_run(root: Path, *, many_words: bool = False) -> Path:
    """A run folder with the files build_report reads, small enough to check by eye."""
    run = root / "run"
    (run / "tables").mkdir(parents=True)
    (run / "figures").mkdir()
    manifest = {
        "run_id": "abc123", "started_at": "2026-01-01T10:00:00+00:00",
        "input": {"source": "/data/x.csv", "files": [{"path": "/data/x.csv", "bytes": 1000,
                                                       "sha256": "f" * 64}],
                  "duration_unit": "ms", "notes": [], "absent_columns": []},
        "rows": {"read": 11, "dropped_artifact": 1, "sessions": 10,
                 "sessions_without_msisdn": 2, "users": 4,
                 "why": {"dropped_artifact": "artifact row"}},
        "parameters": {"iqr_factor": 1.5, "k_engagement": 3, "extra": {}},
        "definitions": {f"term_{i}": "a definition " * (40 if many_words else 5)
                        for i in range(12)},
        "code": {"version": "0.1.0", "commit": "deadbeef" * 5},
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    text, action = LONG * (4 if many_words else 1), ACTION * (4 if many_words else 1)
    insights = [finding(topic, text, action=action, priority=p).as_dict() for topic, p in TOPICS]
    (run / "tables" / "insights.json").write_text(json.dumps(insights))
    tables = {
        "variables": pd.DataFrame({"column": ["MSISDN/Number", "Dur. (ms)"],
                                   "name": ["msisdn", "duration_ms"],
                                   "dtype": ["string", "float64"], "kind": ["id", "measurement"],
                                   "missing": [2, 0]}),
        "regression_metrics": pd.DataFrame({"model": ["m", "baseline_mean"],
                                            "split": ["test", "test"], "r2": [0.9, 0.0],
                                            "rmse": [0.1, 0.5], "mae": [0.1, 0.4], "n": [2, 2]}),
        "app_totals": pd.DataFrame({"app": ["gaming", "email"], "bytes": [3e9, 1e9],
                                    "users": [4, 4]}),
    }
    for name, df in tables.items():
        df.to_parquet(run / "tables" / f"{name}.parquet")
    _png(run / "figures" / "handsets_top10.png", (1300, 800))   # usual chart
    _png(run / "figures" / "app_totals.png", (2400, 500))      # very wide
    _png(run / "figures" / "app_correlation.png", (700, 1000))  # tall
    return run


# ---------------------------------------------------------------- deck checks (also used by
# the integration test on a real run)


def _font_sizes(shape) -> list[float]:
    sizes = []
    frames = [shape.text_frame] if shape.has_text_frame else []
    if shape.has_table:
        frames = [c.text_frame for row in shape.table.rows for c in row.cells]
    for tf in frames:
        for p in tf.paragraphs:
            for r in p.runs:
                if r.font.size is not None:
                    sizes.append(r.font.size.pt)
            if p.font.size is not None:
                sizes.append(p.font.size.pt)
    return sizes


def _lines(text: str, width_pt: float, size_pt: float) -> int:
    per_line = max(1, int(width_pt / (size_pt * TEST_EM)))
    return max(1, len(textwrap.wrap(text, per_line)))


def assert_deck_fits(pptx: bytes) -> None:
    """Every shape inside the slide, every text box holding no more lines than fit, fonts
    legible (titles >= 28 pt, everything else >= 14 pt), each slide a title and a chart or
    table."""
    prs = Presentation(io.BytesIO(pptx))
    width, height = prs.slide_width, prs.slide_height
    assert abs(width / height - 16 / 9) < 0.01
    for number, slide in enumerate(prs.slides, start=1):
        kinds = set()
        for shape in slide.shapes:
            where = f"slide {number}, shape {shape.name!r}"
            assert shape.left >= 0 and shape.top >= 0, where
            assert shape.left + shape.width <= width, where
            assert shape.top + shape.height <= height, where
            sizes = _font_sizes(shape)
            if shape.name == "Title":
                kinds.add("title")
                assert sizes and min(sizes) >= 28, where
                continue
            assert all(s >= 14 for s in sizes), (where, sizes)
            if shape.shape_type == 13:  # picture
                kinds.add("chart")
            if shape.has_table:
                kinds.add("table")
                rows_h = sum(Emu(r.height).pt for r in shape.table.rows)
                assert rows_h <= Emu(shape.height).pt + 1, where
                for r_i, row in enumerate(shape.table.rows):
                    for c_i, cell in enumerate(row.cells):
                        col_w = Emu(shape.table.columns[c_i].width).pt - 14.4
                        size = max(_font_sizes_of_frame(cell.text_frame) or [14])
                        need = _lines(cell.text_frame.text, col_w, size) * size * TEST_SPACING
                        assert need <= Emu(row.height).pt, (where, r_i, cell.text_frame.text)
            elif shape.has_text_frame and shape.text_frame.text.strip():
                tf = shape.text_frame
                box_w = Emu(shape.width).pt - 14.4
                box_h = Emu(shape.height).pt - 7.2
                need = 0.0
                for p in tf.paragraphs:
                    size = max(_font_sizes_of_paragraph(p) or [18])
                    indent = 16 if p._p.pPr is not None and p._p.pPr.get("marL") else 0
                    need += _lines(p.text, box_w - indent, size) * size * TEST_SPACING
                assert need <= box_h, (where, need, box_h, tf.text[:80])
        assert "title" in kinds, f"slide {number} has no title"
        assert kinds & {"chart", "table"}, f"slide {number} has neither chart nor table"


def _font_sizes_of_paragraph(p) -> list[float]:
    sizes = [r.font.size.pt for r in p.runs if r.font.size is not None]
    return sizes + ([p.font.size.pt] if p.font.size is not None else [])


def _font_sizes_of_frame(tf) -> list[float]:
    return [s for p in tf.paragraphs for s in _font_sizes_of_paragraph(p)]


# ---------------------------------------------------------------- tests


def test_titles_in_order_and_appendix_last(tmp_path):
    deck = slides_pptx(load_run(tiny_run(tmp_path)))
    titles = slide_titles(deck)
    assert titles[:len(EXPECTED_TITLES)] == EXPECTED_TITLES
    rest = titles[len(EXPECTED_TITLES):]
    assert rest and all(t.startswith("Appendix: definitions") for t in rest)


@pytest.mark.parametrize("many_words", [False, True])
def test_nothing_overflows_even_with_long_findings(tmp_path, many_words):
    deck = slides_pptx(load_run(tiny_run(tmp_path, many_words=many_words)))
    assert_deck_fits(deck)


def test_long_definitions_are_paginated(tmp_path):
    short = slide_titles(slides_pptx(load_run(tiny_run(tmp_path / "a"))))
    long = slide_titles(slides_pptx(load_run(tiny_run(tmp_path / "b", many_words=True))))
    count = sum(t.startswith("Appendix: definitions") for t in long)
    assert count > sum(t.startswith("Appendix: definitions") for t in short)
    assert f"Appendix: definitions (1/{count})" in long


def test_images_keep_their_aspect_ratio(tmp_path):
    run = tiny_run(tmp_path)
    prs = Presentation(io.BytesIO(slides_pptx(load_run(run))))
    pictures = [s for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
    # the three saved PNGs (odd shapes on purpose) are all used
    sizes = {p.image.size for p in pictures}
    assert {(1300, 800), (2400, 500), (700, 1000)} <= sizes
    for pic in pictures:
        w_px, h_px = pic.image.size
        assert math.isclose(pic.width / pic.height, w_px / h_px, rel_tol=0.005), pic.image.size


def test_build_report_writes_a_deck_atomically(tmp_path):
    run = tiny_run(tmp_path)
    out = build_report(run, html=False)
    assert out == {"slides": run / "slides.pptx"}
    assert slide_titles(out["slides"].read_bytes())[0] == "TellCo user analytics"
    assert not list(run.glob(".*tmp"))  # no temporary file left behind


def test_shorten_cuts_at_a_clause_outside_parentheses():
    text = "Cluster 2 holds 3% of users (3,540, mostly routers, heavy), and carries 13%, a lot"
    out = shorten(text, 60)
    assert len(out) <= 60
    assert out.endswith("…")
    assert out.count("(") == out.count(")")  # never cut inside an aside
    assert shorten("short enough", 60) == "short enough"


def test_shorten_drops_long_asides_first():
    text = "A is 5% of users (a long aside that explains many details at length): B is 7."
    out = shorten(text, 40)
    assert "aside" not in out and out.startswith("A is 5% of users")
    assert len(out) <= 40


def test_line_estimate_is_not_trivially_true():
    # the checker must be able to fail: a 1,000-character paragraph in a small box
    assert _lines("word " * 200, 200, 18) * 18 * TEST_SPACING > 200
    assert math.isclose(TEST_SPACING, 1.2)
