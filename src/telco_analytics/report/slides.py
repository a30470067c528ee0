"""The slide deck for marketing and management (python-pptx, 16:9), from a finished run folder.

Every slide: a title bar, a chart (the run's PNGs) or a table, and a few short bullets taken
from the run's written findings, chosen by topic key (TOPIC_SLIDES), never by their wording. Nothing may overflow: text boxes are sized from a
conservative estimate of wrapped lines (characters per line from the font size and box width),
bullets are shortened at clause boundaries and dropped when they still do not fit, images are
scaled to their box keeping their aspect ratio, tables are paginated.
"""

from __future__ import annotations

import io
import logging
import re
import textwrap
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

from ..narrative import select
from ..narrative.records import Finding
from .figures.style import PALETTE, PRIMARY
from .formatting import format_table, format_value, human_label

if TYPE_CHECKING:
    from pptx.slide import Slide

    from .run_data import RunData

log = logging.getLogger(__name__)

# geometry in points (16:9 at 13.333 x 7.5 in)
SLIDE_W, SLIDE_H = 960.0, 540.0
MARGIN = 36.0
TITLE_BAR_H = 76.0
TOP = TITLE_BAR_H + 14.0
BOTTOM = SLIDE_H - 24.0
CONTENT_W = SLIDE_W - 2 * MARGIN
GAP = 18.0

TITLE_PT = 30
BODY_PT = (20, 18, 16, 14)  # tried largest first; 14 pt is the floor for legibility
TABLE_PT = (16, 14)
# average glyph width as a share of the font size: 0.6 em over-estimates Calibri (~0.5) and
# matches DejaVu Sans, LibreOffice's fallback, so the estimate errs on the side of fitting
CHAR_EM = 0.6
# a single word can be made of wide letters (m, w, capitals, bold headers): columns are sized
# so that their longest word fits at this wider average
WORD_EM = 0.75
LINE_SPACING = 1.2
PARA_SPACE = 6.0  # points after each bullet
INSET_X, INSET_Y = 7.2, 3.6  # python-pptx default text insets (0.1 in, 0.05 in)
BULLET_INDENT = 16.0

DARK = RGBColor(0x22, 0x22, 0x22)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
STRIPE = RGBColor(0xF1, 0xF4, 0xF9)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


PRIMARY_RGB = _rgb(PRIMARY)
ACCENT_RGB = _rgb(PALETTE[1])


# ---------------------------------------------------------------- text measurement


def chars_per_line(width_pt: float, size_pt: float) -> int:
    """How many characters fit on a line of a box (conservative)."""
    return max(1, int((width_pt - 2 * INSET_X) / (size_pt * CHAR_EM)))


def wrapped_lines(text: str, width_pt: float, size_pt: float) -> int:
    """Lines a paragraph takes once word-wrapped in a box of this width."""
    return max(1, len(textwrap.wrap(text, chars_per_line(width_pt, size_pt),
                                    break_long_words=True, break_on_hyphens=False)))


def text_height(paragraphs: Sequence[str], width_pt: float, size_pt: float,
                indent_pt: float = 0.0) -> float:
    """Height in points of paragraphs in a box (line spacing, paragraph spacing, insets)."""
    lines = sum(wrapped_lines(p, width_pt - indent_pt, size_pt) for p in paragraphs)
    return lines * size_pt * LINE_SPACING + PARA_SPACE * max(0, len(paragraphs) - 1) + 2 * INSET_Y


def headline(text: str) -> str:
    """The first sentence of a finding (up to a full stop followed by a space and a capital or
    digit): what a bullet shows of it. Display only; findings are chosen by topic."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip(), maxsplit=1)[0]
    return first.strip() or text


def _top_level(text: str) -> list[int]:
    """Depth of parentheses at each character (0 = outside any parenthesis)."""
    depth, out = 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        out.append(depth)
        if ch == ")":
            depth = max(0, depth - 1)
    return out


def _drop_long_parenthetical(text: str, min_len: int = 30) -> str | None:
    """The text without its longest top-level parenthetical (if longer than min_len)."""
    depth = _top_level(text)
    spans, start = [], None
    for i, ch in enumerate(text):
        if ch == "(" and depth[i] == 1 and start is None:  # an outermost opening
            start = i
        if ch == ")" and depth[i] == 1 and start is not None:
            spans.append((start, i + 1))
            start = None
    spans = [s for s in spans if s[1] - s[0] > min_len]
    if not spans:
        return None
    a, b = max(spans, key=lambda s: s[1] - s[0])
    return re.sub(r"\s+([,;:.])", r"\1", (text[:a].rstrip() + " " + text[b:].lstrip())).strip()


def shorten(text: str, max_chars: int) -> str:
    """Text cut to max_chars for a slide: long asides dropped, then cut at a clause boundary."""
    text = " ".join(text.split())
    while len(text) > max_chars:
        shorter = _drop_long_parenthetical(text)
        if shorter is None:
            break
        text = shorter
    if len(text) <= max_chars:
        return text
    depth = _top_level(text)
    limit = max_chars - 1
    cuts = [m.start() for m in re.finditer(r"[;:,] ", text)
            if m.start() < limit and depth[m.start()] == 0 and m.start() >= max_chars // 2]
    if cuts:
        return text[:cuts[-1]].rstrip() + "…"
    spaces = [i for i, ch in enumerate(text[:limit]) if ch == " " and depth[i] == 0]
    if spaces and spaces[-1] >= max_chars // 2:
        return text[:spaces[-1]].rstrip(",;:") + "…"
    return text[:limit].rstrip() + "…"


# ---------------------------------------------------------------- drawing


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in points."""

    x: float
    y: float
    w: float
    h: float


def _textbox(slide: Slide, box: Box):
    shape = slide.shapes.add_textbox(Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
    tf = shape.text_frame
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    return shape, tf


def _bulletize(paragraph: Any, indent_pt: float) -> None:
    """A real bullet with a hanging indent (wrapped lines align with the text)."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.set("marL", str(int(Pt(indent_pt))))
    ppr.set("indent", str(-int(Pt(indent_pt))))
    for tag in ("a:buNone", "a:buChar", "a:buAutoNum"):
        for old in ppr.findall(qn(tag)):
            ppr.remove(old)
    colour = ppr.makeelement(qn("a:buClr"), {})
    srgb = colour.makeelement(qn("a:srgbClr"), {"val": PALETTE[1].lstrip("#").upper()})
    colour.append(srgb)
    ppr.append(colour)
    ppr.append(ppr.makeelement(qn("a:buChar"), {"char": "•"}))


def fit_bullets(bullets: Sequence[str], box: Box) -> tuple[list[str], int]:
    """The bullets and the largest font size at which they fit the box (dropping the last
    bullets when even 14 pt is too large)."""
    items = list(bullets)
    while items:
        for size in BODY_PT:
            if text_height(items, box.w, size, BULLET_INDENT) <= box.h:
                return items, size
        log.debug("dropping a bullet that does not fit: %s", items[-1])
        items = items[:-1]
    return [], BODY_PT[-1]


def add_bullets(slide: Slide, bullets: Sequence[str], box: Box) -> None:
    """Bullets in a box, at the largest size that fits; the box keeps its height."""
    items, size = fit_bullets(bullets, box)
    if not items:
        return
    shape, tf = _textbox(slide, box)
    shape.name = "Bullets"
    tf.vertical_anchor = MSO_ANCHOR.TOP
    for i, text in enumerate(items):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        p.space_after = Pt(PARA_SPACE)
        p.font.size = Pt(size)
        p.font.color.rgb = DARK
        _bulletize(p, BULLET_INDENT)


def add_paragraph(slide: Slide, text: str, box: Box, size: int) -> None:
    """One plain paragraph (no bullet), shortened until it fits the box at this size."""
    while len(text) > 20 and text_height([text], box.w, size) > box.h:
        text = shorten(text, int(len(text) * 0.8))
    shape, tf = _textbox(slide, box)
    shape.name = "Text"
    p = tf.paragraphs[0]
    p.text = text
    p.font.size = Pt(size)
    p.font.color.rgb = DARK


def add_title(slide: Slide, title: str) -> None:
    """The title bar: a filled band with the title in white, one line."""
    bar = slide.shapes.add_shape(1, 0, 0, Pt(SLIDE_W), Pt(TITLE_BAR_H))  # 1 = rectangle
    bar.name = "Title bar"
    bar.fill.solid()
    bar.fill.fore_color.rgb = PRIMARY_RGB
    bar.line.fill.background()
    accent = slide.shapes.add_shape(1, 0, Pt(TITLE_BAR_H), Pt(SLIDE_W), Pt(4))
    accent.name = "Accent line"
    accent.fill.solid()
    accent.fill.fore_color.rgb = ACCENT_RGB
    accent.line.fill.background()
    box = Box(MARGIN, 8, CONTENT_W, TITLE_BAR_H - 16)
    if chars_per_line(box.w, TITLE_PT) < len(title):
        title = shorten(title, chars_per_line(box.w, TITLE_PT))
    shape, tf = _textbox(slide, box)
    shape.name = "Title"
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    p = tf.paragraphs[0]
    p.text = title
    p.font.size = Pt(TITLE_PT)
    p.font.bold = True
    p.font.color.rgb = WHITE


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


def _col_widths(text: pd.DataFrame, width: float, size: float) -> list[float]:
    """Column widths: each at least its longest word (no word is broken when it can be
    helped), the rest shared in proportion to the columns' longest cells."""
    cells = [[str(c)] + [str(v) for v in text[c]] for c in text.columns]
    pad = 2 * INSET_X + 2
    minimum = [max(len(w) for cell in col for w in (cell.split() or [""])) * size * WORD_EM + pad
               for col in cells]
    if sum(minimum) >= width:
        return [width * m / sum(minimum) for m in minimum]
    weights = [min(max(len(cell) for cell in col), 60) for col in cells]
    extra = width - sum(minimum)
    return [m + extra * w / sum(weights) for m, w in zip(minimum, weights, strict=True)]


def table_layout(text: pd.DataFrame, width: float, size: int) -> tuple[list[float], list[float]]:
    """Column widths and row heights (header first) of a table of strings at a font size."""
    widths = _col_widths(text, width, size)
    rows = [list(text.columns)] + [list(r) for r in text.itertuples(index=False)]
    heights = []
    for row in rows:
        lines = max(wrapped_lines(str(v), w, size) for v, w in zip(row, widths, strict=True))
        heights.append(lines * size * LINE_SPACING + 2 * INSET_Y + 2)
    return widths, heights


def _breaks_words(text: pd.DataFrame, width: float, size: float) -> bool:
    """Whether some word is wider than its column at this size (it would be split)."""
    longest = [max(len(w) for cell in [str(c), *map(str, text[c])] for w in (cell.split() or [""]))
               for c in text.columns]
    return sum(n * size * WORD_EM + 2 * INSET_X + 2 for n in longest) > width


def fit_table(text: pd.DataFrame, box: Box) -> tuple[pd.DataFrame, int, list[float], list[float]]:
    """The rows that fit the box and the font size (largest first, but a smaller size is
    preferred to one that splits words); rows are cut at the end."""
    rows = len(text)
    while rows > 0:
        part = text.head(rows)
        sizes = [z for z in TABLE_PT if not _breaks_words(part, box.w, z)] or [TABLE_PT[-1]]
        for size in sizes:
            widths, heights = table_layout(part, box.w, size)
            if sum(heights) <= box.h:
                return part, size, widths, heights
        rows -= 1
    return text.head(0), TABLE_PT[-1], [], []


def add_table(slide: Slide, text: pd.DataFrame, box: Box) -> Box | None:
    """A table of strings sized to its content (rows that do not fit are left out)."""
    part, size, widths, heights = fit_table(text, box)
    if part.empty:
        return None
    if len(part) < len(text):
        log.info("slide table cut to %d of %d rows", len(part), len(text))
    frame = slide.shapes.add_table(len(part) + 1, len(part.columns), Pt(box.x), Pt(box.y),
                                   Pt(box.w), Pt(sum(heights)))
    frame.name = "Table"
    table = frame.table
    for j, w in enumerate(widths):
        table.columns[j].width = Pt(w)
    for i, h in enumerate(heights):
        table.rows[i].height = Pt(h)
    numeric = [bool(re.fullmatch(r"[-+]?[\d,.]+\s*(%|[kMGTP]?B|h|min|s|ms|kbps)?", str(v)))
               for v in (part.iloc[0] if len(part) else [])]
    for i, row in enumerate([list(part.columns)] + [list(r) for r in part.itertuples(index=False)]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = str(value)
            p = cell.text_frame.paragraphs[0]
            p.font.size = Pt(size)
            cell.text_frame.word_wrap = True
            cell.fill.solid()
            if i == 0:
                cell.fill.fore_color.rgb = PRIMARY_RGB
                p.font.bold = True
                p.font.color.rgb = WHITE
            else:
                cell.fill.fore_color.rgb = STRIPE if i % 2 == 0 else WHITE
                p.font.color.rgb = DARK
                if numeric and numeric[j]:
                    p.alignment = PP_ALIGN.RIGHT
    return Box(box.x, box.y, box.w, sum(heights))


# ---------------------------------------------------------------- slide kinds


class Deck:
    """A 16:9 presentation that slides are added to, with the run's figures at hand."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Pt(SLIDE_W), Pt(SLIDE_H)
        self.blank = self.prs.slide_layouts[6]

    def new(self, title: str) -> Slide:
        slide = self.prs.slides.add_slide(self.blank)
        add_title(slide, title)
        return slide

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
                from .render import chart_png

                try:
                    return chart_png(charts[stem])
                except Exception as exc:  # noqa: BLE001 - the slide says the chart is missing
                    log.warning("could not render %s for the slides: %s", stem, exc)
        return None

    def chart_slide(self, title: str, stems: Sequence[str], bullets: Sequence[str],
                    table: pd.DataFrame | None = None) -> Slide:
        """Chart on the left, bullets (and an optional small table) on the right; wide charts
        go on top with the bullets below. Without a chart the table takes its place."""
        slide = self.new(title)
        png = self.png(*stems)
        area = Box(MARGIN, TOP, CONTENT_W, BOTTOM - TOP)
        if png is None:
            placed = None
            if table is not None and not table.empty:
                placed = add_table(slide, table, Box(area.x, area.y, area.w * 0.62, area.h))
            if placed is None:  # neither chart nor table: say so, in the chart's place
                missing = _kv([(f"{stems[0]}.png", ("not in this run's figures, and the "
                                "tables to draw it are missing"))], ("Chart", "Status"))
                add_table(slide, missing, Box(area.x, area.y, area.w * 0.62, area.h))
            side = Box(area.x + area.w * 0.62 + GAP, area.y, area.w * 0.38 - GAP, area.h)
            add_bullets(slide, bullets, side)
            return slide
        with Image.open(io.BytesIO(png)) as img:
            aspect = img.size[0] / img.size[1]
        if aspect >= 2.4:  # very wide chart: full width, text below
            placed = add_image(slide, png, Box(area.x, area.y, area.w, area.h * 0.66))
            below = Box(area.x, placed.y + placed.h + GAP, area.w,
                        area.y + area.h - placed.y - placed.h - GAP)
            add_bullets(slide, bullets, below)
            return slide
        chart_w = area.w * 0.64  # charts carry small print: they get most of the width
        add_image(slide, png, Box(area.x, area.y, chart_w, area.h))
        side = Box(area.x + chart_w + GAP, area.y, area.w - chart_w - GAP, area.h)
        if table is not None and not table.empty:
            placed = add_table(slide, table, Box(side.x, side.y, side.w, side.h * 0.5))
            if placed is not None:
                side = Box(side.x, placed.y + placed.h + GAP, side.w,
                           side.y + side.h - placed.y - placed.h - GAP)
        add_bullets(slide, bullets, side)
        return slide

    def table_slide(self, title: str, table: pd.DataFrame, bullets: Sequence[str] = (),
                    bullets_width: float = 0.0) -> Slide:
        """A table across the slide (bullets on its right when bullets_width > 0)."""
        slide = self.new(title)
        area = Box(MARGIN, TOP, CONTENT_W - (bullets_width + GAP if bullets_width else 0),
                   BOTTOM - TOP)
        add_table(slide, table, area)
        if bullets_width:
            add_bullets(slide, bullets, Box(area.x + area.w + GAP, TOP, bullets_width,
                                            BOTTOM - TOP))
        return slide

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.prs.save(buffer)
        return buffer.getvalue()


# ---------------------------------------------------------------- content


@dataclass(frozen=True)
class TopicSlide:
    """A chart slide whose bullets are the findings of these topics, each with its action."""

    title: str
    stems: tuple[str, ...]  # the figures, first available wins
    topics: tuple[str, ...]  # absent topics show nothing: no other finding takes their place
    max_chars: int = 150


# the slides between the data slide and the model slides, in deck order
TOPIC_SLIDES = (
    TopicSlide("Handsets and manufacturers", ("handsets_top10", "manufacturers_top3"),
               ("handsets.top_handset",), 140),
    TopicSlide("Best sellers of the top manufacturers",
               ("handsets_top5_per_manufacturer", "manufacturers_top3"),
               ("handsets.manufacturers",), 140),
    TopicSlide("App usage", ("app_totals", "engagement_top3_apps"),
               ("overview.app_traffic", "engagement.top_apps")),
    TopicSlide("Duration deciles", ("decile_data",),
               ("overview.typical_user", "overview.duration_deciles")),
    TopicSlide("App correlation", ("app_correlation",), ("overview.app_correlation",)),
    TopicSlide("Principal components", ("pca_scree", "pca_loadings"),
               ("overview.pca_components", "overview.pca_first_component"), 130),
    TopicSlide("Engagement clusters", ("engagement_cluster_profile", "engagement_scatter"),
               ("engagement.most_engaged_cluster", "engagement.least_engaged_cluster")),
    TopicSlide("Engagement: choosing k (elbow)", ("engagement_elbow",),
               ("engagement.heavy_users", "engagement.elbow")),
    TopicSlide("Experience by handset",
               ("experience_throughput_per_handset", "experience_tcp_per_handset"),
               ("experience.handset_throughput", "experience.worst_handset_tcp")),
    TopicSlide("Experience clusters", ("experience_cluster_profile", "experience_scatter"),
               ("experience.worst_cluster",), 170),
    TopicSlide("Satisfaction: top customers", ("satisfaction_top10",),
               ("satisfaction.top_users",)),
    TopicSlide("Satisfaction clusters", ("satisfaction_clusters", "satisfaction_scatter"),
               ("satisfaction.satisfied_group", "satisfaction.score_correlation")),
)
MODEL_QUALITY_TOPICS = ("satisfaction.model_quality",)
TRACKING_TOPICS = ("satisfaction.training_loss",)


def bullets_of(items: Sequence[Finding], max_chars: int = 140, actions: bool = True
               ) -> list[str]:
    """The headline of each finding, shortened, each followed by its action when asked."""
    out = []
    for item in items:
        out.append(shorten(headline(item.text), max_chars))
        if actions and item.action:
            out.append(shorten(item.action, max_chars))
    return out


def _kv(rows: Sequence[tuple[str, str]], headers: tuple[str, str] = ("", "")) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(headers))


def key_numbers(data: RunData) -> pd.DataFrame:
    """A small table of the headline numbers, read from the saved tables."""
    rows: list[tuple[str, str]] = []
    r = data.manifest.get("rows", {})
    if r.get("sessions") is not None:
        rows.append(("Sessions", format_value(r["sessions"], "count")))
    if r.get("users") is not None:
        rows.append(("Users", format_value(r["users"], "count")))
    apps = data.table("app_totals")
    if apps is not None and "bytes" in apps:
        rows.append(("Traffic (apps)", format_value(apps["bytes"].sum(), "bytes")))
    eng = data.table("engagement_clusters")
    if eng is not None and len(eng) and "users_share" in eng:
        top = eng.iloc[-1]
        rows.append(("Most engaged", f"{top['users_share'] * 100:.1f}% of users"))
    sat = data.table("satisfaction_clusters")
    if sat is not None and len(sat):
        top = sat.iloc[-1]
        rows.append(("Most satisfied", f"{top['users'] / sat['users'].sum() * 100:.1f}% of users"))
    metrics = data.table("regression_metrics")
    if metrics is not None:
        test = metrics[(metrics["split"] == "test") & (metrics["model"] != "baseline_mean")]
        if len(test):
            rows.append(("Model R² (test)", f"{test['r2'].iloc[0]:.3f}"))
    return _kv(rows, ("Key number", "Value"))


def variables_summary(data: RunData) -> pd.DataFrame | None:
    """Columns of the input by kind: how many, examples, type."""
    v = data.table("variables")
    if v is None or v.empty:
        return None
    rows = []
    for kind, group in v.groupby("kind", sort=False):
        names = group["name"].tolist() if "name" in group else group["column"].tolist()
        example = ", ".join(names[:2]) + (", …" if len(names) > 2 else "")
        dtypes = "/".join(dict.fromkeys(group["dtype"].astype(str))) if "dtype" in group else ""
        rows.append((str(kind), str(len(group)), dtypes, example))
    return pd.DataFrame(rows, columns=["Kind", "Columns", "Type", "Examples"])


def data_bullets(data: RunData) -> list[str]:
    r = data.manifest.get("rows", {})
    out = []
    if r:
        out.append(f"{format_value(r.get('read'), 'count')} rows read; "
                   f"{format_value(r.get('dropped_artifact'), 'count')} artifact row(s) dropped.")
        out.append(f"{format_value(r.get('sessions_without_msisdn'), 'count')} sessions without "
                   "MSISDN: kept for handset counts, left out of per-user tables.")
    cleaning = data.table("cleaning_report")
    if cleaning is not None and "replaced" in cleaning:
        touched = int((cleaning["replaced"] > 0).sum())
        out.append(f"{touched} of {len(cleaning)} measurement columns had missing or outlying "
                   "values replaced by the mean inside the IQR fences.")
    return out


def tracking_content(data: RunData) -> tuple[pd.DataFrame | None, list[str]]:
    """The recent tracked runs (table) and what to say about them."""
    runs = data.tracking_runs
    if runs is None or runs.empty:
        return None, ["This run was not tracked: no tracking/runs.csv in the run folder."]
    r2 = next((c for c in runs.columns if c.startswith("metrics.") and "r2" in c
               and "test" in c), None)
    rmse = next((c for c in runs.columns if c.startswith("metrics.") and "rmse" in c
                 and "test" in c), None)
    cols = [c for c in ("start", r2, rmse) if c]
    recent = runs[cols].tail(5).copy()
    if "start" in recent:
        recent["start"] = recent["start"].astype(str).str[:16].str.replace("T", " ")
    text = format_table(recent, units={c: "number" for c in (r2, rmse) if c})
    text.columns = [{"start": "Run start (UTC)", r2: "R² test", rmse: "RMSE test"}.get(c, c)
                    for c in recent.columns]
    bullets = [(f"{len(runs)} tracked run(s) in MLflow; every run logs code version, "
               "parameters, metrics, per-iteration loss and the model.")]
    return text, bullets


def recommendations_table(data: RunData, n: int = 6) -> pd.DataFrame:
    """One row per finding that recommends an action, most important first: the action, who
    it is for and the analysis it comes from."""
    rows = [(shorten(item.action or "", 170), human_label(item.audience or ""),
             human_label(item.section)) for item in select.actions(data.insights, n)]
    return pd.DataFrame(rows, columns=["Recommendation", "For", "From"])


def definitions_pages(data: RunData) -> list[pd.DataFrame]:
    """The manifest's definitions as tables that each fit one slide."""
    defs = data.manifest.get("definitions", {})
    table = pd.DataFrame([(human_label(k), str(v)) for k, v in defs.items()],
                         columns=["Term", "Definition"])
    pages, start = [], 0
    box = Box(MARGIN, TOP, CONTENT_W, BOTTOM - TOP)
    while start < len(table):
        part, _, _, _ = fit_table(table.iloc[start:].reset_index(drop=True), box)
        if part.empty:  # a single definition too long for a slide: shorten it
            row = table.iloc[start].copy()
            row["Definition"] = shorten(row["Definition"], 600)
            part = pd.DataFrame([row])
        pages.append(part)
        start += len(part)
    return pages


def parameters_table(data: RunData) -> pd.DataFrame:
    params = data.manifest.get("parameters", {})
    rows = [(k, str(v)) for k, v in params.items() if v not in ({}, [], None)]
    return pd.DataFrame(rows, columns=["Parameter", "Value"])


def slides_pptx(data: RunData) -> bytes:
    """The whole deck as .pptx bytes."""
    deck = Deck(data)
    m = data.manifest
    rows = m.get("rows", {})

    # title
    slide = deck.new("TellCo user analytics")
    users = format_value(rows.get("users"), "count")
    add_paragraph(slide, f"Engagement, experience and satisfaction of {users} mobile users, "
                  "with recommendations for marketing.", Box(MARGIN, TOP + 20, CONTENT_W, 90), 24)
    facts = [("Input", str(m.get("input", {}).get("source", "")).rsplit("/", 1)[-1]),
             ("Sessions", format_value(rows.get("sessions"), "count")), ("Users", users),
             ("Run", f"{str(m.get('run_id', ''))[:12]}, {str(m.get('started_at', ''))[:10]}")]
    add_table(slide, _kv(facts, ("This run", "")), Box(MARGIN, TOP + 130, CONTENT_W * 0.6, 240))

    # executive summary
    top = select.key_findings(data.insights, 5)  # repeated on their topic slides, as decks do
    slide = deck.new("Executive summary")
    table_w = 300.0
    add_bullets(slide, bullets_of(top, 150, actions=False),
                Box(MARGIN, TOP, CONTENT_W - table_w - GAP, BOTTOM - TOP))
    add_table(slide, key_numbers(data),
              Box(MARGIN + CONTENT_W - table_w, TOP, table_w, BOTTOM - TOP))

    summary = variables_summary(data)
    deck.table_slide("The data: variables and types",
                     summary if summary is not None else _kv([("no variables table", "")]),
                     data_bullets(data), bullets_width=300)

    for spec in TOPIC_SLIDES:
        deck.chart_slide(spec.title, spec.stems,
                         bullets_of(select.for_topics(data.insights, spec.topics), spec.max_chars))
    quality = data.table("regression_metrics")
    quality_text = None
    if quality is not None and not quality.empty and "split" in quality:
        test = quality[quality["split"] == "test"]
        keep = [c for c in ("model", "r2", "rmse") if c in test.columns]
        quality_text = format_table(test[keep])
        quality_text["model"] = quality_text["model"].str.replace("_", " ")
        quality_text.columns = [{"r2": "R² test", "rmse": "RMSE test"}.get(c, human_label(c))
                                for c in keep]
    deck.chart_slide("Satisfaction model quality", ["regression_metrics", "regression_predictions"],
                     bullets_of(select.for_topics(data.insights, MODEL_QUALITY_TOPICS), 150)
                     + [("Inputs are the six raw metrics, never the two scores (that would be "
                        "leakage: the target is their mean).")], table=quality_text)
    runs_text, tracking_bullets = tracking_content(data)
    deck.chart_slide("Model tracking", ["loss_curve", "regression_loss"],
                     tracking_bullets
                     + bullets_of(select.for_topics(data.insights, TRACKING_TOPICS), 130),
                     table=runs_text)
    deck.table_slide("Recommendations", recommendations_table(data))
    deck.table_slide("Appendix: run parameters", parameters_table(data),
                     [f"Run {str(m.get('run_id', ''))[:12]}", (f"Code {m.get('code', {}).get('version', '')}"
                      f" at {str(m.get('code', {}).get('commit', ''))[:10]}"),
                      "Every definition is in report.html (methodology appendix)."],
                     bullets_width=330)
    pages = definitions_pages(data)
    for i, page in enumerate(pages, start=1):
        suffix = f" ({i}/{len(pages)})" if len(pages) > 1 else ""
        deck.table_slide(f"Appendix: definitions{suffix}", page)
    return deck.to_bytes()


def slide_titles(pptx: bytes) -> list[str]:
    """Titles of a deck's slides, in order (for tests and logs)."""
    prs = Presentation(io.BytesIO(pptx))
    return [next((s.text_frame.text for s in slide.shapes if s.name == "Title"), "")
            for slide in prs.slides]

