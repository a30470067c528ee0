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
from telco_analytics.report.deck import slide_keys, slide_titles, slides_pptx
from telco_analytics.report.deck.wording import check_text, starts_with_back_reference, variants

# the story's order: title, summary, key findings, recommendations, appendix
EXPECTED_KEYS = [
    "title", "executive_summary", "engagement_segments", "app_traffic", "duration_deciles",
    "top_handset", "manufacturers", "handset_throughput", "worst_cells", "satisfaction",
    "recommendations", "appendix", "data", "cleaning", "app_correlation", "pca", "elbow",
    "experience_clusters", "top_users", "model", "tracking",
]
# slides that carry text only (no chart or table) by design
TEXT_ONLY = {"title", "executive_summary", "appendix"}
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
    legible (titles >= 28 pt, everything else >= 14 pt), each slide titled in its title
    placeholder and a chart or table (text-only slides apart), no text cut with an ellipsis
    or opening with a word that points back."""
    prs = Presentation(io.BytesIO(pptx))
    width, height = prs.slide_width, prs.slide_height
    assert abs(width / height - 16 / 9) < 0.01
    for number, slide in enumerate(prs.slides, start=1):
        kinds = set()
        title = slide.shapes.title
        assert title is not None and title.is_placeholder and title.text_frame.text.strip(), number
        for text in slide_texts(slide):
            assert check_text(text) is None, (number, text, check_text(text))
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
        # whether text fits its box is measured on the rendering (test_deck_render.py), not
        # estimated from character counts here
        assert "title" in kinds, f"slide {number} has no title"
        if slide.name.split("_")[0] not in TEXT_ONLY and slide.name not in TEXT_ONLY:
            assert kinds & {"chart", "table"}, f"slide {number} has neither chart nor table"


def slide_texts(slide) -> list[str]:
    """Every paragraph and table cell of a slide."""
    out = []
    for shape in slide.shapes:
        if shape.has_table:
            out += [c.text_frame.text for row in shape.table.rows for c in row.cells]
        elif shape.has_text_frame:
            out += [p.text for p in shape.text_frame.paragraphs]
    return [t for t in out if t.strip()]


def _font_sizes_of_paragraph(p) -> list[float]:
    sizes = [r.font.size.pt for r in p.runs if r.font.size is not None]
    return sizes + ([p.font.size.pt] if p.font.size is not None else [])


def _font_sizes_of_frame(tf) -> list[float]:
    return [s for p in tf.paragraphs for s in _font_sizes_of_paragraph(p)]


# ---------------------------------------------------------------- tests


def test_story_order_and_titles_in_the_title_placeholder(tmp_path):
    deck = slides_pptx(load_run(tiny_run(tmp_path)))
    keys = slide_keys(deck)
    assert keys[:len(EXPECTED_KEYS)] == EXPECTED_KEYS
    rest = keys[len(EXPECTED_KEYS):]
    assert rest and all(k.startswith(("parameters", "definitions")) for k in rest)
    prs = Presentation(io.BytesIO(deck))
    for slide, title in zip(prs.slides, slide_titles(deck), strict=True):
        assert slide.shapes.title.placeholder_format.idx == 0
        assert slide.shapes.title.text_frame.text == title and title


@pytest.mark.parametrize("many_words", [False, True])
def test_nothing_overflows_even_with_long_findings(tmp_path, many_words):
    deck = slides_pptx(load_run(tiny_run(tmp_path, many_words=many_words)))
    assert_deck_fits(deck)


def test_long_definitions_are_paginated(tmp_path):
    short = slide_titles(slides_pptx(load_run(tiny_run(tmp_path / "a"))))
    long = slide_titles(slides_pptx(load_run(tiny_run(tmp_path / "b", many_words=True))))
    count = sum(t.startswith("Definitions") for t in long)
    assert count > sum(t.startswith("Definitions") for t in short)
    assert f"Definitions (1/{count})" in long


def test_images_keep_their_aspect_ratio(tmp_path):
    run = tiny_run(tmp_path)
    prs = Presentation(io.BytesIO(slides_pptx(load_run(run))))
    pictures = [s for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
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


def _table_of(pptx: bytes, key: str) -> list[list[str]]:
    prs = Presentation(io.BytesIO(pptx))
    slide = next(s for s in prs.slides if s.name == key)
    table = next(s for s in slide.shapes if s.has_table).table
    return [[c.text_frame.text for c in row.cells] for row in table.rows]


def test_model_and_tracking_slides_show_the_model_not_the_baseline(tmp_path):
    """The tracking slide once showed the baseline's R² and RMSE: both slides must show
    regression_metrics' model row (test split)."""
    run = tiny_run(tmp_path)
    (run / "tracking").mkdir()
    pd.DataFrame({"run_id": ["a"], "start": ["2026-01-01T10:00:00"],
                  "metrics.baseline_test_r2": [-0.000188], "metrics.baseline_test_rmse": [0.758],
                  "metrics.test_r2": [0.9], "metrics.test_rmse": [0.1]}
                 ).to_csv(run / "tracking" / "runs.csv", index=False)
    data = load_run(run)
    assert data.tracking_runs is not None
    deck = slides_pptx(data)
    metrics = pd.read_parquet(run / "tables" / "regression_metrics.parquet")
    model = metrics[(metrics["split"] == "test") & (metrics["model"] != "baseline_mean")].iloc[0]
    tracking = _table_of(deck, "tracking")
    assert tracking[0][1:] == ["R² test", "RMSE test"]
    assert [float(v) for v in tracking[-1][1:]] == [model["r2"], model["rmse"]]
    model_rows = {r[0]: r[1:] for r in _table_of(deck, "model")[1:]}
    assert [float(v) for v in model_rows["m"]] == [model["r2"], model["rmse"]]
    assert "R² = 0.9" in slide_titles(deck)[slide_keys(deck).index("model")]


def test_variants_are_complete_sentences_never_cut():
    text = ("The most engaged cluster (cluster 2) is 1.5% of users (1,550) but carries 11% of "
            "the traffic: 6.6 sessions and 5.38 GB per user. These users matter.")
    out = variants(text)
    assert out[0].startswith("The most engaged cluster") and "These users" not in out[0]
    # the shortest: the main clause before the colon (short asides such as numbers are kept)
    assert out[-1] == ("The most engaged cluster (cluster 2) is 1.5% of users (1,550) but "
                       "carries 11% of the traffic.")
    assert all(v.endswith(".") and check_text(v) is None for v in out)
    assert variants("They hold 5% of users.") == []  # a back-reference is never shown alone
    assert variants("Cells 9.16E+015 and T0 stand out. Next.") == ["Cells 9.16E+015 and T0 stand out."]


def test_text_checks_can_fail():
    assert check_text("Bundles should target them first...") == "ends in an ellipsis"
    assert check_text("This is cut…") is not None
    assert starts_with_back_reference("Their users leave.") and not starts_with_back_reference(
        "Theirs is a name.")
