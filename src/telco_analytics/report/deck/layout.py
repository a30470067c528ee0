"""Drawing on 16:9 slides (python-pptx): the title in the layout's title placeholder, bullets,
call-outs, pictures and tables, each sized by measuring its text (measure.py).

Geometry is in points (13.333 x 7.5 in = 960 x 540 pt). Text that does not fit at the smallest
legible size is shortened by choosing a shorter complete sentence (wording.variants) or moved to
the speaker notes; it is never cut.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Pt

from ..figures.style import PALETTE, PRIMARY
from . import measure
from .measure import FONT_NAME, INSET_X, INSET_Y, LINE_SPACING

if TYPE_CHECKING:
    from pptx.slide import Slide

log = logging.getLogger(__name__)

SLIDE_W, SLIDE_H = 960.0, 540.0
MARGIN = 36.0
TITLE_BAR_H = 84.0
TOP = TITLE_BAR_H + 16.0
BOTTOM = SLIDE_H - 24.0
CONTENT_W = SLIDE_W - 2 * MARGIN
GAP = 18.0

TITLE_PT = (30, 28)  # one line at 30 pt, else up to two lines at 28 pt
BODY_PT = (20, 18, 16, 14)  # tried largest first; 14 pt is the floor for legibility
TABLE_PT = (16, 14)
PARA_SPACE = 8.0
BULLET_INDENT = 18.0
TITLE_ONLY = 5  # the default template's "Title Only" layout

DARK = RGBColor(0x22, 0x22, 0x22)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
STRIPE = RGBColor(0xF1, 0xF4, 0xF9)
PALE = RGBColor(0xE8, 0xEF, 0xF8)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


PRIMARY_RGB = _rgb(PRIMARY)
ACCENT_RGB = _rgb(PALETTE[1])


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in points."""

    x: float
    y: float
    w: float
    h: float

    @property
    def bottom(self) -> float:
        return self.y + self.h


def _style_runs(paragraph: Any, size: float, colour: RGBColor, bold: bool = False) -> None:
    for target in (paragraph.font, *[r.font for r in paragraph.runs]):
        target.size = Pt(size)
        target.bold = bold
        target.name = FONT_NAME
        target.color.rgb = colour


def _frame(tf: Any, anchor: MSO_ANCHOR = MSO_ANCHOR.TOP) -> None:
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Pt(INSET_X)
    tf.margin_top = tf.margin_bottom = Pt(INSET_Y)


def _rectangle(slide: Slide, box: Box, colour: RGBColor, name: str) -> Any:
    shape = slide.shapes.add_shape(1, Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))  # rectangle
    shape.name = name
    shape.fill.solid()
    shape.fill.fore_color.rgb = colour
    shape.line.fill.background()
    shape.shadow.inherit = False
    return shape


def _to_back(slide: Slide, shape: Any) -> None:
    """Move a shape behind the others (the title bar must not hide the title placeholder)."""
    tree = slide.shapes._spTree
    tree.remove(shape._element)
    tree.insert(2, shape._element)  # after nvGrpSpPr and grpSpPr


def fit_title(options: Sequence[str], box: Box) -> tuple[str, int]:
    """The first title option that fits the title box (one line at 30 pt, else two at 28 pt);
    the last option at 28 pt when none does (titles are written to be short)."""
    for text in options:  # the fullest statement of the point first, on two lines if need be
        for size in TITLE_PT:
            lines = len(measure.wrap(text, box.w - 2 * INSET_X, size, bold=True))
            if lines <= (1 if size == TITLE_PT[0] else 2) and measure.fits(
                    [text], box.w, box.h, size, bold=True):
                return text, size
    return options[-1], TITLE_PT[-1]


def set_title(slide: Slide, options: Sequence[str]) -> str:
    """The title in the slide's title placeholder (PowerPoint's outline and accessibility
    checker read it), on a filled band."""
    bar = _rectangle(slide, Box(0, 0, SLIDE_W, TITLE_BAR_H), PRIMARY_RGB, "Title bar")
    accent = _rectangle(slide, Box(0, TITLE_BAR_H, SLIDE_W, 4), ACCENT_RGB, "Accent line")
    _to_back(slide, accent)
    _to_back(slide, bar)
    box = Box(MARGIN, 4, CONTENT_W, TITLE_BAR_H - 8)
    text, size = fit_title(options, box)
    title = slide.shapes.title
    title.name = "Title"
    title.left, title.top, title.width, title.height = Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h)
    tf = title.text_frame
    _frame(tf, MSO_ANCHOR.MIDDLE)
    tf.text = text
    p = tf.paragraphs[0]
    p.alignment = PP_ALIGN.LEFT
    _style_runs(p, size, WHITE, bold=True)
    return text


def _bulletize(paragraph: Any, indent_pt: float) -> None:
    """A real bullet with a hanging indent (wrapped lines align with the text)."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.set("marL", str(int(Pt(indent_pt))))
    ppr.set("indent", str(-int(Pt(indent_pt))))
    for tag in ("a:buNone", "a:buChar", "a:buAutoNum", "a:buClr"):
        for old in ppr.findall(qn(tag)):
            ppr.remove(old)
    colour = ppr.makeelement(qn("a:buClr"), {})
    colour.append(colour.makeelement(qn("a:srgbClr"), {"val": PALETTE[1].lstrip("#").upper()}))
    ppr.append(colour)
    ppr.append(ppr.makeelement(qn("a:buChar"), {"char": "•"}))


def _height(items: Sequence[str], box: Box, size: int, indent: float) -> float:
    return measure.block_height(items, box.w, size, indent_pt=indent, space_after=PARA_SPACE)


def fit_paragraphs(options: Sequence[Sequence[str]], box: Box, sizes: Sequence[int] = BODY_PT,
                   indent: float = BULLET_INDENT) -> tuple[list[str], int, list[int]]:
    """Choose one wording per paragraph (each option list longest first) and a font size so
    that everything fits the box, measured. At each size, the paragraph taking most lines
    switches to its next shorter wording until all fit; only when the shortest wordings do not
    fit at 14 pt are the last paragraphs left out (their indices are returned: the caller
    moves them to the speaker notes)."""
    options = [list(o) for o in options if o]
    keep = len(options)
    while keep > 0:
        for size in sizes:
            choice = [0] * keep
            while True:
                items = [options[i][choice[i]] for i in range(keep)]
                if (_height(items, box, size, indent) <= box.h
                        and all(measure.widest_word(t, size) <= box.w - 2 * INSET_X - indent
                                for t in items)):
                    return items, size, list(range(keep, len(options)))
                shorter = [i for i in range(keep) if choice[i] + 1 < len(options[i])]
                if not shorter:
                    break
                widest = max(shorter, key=lambda i: (len(measure.wrap(
                    items[i], box.w - 2 * INSET_X - indent, size)), len(items[i])))
                choice[widest] += 1
        keep -= 1
    return [], sizes[-1], list(range(len(options)))


def add_bullets(slide: Slide, options: Sequence[Sequence[str]], box: Box,
                bullets: bool = True) -> list[int]:
    """Bullets in a box at the largest size that fits; returns the indices left out."""
    indent = BULLET_INDENT if bullets else 0.0
    items, size, left_out = fit_paragraphs(options, box, indent=indent)
    if not items:
        return left_out
    shape = slide.shapes.add_textbox(Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
    shape.name = "Bullets" if bullets else "Text"
    tf = shape.text_frame
    _frame(tf)
    for i, text in enumerate(items):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        p.space_after = Pt(PARA_SPACE)
        p.line_spacing = 1.0
        _style_runs(p, size, DARK)
        if bullets:
            _bulletize(p, indent)
    return left_out


def add_text(slide: Slide, text_options: Sequence[str], box: Box, sizes: Sequence[int],
             *, colour: RGBColor = DARK, bold: bool = False, name: str = "Text",
             fill: RGBColor | None = None, align: Any = PP_ALIGN.LEFT,
             anchor: MSO_ANCHOR = MSO_ANCHOR.TOP) -> bool:
    """One paragraph: the longest wording that fits at the largest size; False when none."""
    for size in sizes:
        for text in text_options:
            if measure.fits([text], box.w, box.h, size, bold=bold):
                shape = slide.shapes.add_textbox(Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
                shape.name = name
                if fill is not None:
                    shape.fill.solid()
                    shape.fill.fore_color.rgb = fill
                tf = shape.text_frame
                _frame(tf, anchor)
                tf.text = text
                tf.paragraphs[0].alignment = align
                tf.paragraphs[0].line_spacing = 1.0
                _style_runs(tf.paragraphs[0], size, colour, bold)
                return True
    return False


def add_image(slide: Slide, png: bytes, box: Box) -> Box:
    """A PNG scaled to fit the box, aspect ratio kept, centred; returns the box it took."""
    with Image.open(io.BytesIO(png)) as img:
        w_px, h_px = img.size
    scale = min(box.w / w_px, box.h / h_px)
    w, h = w_px * scale, h_px * scale
    x, y = box.x + (box.w - w) / 2, box.y + (box.h - h) / 2
    pic = slide.shapes.add_picture(io.BytesIO(png), Pt(x), Pt(y), Pt(w), Pt(h))
    pic.name = "Chart"
    return Box(x, y, w, h)


def image_aspect(png: bytes) -> float:
    with Image.open(io.BytesIO(png)) as img:
        return img.size[0] / img.size[1]


# ---------------------------------------------------------------- tables

CELL_PAD = 2 * INSET_X + 2


def _col_widths(text: pd.DataFrame, width: float, size: float) -> list[float] | None:
    """Column widths: each at least its widest word (bold header words included), the rest
    shared in proportion to each column's widest cell; None when the words alone are too wide."""
    minimum, natural = [], []
    for c in text.columns:
        cells = [str(v) for v in text[c]]
        minimum.append(max([measure.widest_word(str(c), size, bold=True)]
                           + [measure.widest_word(v, size) for v in cells]) + CELL_PAD)
        natural.append(max([measure.text_width(str(c), size, bold=True)]
                           + [measure.text_width(v, size) for v in cells]) + CELL_PAD)
    if sum(minimum) > width:
        return None
    if sum(natural) <= width:  # everything on one line: spare width to the widest columns
        extra = width - sum(natural)
        return [n + extra * n / sum(natural) for n in natural]
    extra = width - sum(minimum)
    want = [max(0.0, n - m) for n, m in zip(natural, minimum, strict=True)]
    return [m + extra * w / sum(want) for m, w in zip(minimum, want, strict=True)]


def table_layout(text: pd.DataFrame, width: float, size: int
                 ) -> tuple[list[float], list[float]] | None:
    """Column widths and row heights (header first) of a table of strings at a font size."""
    widths = _col_widths(text, width, size)
    if widths is None:
        return None
    rows = [list(text.columns)] + [list(r) for r in text.itertuples(index=False)]
    heights = []
    for i, row in enumerate(rows):
        lines = max(len(measure.wrap(str(v), w - CELL_PAD, size, bold=i == 0))
                    for v, w in zip(row, widths, strict=True))
        heights.append(lines * size * LINE_SPACING + 2 * INSET_Y + 4)
    return widths, heights


def fit_table(text: pd.DataFrame, box: Box
              ) -> tuple[pd.DataFrame, int, list[float], list[float]]:
    """The rows that fit the box and the largest font size they fit at; rows are cut at the
    end (the caller puts them on a next slide)."""
    rows = len(text)
    while rows > 0:
        part = text.head(rows)
        for size in TABLE_PT:
            layout = table_layout(part, box.w, size)
            if layout is not None and sum(layout[1]) <= box.h:
                return part, size, *layout
        rows -= 1
    return text.head(0), TABLE_PT[-1], [], []


def add_table(slide: Slide, text: pd.DataFrame, box: Box, numeric: Sequence[bool] | None = None
              ) -> tuple[Box | None, int]:
    """A table of strings sized to its content; returns the box it took and the rows shown."""
    part, size, widths, heights = fit_table(text, box)
    if part.empty:
        return None, 0
    frame = slide.shapes.add_table(len(part) + 1, len(part.columns), Pt(box.x), Pt(box.y),
                                   Pt(sum(widths)), Pt(sum(heights)))
    frame.name = "Table"
    table = frame.table
    for j, w in enumerate(widths):
        table.columns[j].width = Pt(w)
    for i, h in enumerate(heights):
        table.rows[i].height = Pt(h)
    numeric = list(numeric) if numeric is not None else [False] * len(part.columns)
    for i, row in enumerate([list(part.columns)] + [list(r) for r in part.itertuples(index=False)]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = str(value)
            cell.margin_left = cell.margin_right = Pt(INSET_X)
            cell.margin_top = cell.margin_bottom = Pt(INSET_Y)
            cell.text_frame.word_wrap = True
            p = cell.text_frame.paragraphs[0]
            p.line_spacing = 1.0
            cell.fill.solid()
            if i == 0:
                cell.fill.fore_color.rgb = PRIMARY_RGB
                _style_runs(p, size, WHITE, bold=True)
            else:
                cell.fill.fore_color.rgb = STRIPE if i % 2 == 0 else WHITE
                _style_runs(p, size, DARK)
            if numeric[j]:
                p.alignment = PP_ALIGN.RIGHT
    return Box(box.x, box.y, sum(widths), sum(heights)), len(part)


# ---------------------------------------------------------------- the presentation


class Presentation16x9:
    """A 16:9 presentation: slides with a title placeholder, a stable key and speaker notes."""

    def __init__(self) -> None:
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Pt(SLIDE_W), Pt(SLIDE_H)

    def new(self, key: str, title_options: Sequence[str], notes: Sequence[str] = ()) -> Slide:
        """A slide titled by the first option that fits; its key names it (tests and tools find
        slides by key: titles state a run's numbers and change from run to run)."""
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[TITLE_ONLY])
        slide._element.cSld.set("name", key)
        set_title(slide, title_options)
        if notes:
            self.add_notes(slide, notes)
        return slide

    @staticmethod
    def add_notes(slide: Slide, notes: Sequence[str]) -> None:
        """Speaker notes: the full text of what the slide shows in short (and what did not fit)."""
        tf = slide.notes_slide.notes_text_frame
        existing = tf.text
        tf.text = "\n\n".join([t for t in [existing, *notes] if t])

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.prs.save(buffer)
        return buffer.getvalue()
