"""The SELECT 'screenshot': the mysql client's text, and its picture (whole, readable)."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageFont

from telco_analytics.report.db_select import (
    BACKGROUND,
    MARGIN_PX,
    client_prompt,
    final_url,
    format_select,
    monospace_font,
    render_select_png,
    select_png,
    text_grid,
    with_prompt,
)

SQL = "SELECT * FROM satisfaction ORDER BY satisfaction_score DESC, msisdn ASC LIMIT 10;"


def _top(n: int) -> pd.DataFrame:
    """The top rows as select_top returns them (scores, cluster, run id and export time)."""
    rng = np.random.default_rng(n)
    eng, exp = rng.gamma(2.0, 1.0, n), rng.gamma(3.0, 1.0, n)
    return pd.DataFrame(
        {
            "msisdn": [f"3366{i:07d}" for i in range(n)],
            "engagement_score": eng,
            "experience_score": exp,
            "satisfaction_score": (eng + exp) / 2,
            "cluster": rng.integers(0, 2, n),
            "run_id": "run-20240506-070809-abcdef",
            "exported_at": datetime(2024, 5, 6, 7, 8, 9),
        }
    )


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) around every pixel clearly unlike the background: the text."""
    pixels = np.asarray(image).astype(int)
    background = np.array(Image.new("RGB", (1, 1), BACKGROUND).getpixel((0, 0)))
    rows, cols = np.nonzero(np.abs(pixels - background).sum(axis=2) > 60)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


# --------------------------------------------------------------------------- the text


def test_format_select_by_hand():
    df = pd.DataFrame({"msisdn": ["a", "bb"], "score": [1.5, None], "cluster": [1, 0]})
    text = format_select("SELECT 1;", df)
    assert text == (
        "mysql> SELECT 1;\n"
        "+--------+----------+---------+\n"
        "| msisdn | score    | cluster |\n"
        "+--------+----------+---------+\n"
        "| a      | 1.500000 |       1 |\n"
        "| bb     |     NULL |       0 |\n"
        "+--------+----------+---------+\n"
        "2 rows in set\n"
    )
    assert format_select("SELECT 1;", df.head(0)).endswith("Empty set\n")


def test_format_select_one_row_times_and_nan():
    df = pd.DataFrame({"at": [datetime(2024, 5, 6, 7, 8, 9, 123)], "x": [float("nan")]})
    lines = format_select(" SELECT 2; ", df).splitlines()
    assert lines[0] == "mysql> SELECT 2;"
    assert lines[4] == "| 2024-05-06 07:08:09 | NULL |"
    assert lines[-1] == "1 row in set"


# --------------------------------------------------------------------------- the picture


def test_picture_grows_with_the_rows():
    small, large = (_image(select_png(format_select(SQL, _top(n)))) for n in (3, 10))
    _, line_h = text_grid(format_select(SQL, _top(10)), monospace_font())
    assert large.height - small.height == 7 * line_h  # one text line a row, nothing else
    assert large.width == small.width  # same columns: same width


def test_picture_is_not_blank():
    image = _image(select_png(format_select(SQL, _top(10))))
    pixels = np.asarray(image).reshape(-1, 3)
    background = np.array(Image.new("RGB", (1, 1), BACKGROUND).getpixel((0, 0)))
    text_share = (np.abs(pixels - background).sum(axis=1) > 60).mean()
    assert 0.02 < text_share < 0.5  # light text on the dark terminal background
    assert len(np.unique(pixels, axis=0)) > 10  # anti-aliased glyphs, not a flat block


@pytest.mark.parametrize("which", ["monospace", "pillow-default"])
def test_whole_text_fits_inside_the_margins(which):
    # Pillow's own font is not monospace: the grid keeps the box straight and whole anyway
    font = monospace_font() if which == "monospace" else ImageFont.load_default(21)
    text = format_select(SQL, _top(10))
    image = _image(select_png(text, font))
    cell_w, line_h = text_grid(text, font)
    left, top, right, bottom = _ink_box(image)
    # nothing cut: ink stays off every edge, inside the margin band
    assert left >= MARGIN_PX - 2 and top >= MARGIN_PX - line_h // 2
    assert image.width - right >= MARGIN_PX - 2 and image.height - bottom >= MARGIN_PX - 2
    # the last character of the widest line (the box's right edge) is drawn
    longest = max(len(line) for line in text.splitlines())
    assert right >= MARGIN_PX + (longest - 1) * cell_w
    # the last line ("10 rows in set") is drawn below the box
    assert bottom >= MARGIN_PX + (len(text.splitlines()) - 1) * line_h


def test_box_columns_line_up():
    """A '+' of a rule stands exactly above the '|' of the row below it (monospace grid)."""
    text = format_select("SELECT 1;", pd.DataFrame({"a": ["x"], "bbbbbbbb": [1]}))
    image = _image(select_png(text))
    font = monospace_font()
    cell_w, line_h = text_grid(text, font)
    ink = np.abs(
        np.asarray(image).astype(int) - np.array(image.getpixel((0, 0)))
    ).sum(axis=2) > 60
    rule_row, header_row = 1, 2
    pipe_cols = [i for i, ch in enumerate(text.splitlines()[header_row]) if ch == "|"]
    for col in pipe_cols:
        x = int(MARGIN_PX + (col + 0.5) * cell_w)
        for row in (rule_row, header_row):
            band = ink[MARGIN_PX + row * line_h : MARGIN_PX + (row + 1) * line_h, x - 2 : x + 3]
            assert band.any(), f"no stroke at character column {col} of line {row}"


def test_render_writes_the_file_whole(tmp_path):
    path = render_select_png(format_select(SQL, _top(10)), tmp_path / "figures" / "db_select.png")
    assert path == tmp_path / "figures" / "db_select.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["db_select.png"]  # no temporary left


def test_empty_result_still_renders():
    image = _image(select_png(format_select("SELECT 1;", pd.DataFrame({"a": []}))))
    assert image.height > 2 * MARGIN_PX and image.width > 2 * MARGIN_PX


def test_no_matplotlib():
    """The picture needs Pillow only: matplotlib is no dependency of the product any more."""
    code = (
        "import sys; from telco_analytics.report.db_select import select_png, format_select;"
        " import pandas as pd; select_png(format_select('SELECT 1;', pd.DataFrame({'a': [1]})));"
        " print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_prompt_is_the_databases_client():
    assert client_prompt("sqlite:////runs/sample/telco.db") == "sqlite>"
    assert client_prompt("mysql+pymysql://u:***@127.0.0.1:3306/telco") == "mysql>"
    df = pd.DataFrame({"a": [1]})
    assert format_select("SELECT 1;", df, "sqlite>").startswith("sqlite> SELECT 1;")
    # older runs wrote mysql> for every database: the report corrects the prompt
    assert with_prompt("mysql> SELECT 1;\n+---+\n", "sqlite>") == "sqlite> SELECT 1;\n+---+\n"
    assert with_prompt("no prompt here", "sqlite>") == "no prompt here"


def test_final_url_names_the_run_folder_not_its_staging_folder():
    staged = "sqlite:////work/telco-runs/.sample.partial-89037910/telco.db"
    assert final_url(staged) == "sqlite:////work/telco-runs/sample/telco.db"
    assert final_url("sqlite:////work/telco-runs/sample/telco.db") == \
        "sqlite:////work/telco-runs/sample/telco.db"
    assert final_url("mysql+pymysql://u:***@db:3306/telco") == "mysql+pymysql://u:***@db:3306/telco"
