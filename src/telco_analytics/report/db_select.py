"""The report's proof that the export landed: the top rows as the database's client shows them.

`format_select` writes the statement and its result as the command-line client prints them (a
boxed table, numbers right-aligned, the row count) behind that client's prompt (`sqlite>` for
SQLite, `mysql>` for MySQL and MariaDB: `client_prompt`); `render_select_png` turns that text
into a terminal-like picture (light monospace text on a dark background) sized to the text, so
the whole table is visible whatever its width.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from ..run.catalog import write_atomic

FONT_PX = 21  # 10 pt at 150 dpi: readable when the report scales the picture to its column
LINE_SPACING = 1.25
MARGIN_PX = 30
BACKGROUND = "#1e1e1e"
FOREGROUND = "#d4d4d4"
# monospace fonts found on Debian/Ubuntu, Fedora, macOS and Windows (Pillow searches the
# system font folders for these names); none found: Pillow's own font, laid out on a grid
MONOSPACE_FONTS = (
    "DejaVuSansMono.ttf",
    "LiberationMono-Regular.ttf",
    "NotoSansMono-Regular.ttf",
    "Menlo.ttc",
    "consola.ttf",
    "cour.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


# --------------------------------------------------------------------------- the text

SQLITE_PROMPT, MYSQL_PROMPT = "sqlite>", "mysql>"
# a run is written into a hidden staging folder next to its final one, renamed at the end
# (run.catalog.staged_folder): ".NAME.partial-1a2b3c4d" becomes "NAME"
_STAGING = re.compile(r"/\.([^/]+)\.partial-[0-9a-f]{8}(?=/|$)")


def client_prompt(url: str) -> str:
    """The prompt of the command-line client of the database a URL names."""
    return SQLITE_PROMPT if str(url).lower().startswith("sqlite") else MYSQL_PROMPT


def final_url(url: str) -> str:
    """The URL with a run's staging folder replaced by the run folder it becomes (a SQLite file
    written during the run lives in the final folder afterwards, never in the staging one)."""
    return _STAGING.sub(lambda m: "/" + m.group(1), str(url))


def with_prompt(text: str, prompt: str) -> str:
    """Saved query output with its statement behind the given prompt (older runs wrote
    'mysql>' whatever the database)."""
    for known in (SQLITE_PROMPT, MYSQL_PROMPT):
        if text.startswith(known + " "):
            return prompt + text[len(known):]
    return text


def _cell(value: object) -> str:
    """A value as the mysql client prints it: NULL, floats with 6 decimals, seconds for times."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def format_select(sql: str, df: pd.DataFrame, prompt: str = MYSQL_PROMPT) -> str:
    """Query output as the client prints it: the statement behind `prompt`, a boxed table, the
    row count."""
    headers = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: list[str], align_numbers: bool) -> str:
        padded = [
            c.rjust(w) if (align_numbers and num) else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric)
        ]
        return "| " + " | ".join(padded) + " |"

    out = [f"{prompt} {sql.strip()}"]
    if rows:
        out += [rule, line(headers, False), rule, *(line(r, True) for r in rows), rule]
        out.append(f"{len(rows)} row{'s' if len(rows) != 1 else ''} in set")
    else:
        out.append("Empty set")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the picture


def monospace_font(size: int = FONT_PX) -> Font:
    """The first monospace font installed, else Pillow's built-in font (then laid on a grid)."""
    for name in MONOSPACE_FONTS:
        try:
            # basic layout: one glyph per call needs no shaping (and no libraqm)
            return ImageFont.truetype(name, size, layout_engine=ImageFont.Layout.BASIC)
        except OSError:
            continue
    return ImageFont.load_default(size)


def text_grid(text: str, font: Font) -> tuple[float, int]:
    """Width of a character cell and height of a line, in pixels, for `text` in `font`.

    The cell is as wide as the widest character of the text, so that columns line up (and no
    two characters overlap) even when the font at hand is not monospace.
    """
    width = max(font.getlength(ch) for ch in set(text) - set("\n") | {"M"})
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        height = ascent + descent
    else:  # the bitmap fallback has no metrics: its tallest box
        height = font.getbbox("|Mg_")[3]
    return width, math.ceil(height * LINE_SPACING)


def select_png(text: str, font: Font | None = None) -> bytes:
    """PNG bytes of query output: every character in its grid cell, margins all around."""
    font = font or monospace_font()
    lines = text.rstrip("\n").split("\n")
    cell_w, line_h = text_grid(text or " ", font)
    columns = max(len(line) for line in lines) or 1
    size = (math.ceil(columns * cell_w) + 2 * MARGIN_PX, len(lines) * line_h + 2 * MARGIN_PX)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        y = MARGIN_PX + row * line_h
        # one character at a time, centred in its cell: the columns of the box stay straight
        for col, ch in enumerate(line):
            if not ch.isspace():
                x = MARGIN_PX + col * cell_w + (cell_w - font.getlength(ch)) / 2
                draw.text((x, y), ch, font=font, fill=FOREGROUND)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_select_png(text: str, path: Path) -> Path:
    """A terminal-like picture of query output (light monospace text on a dark background)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, select_png(text))
