"""One sizing rule for every chart: `height` is the plot area, never the whole chart.

Streamlit gives a spec without its own `autosize` the type "fit" (contains "padding") when
drawn with `width="stretch"`, so `height` is then the total height and every title line,
axis and legend row is taken from the plot. Every chart here sets `autosize` "fit-x"
(Streamlit keeps a spec's own autosize): the width fits the column, `height` is the data
rectangle, and titles, axes and legends are added around it.

- line/bar charts: a plot area of at least `PLOT_MIN` px;
- heatmaps: rows of at least `ROW_MIN` px (more where the labels need it);
- titles wrapped to lines of `TITLE_CHARS` (Streamlit cuts a title at the chart's width);
- legend labels wrapped to lines of `LEGEND_CHARS` (a legend starts at the plot's left
  edge, so that is what fits beside the y axis in the narrowest column), never truncated;
- a missing value is written `MISSING`.
"""
from __future__ import annotations

import math
import textwrap

import altair as alt
import numpy as np

PLOT_MIN = 150
ROW_MIN = 24
TITLE_CHARS = 24
LEGEND_CHARS = 28
TITLE_FONT = 16
MISSING = "—"
AUTOSIZE = {"type": "fit-x", "contains": "padding"}


def plot_height(height: float | None) -> int:
    """A line/bar chart's plot-area height: `height`, at least `PLOT_MIN`."""
    return max(PLOT_MIN, int(height or 0))


def heatmap_height(rows: int, row_px: float = ROW_MIN) -> int:
    """A heatmap's plot-area height for `rows` rows of `row_px` (at least `ROW_MIN`) each."""
    return max(int(rows), 1) * max(int(row_px), ROW_MIN)


def wrap(text: str, width: int) -> str | list[str]:
    """`text` as lines of at most `width` characters (a list when it needs more than one)."""
    lines = textwrap.wrap(str(text), width, break_long_words=True, break_on_hyphens=False)
    return lines[0] if len(lines) == 1 else (lines or "")


def title(text: str | None) -> alt.TitleParams | str:
    """A chart title wrapped to lines that fit the narrowest column."""
    if not text:
        return ""
    return alt.TitleParams(text=wrap(text, TITLE_CHARS), fontSize=TITLE_FONT, anchor="start")


def legend_lines(chars: int = LEGEND_CHARS) -> dict:
    """Legend properties wrapping each label at word breaks into lines of `chars` characters,
    never truncating it (the data keeps the full names, for tooltips)."""
    wrap_expr = (f"split(trim(replace(datum.label, regexp('(.{{1,{chars}}})(\\\\s+|$)', 'g'), "
                 f"'$1\\\\n')), '\\\\n')")
    return {"labelExpr": wrap_expr, "labelLimit": 0}


LEGEND_LINES = legend_lines()


def gradient_length(height: float) -> int:
    """A vertical colour bar no longer than the plot beside it (and never under 60 px)."""
    return int(min(max(height, 60), 200))


def sized(chart, height: float, title_text: str | None = None):
    """`chart` with its plot area `height` px tall and the "fit-x" autosize (and `title_text`)."""
    props = {"height": math.ceil(height), "autosize": alt.AutoSizeParams(**AUTOSIZE)}
    if title_text:
        props["title"] = title(title_text)
    return chart.properties(**props)


def text_or_missing(value, fmt: str = "{}") -> str:
    """`fmt` applied to `value`, or `MISSING` for None/NaN."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return MISSING
    return fmt.format(value)


__all__ = ["AUTOSIZE", "LEGEND_LINES", "MISSING", "PLOT_MIN", "ROW_MIN", "TITLE_CHARS",
           "gradient_length", "heatmap_height", "legend_lines", "plot_height", "sized",
           "text_or_missing", "title", "wrap"]
