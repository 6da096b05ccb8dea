"""The "why attention" study's chart: exact match against input length, one line per variant.

A pure function of `seq2seq_core.study.results_frame` output; nothing here imports streamlit.
"""
from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from .sizing import LEGEND_LINES, plot_height, sized

BASELINE = "#1f5fbf"   # the variant without the trick (no attention / source as written)
IMPROVED = "#d9480f"   # the variant with it (attention / reversed source)


def study_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The chart's data: variant, length, exact_match, samples (rows without a score dropped)."""
    columns = ["variant", "length", "exact_match", "samples"]
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=columns)
    data = frame[[c for c in columns if c in frame.columns]].dropna(subset=["exact_match"])
    return data.sort_values(["variant", "length"]).reset_index(drop=True)


def exact_match_chart(frame: pd.DataFrame, variants: Sequence[str] | None = None,
                      x_title: str = "input length (tokens)", height: int = 320) -> alt.LayerChart:
    """Lines of exact match (0-100%) against length, one per variant, points labelled.

    `variants` = (baseline, improved) fixes the colours (blue, orange) and the legend order,
    so a variant keeps its colour while the study is only half done. `height` is the plot
    area (`seq2seq_core.charts.sizing`).
    """
    data = study_rows(frame)
    domain = list(variants) if variants else sorted(data["variant"].unique())
    palette = [BASELINE, IMPROVED, "#2b8a3e", "#862e9c"]
    color = alt.Color("variant:N", title=None,
                      scale=alt.Scale(domain=domain, range=palette[:len(domain)]),
                      legend=alt.Legend(orient="top", columns=1, labelFontSize=15, symbolSize=200,
                                        **LEGEND_LINES))
    lengths = sorted(int(x) for x in data["length"].unique()) if len(data) else []
    base = alt.Chart(data).encode(
        x=alt.X("length:Q", title=x_title,
                scale=alt.Scale(zero=False, nice=False, padding=30),
                axis=alt.Axis(values=lengths, format="d", labelFontSize=14, titleFontSize=14)),
        y=alt.Y("exact_match:Q", title="exact match (whole output)",
                scale=alt.Scale(domain=[0, 1.05]),
                axis=alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                              labelFontSize=14, titleFontSize=14)),
        color=color,
        tooltip=[alt.Tooltip("variant:N"), alt.Tooltip("length:Q"),
                 alt.Tooltip("exact_match:Q", title="exact match", format=".1%"),
                 alt.Tooltip("samples:Q", title="examples scored")],
    )
    lines = base.mark_line(strokeWidth=3)
    points = base.mark_point(filled=True, size=110)
    # The baseline's labels sit below its points, the others' above, so close values stay
    # readable.
    texts = [base.transform_filter(alt.datum.variant == name).mark_text(
        dy=20 if i == 0 else -14, fontSize=13, fontWeight="bold").encode(
        text=alt.Text("exact_match:Q", format=".0%")) for i, name in enumerate(domain)]
    return sized(alt.layer(lines, points, *texts), plot_height(height))


__all__ = ["exact_match_chart", "study_rows"]
