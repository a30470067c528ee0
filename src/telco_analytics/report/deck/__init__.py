"""The slide deck for marketing and management (python-pptx, 16:9), from a finished run folder.

story.py holds the order and the slides' content, facts.py the numbers read from the tables,
wording.py the sentences (complete, shortened by rewording), measure.py the font measurements
and layout.py the drawing. Every title sits in the slide layout's title placeholder; every
slide is named by a stable key (slide_keys) because its title states the run's numbers.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
from pptx import Presentation

from ...narrative import select
from ..formatting import format_value
from . import facts, story
from .layout import (
    BOTTOM,
    CONTENT_W,
    GAP,
    MARGIN,
    PALE,
    PRIMARY_RGB,
    TOP,
    Box,
    Presentation16x9,
    add_bullets,
    add_image,
    add_table,
    add_text,
    image_aspect,
)
from .story import APPENDIX_SLIDES, FINDING_SLIDES, FindingSlide
from .wording import variants

if TYPE_CHECKING:
    from pptx.slide import Slide

    from ..run_data import RunData

log = logging.getLogger(__name__)

__all__ = ["APPENDIX_SLIDES", "FINDING_SLIDES", "slide_keys", "slide_titles", "slides_pptx"]


class Deck(Presentation16x9):
    """The presentation with the run's figures at hand."""

    def __init__(self, data: RunData) -> None:
        super().__init__()
        self.data = data

    def png(self, *stems: str) -> bytes | None:
        """The first of these figures the run rendered, else the first that can be rebuilt
        from the saved tables (a run made without figures), else None."""
        for stem in stems:
            path = self.data.figures.get(stem)
            if path is not None and path.is_file():
                return path.read_bytes()
        charts = self.data.charts()
        for stem in stems:
            if stem in charts:
                from ..render import chart_png

                try:
                    return chart_png(charts[stem])
                except Exception as exc:  # noqa: BLE001 - the slide says the chart is missing
                    log.warning("chart %s could not be rendered for the slides: %s", stem, exc)
        return None

    def bullets(self, slide: Slide, options: Sequence[Sequence[str]], box: Box,
                notes_if_left_out: Sequence[str] = ()) -> None:
        left_out = add_bullets(slide, options, box)
        if left_out:
            log.info("slide %s: %d bullet(s) moved to the notes", slide.name, len(left_out))
            self.add_notes(slide, ["Not shown on the slide for lack of room; see above."]
                           if notes_if_left_out else [])

    def content_slide(self, key: str, titles: Sequence[str], options: Sequence[Sequence[str]],
                      *, stems: Sequence[str] = (), table: pd.DataFrame | None = None,
                      notes: Sequence[str] = ()) -> Slide:
        """A chart (or, without one, a table) with bullets beside or below it."""
        slide = self.new(key, titles, notes)
        area = Box(MARGIN, TOP, CONTENT_W, BOTTOM - TOP)
        png = self.png(*stems) if stems else None
        if png is not None and image_aspect(png) >= 2.4:  # very wide chart: text below it
            placed = add_image(slide, png, Box(area.x, area.y, area.w, area.h * 0.62))
            below = Box(area.x, placed.bottom + GAP, area.w, area.bottom - placed.bottom - GAP)
            self.bullets(slide, options, below, notes)
            return slide
        left_w = area.w * 0.6
        side = Box(area.x + left_w + GAP, area.y, area.w - left_w - GAP, area.h)
        if png is not None:
            add_image(slide, png, Box(area.x, area.y, left_w, area.h))
            if table is not None and not table.empty:  # a small table above the bullets
                placed, _ = add_table(slide, table, Box(side.x, side.y, side.w, side.h * 0.45))
                if placed is not None:
                    side = Box(side.x, placed.bottom + GAP, side.w, area.bottom - placed.bottom - GAP)
        elif table is not None and not table.empty:
            # a table is the slide's evidence: it gets the width a chart would, and more
            left_w = area.w * 0.66
            side = Box(area.x + left_w + GAP, area.y, area.w - left_w - GAP, area.h)
            placed, _ = add_table(slide, table, Box(area.x, area.y, left_w, area.h),
                                  numeric=[i > 0 for i in range(len(table.columns))])
            if placed is None:
                log.warning("slide %s: its table does not fit the slide", key)
        else:
            missing = pd.DataFrame([(f"{stems[0] if stems else key}",
                                     "not in this run's figures or tables")],
                                   columns=["Chart", "Status"])
            add_table(slide, missing, Box(area.x, area.y, left_w, area.h))
        self.bullets(slide, options, side, notes)
        return slide

    def finding_slide(self, spec: FindingSlide) -> Slide:
        found = story.found_for(self.data, spec)
        findings = [found[t] for t in spec.topics if t in found]
        table = spec.table(self.data, found) if spec.table is not None else None
        return self.content_slide(spec.key, story.title_options(spec, self.data),
                                  story.bullet_options(findings, spec.actions),
                                  stems=spec.stems, table=table,
                                  notes=story.notes_of(findings))

    def paged_table(self, key: str, title: str, table: pd.DataFrame,
                    numeric: Sequence[bool] | None = None) -> None:
        """A table across as many slides as it needs, '(1/2)' in the titles when paged."""
        area = Box(MARGIN, TOP, CONTENT_W, BOTTOM - TOP)
        pages, start = [], 0
        probe = Presentation16x9()
        while start < len(table):
            scratch = probe.new("probe", ["probe"])
            _, shown = add_table(scratch, table.iloc[start:].reset_index(drop=True), area, numeric)
            if shown == 0:  # one row too tall for a slide: should not happen with these tables
                log.warning("%s: a row does not fit a slide and is left out", key)
                start += 1
                continue
            pages.append(table.iloc[start:start + shown].reset_index(drop=True))
            start += shown
        for i, page in enumerate(pages, start=1):
            suffix = f" ({i}/{len(pages)})" if len(pages) > 1 else ""
            slide = self.new(key if len(pages) == 1 else f"{key}_{i}", [f"{title}{suffix}"])
            add_table(slide, page, area, numeric)


def _title_slide(deck: Deck, data: RunData) -> None:
    m, rows = data.manifest, data.manifest.get("rows", {})
    slide = deck.new("title", ["TellCo user analytics"])
    users = format_value(rows.get("users"), "count")
    add_text(slide, [(f"Engagement, experience and satisfaction of {users} mobile users, and "
                     "what marketing and the network team should do next.")],
             Box(MARGIN, TOP + 6, CONTENT_W, 80), (24, 22, 20), name="Subtitle")
    numbers = facts.key_numbers(data)
    if numbers:
        tile_w = (CONTENT_W - GAP * (len(numbers) - 1)) / len(numbers)
        for i, (value, label) in enumerate(numbers):
            x = MARGIN + i * (tile_w + GAP)
            add_text(slide, [value], Box(x, TOP + 130, tile_w, 80), (40, 32, 28, 24),
                     colour=PRIMARY_RGB, bold=True, name="Key number", fill=PALE)
            add_text(slide, [label], Box(x, TOP + 210, tile_w, 80), (18, 16, 14),
                     name="Key number label", fill=PALE)
    source = str(m.get("input", {}).get("source", "")).rsplit("/", 1)[-1]
    run_line = (f"Run {str(m.get('run_id', ''))[:12]} of {str(m.get('started_at', ''))[:10]}"
                + (f", input {source}" if source else "") + ".")
    add_text(slide, [run_line, f"Run {str(m.get('run_id', ''))[:12]}."],
             Box(MARGIN, BOTTOM - 56, CONTENT_W, 56), (16, 14), name="Run")


def _summary_slide(deck: Deck, data: RunData) -> None:
    chosen = story.summary_findings(data)
    record = select.by_topic(data.insights, select.EXECUTIVE)
    notes = ([record.text] if record is not None else []) + story.notes_of(chosen)
    slide = deck.new("executive_summary", ["What matters most, and what to do first",
                                           "Executive summary"], notes)
    area = Box(MARGIN, TOP, CONTENT_W, BOTTOM - TOP)
    right_w = 300.0
    deck.bullets(slide, [o for o in (story.summary_options(f, data) for f in chosen) if o],
                 Box(area.x, area.y, area.w - right_w - GAP, area.h), notes)
    first = next((f for f in chosen if f.action), None) or next(
        iter(select.actions(data.insights, 1)), None)
    box = Box(area.x + area.w - right_w, area.y, right_w, area.h)
    add_text(slide, ["Do first"], Box(box.x, box.y, box.w, 40), (22,), colour=PRIMARY_RGB,
             bold=True, name="Do first heading", fill=PALE)
    if first is not None:
        add_text(slide, variants(first.action) or [first.action],
                 Box(box.x, box.y + 40, box.w, box.h - 40), (20, 18, 16, 14),
                 name="Do first", fill=PALE)


def _recommendations(deck: Deck, data: RunData) -> None:
    table = facts.recommendations_table(data)
    if table.empty:
        table = pd.DataFrame([("", "No finding of this run recommends an action.", "")],
                             columns=list(table.columns))
    deck.paged_table("recommendations", "Recommendations: who should do what", table,
                     numeric=[False, False, True])


def _appendix(deck: Deck, data: RunData) -> None:
    m = data.manifest
    contents = ["The data: variables and types", "Cleaning", *[s.fallback for s in APPENDIX_SLIDES],
                "Run parameters", "Definitions"]
    slide = deck.new("appendix", ["Appendix: technical detail"])
    add_bullets(slide, [[f"{c}."] for c in contents], Box(MARGIN, TOP, CONTENT_W * 0.55,
                                                          BOTTOM - TOP))
    code = m.get("code", {})
    add_text(slide, [(f"Run {str(m.get('run_id', ''))[:12]}, code {code.get('version', '')} at "
                     f"{str(code.get('commit', ''))[:10]}. Every definition is also in "
                     "report.html.")], Box(MARGIN + CONTENT_W * 0.6, TOP, CONTENT_W * 0.4, 160),
             (18, 16, 14), fill=PALE)

    summary = facts.variables_summary(data)
    deck.content_slide("data", ["The data: variables and types"],
                       [[b] for b in facts.data_bullets(data)],
                       table=summary if summary is not None else None)
    deck.content_slide("cleaning", ["Cleaning: values replaced per column", "Cleaning"],
                       [[b] for b in facts.cleaning_bullets(data)],
                       table=facts.cleaning_table(data))
    for spec in APPENDIX_SLIDES:
        deck.finding_slide(spec)
    deck.paged_table("parameters", "Run parameters", facts.parameters_table(data))
    deck.paged_table("definitions", "Definitions", facts.definitions_table(data))


def slides_pptx(data: RunData) -> bytes:
    """The whole deck as .pptx bytes."""
    deck = Deck(data)
    _title_slide(deck, data)
    _summary_slide(deck, data)
    for spec in FINDING_SLIDES:
        deck.finding_slide(spec)
    _recommendations(deck, data)
    _appendix(deck, data)
    return deck.to_bytes()


def slide_titles(pptx: bytes) -> list[str]:
    """Titles of a deck's slides, in order, read from the title placeholders."""
    prs = Presentation(io.BytesIO(pptx))
    return [slide.shapes.title.text_frame.text if slide.shapes.title is not None else ""
            for slide in prs.slides]


def slide_keys(pptx: bytes) -> list[str]:
    """Keys (names) of a deck's slides, in order."""
    prs = Presentation(io.BytesIO(pptx))
    return [slide.name for slide in prs.slides]
