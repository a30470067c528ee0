"""Text measured with a real font, so that what does not fit is rewritten or moved, never cut.

The deck asks for Arial. LibreOffice (the renderer the tests use, and what most servers have)
substitutes DejaVu Sans, which is wider than Arial: text measured with DejaVu Sans fits in
PowerPoint too. Widths come from Pillow's FreeType metrics; lines are wrapped greedily on spaces,
as PowerPoint and LibreOffice do.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_NAME = "Arial"
# the measuring font, regular and bold, first found wins
_FONT_FILES = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf"),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
}
_SCALE = 4  # measure at 4 px per point: sub-point precision from integer pixel metrics
# a font missing from the machine: Pillow's default font, whose widths are scaled up by this
# share so the estimate still errs on the side of fitting
_FALLBACK_MARGIN = 1.15
LINE_SPACING = 1.2  # LibreOffice draws DejaVu Sans lines ~1.17 em apart
INSET_X, INSET_Y = 7.2, 3.6  # python-pptx default text insets (0.1 in, 0.05 in)


def _matplotlib_font(name: str) -> Path | None:
    try:  # matplotlib ships DejaVu Sans; used only when the system has no copy
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        return path if path.is_file() else None
    except ImportError:
        return None


@lru_cache(maxsize=64)
def _font(size_pt: float, bold: bool) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, float]:
    """The measuring font at this size and the factor its widths are multiplied by."""
    system, bundled = _FONT_FILES[bold]
    for candidate in (Path(system), _matplotlib_font(bundled)):
        if candidate is not None and candidate.is_file():
            return ImageFont.truetype(str(candidate), round(size_pt * _SCALE)), 1.0
    return ImageFont.load_default(round(size_pt * _SCALE)), _FALLBACK_MARGIN


@lru_cache(maxsize=200_000)
def text_width(text: str, size_pt: float, bold: bool = False) -> float:
    """Width in points of a line of text at this size."""
    font, factor = _font(size_pt, bold)
    return font.getlength(text) / _SCALE * factor


@lru_cache(maxsize=50_000)
def _wrap(text: str, width_pt: float, size_pt: float, bold: bool) -> tuple[str, ...]:
    """The lines a paragraph takes in a box this wide (inside the insets); a single word wider
    than the box stays on its own line (`fits` reports it)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):  # on spaces only: a no-break space keeps "76.4 ms" whole
        if not word:
            continue
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, size_pt, bold) > width_pt:
            lines.append(current)
            current = word
        else:
            current = trial
    return tuple(lines + [current] if current else lines or [""])


def wrap(text: str, width_pt: float, size_pt: float, bold: bool = False) -> list[str]:
    """The lines a paragraph takes in a box this wide (inside the insets); a single word wider
    than the box stays on its own line (`fits` reports it)."""
    return list(_wrap(text, round(width_pt, 3), size_pt, bold))


def widest_word(text: str, size_pt: float, bold: bool = False) -> float:
    return max((text_width(w, size_pt, bold) for w in text.split(" ") if w), default=0.0)


def block_height(paragraphs: Sequence[str], width_pt: float, size_pt: float, *,
                 indent_pt: float = 0.0, space_after: float = 0.0, bold: bool = False) -> float:
    """Height in points of paragraphs in a text box of this outer width (insets included)."""
    inner = width_pt - 2 * INSET_X - indent_pt
    lines = sum(len(wrap(p, inner, size_pt, bold)) for p in paragraphs)
    return (lines * size_pt * LINE_SPACING + space_after * max(0, len(paragraphs) - 1)
            + 2 * INSET_Y)


def fits(paragraphs: Sequence[str], width_pt: float, height_pt: float, size_pt: float, *,
         indent_pt: float = 0.0, space_after: float = 0.0, bold: bool = False) -> bool:
    """Whether the paragraphs fit the box: no word wider than a line, lines within the height."""
    inner = width_pt - 2 * INSET_X - indent_pt
    if any(widest_word(p, size_pt, bold) > inner for p in paragraphs):
        return False
    return block_height(paragraphs, width_pt, size_pt, indent_pt=indent_pt,
                        space_after=space_after, bold=bold) <= height_pt
