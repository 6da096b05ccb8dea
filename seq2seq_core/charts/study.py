"""The "why attention" study's charts: exact match against input length, one line per
variant; and for length generalization, the same against every length (or format) tested,
with the trained ones shaded and the first untrained one marked.

Pure functions of `seq2seq_core.study.results_frame` output; nothing here imports streamlit.
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


def _variant_color(domain: list[str]) -> alt.Color:
    """One colour per variant, in `domain` order (baseline blue, improved orange)."""
    palette = [BASELINE, IMPROVED, "#2b8a3e", "#862e9c"]
    return alt.Color("variant:N", title=None,
                     scale=alt.Scale(domain=domain, range=palette[:len(domain)]),
                     legend=alt.Legend(orient="top", columns=1, labelFontSize=15,
                                       symbolSize=200, **LEGEND_LINES))


def exact_match_chart(frame: pd.DataFrame, variants: Sequence[str] | None = None,
                      x_title: str = "input length (tokens)", height: int = 320) -> alt.LayerChart:
    """Lines of exact match (0-100%) against length, one per variant, points labelled.

    `variants` = (baseline, improved) fixes the colours (blue, orange) and the legend order,
    so a variant keeps its colour while the study is only half done. `height` is the plot
    area (`seq2seq_core.charts.sizing`).
    """
    data = study_rows(frame)
    domain = list(variants) if variants else sorted(data["variant"].unique())
    color = _variant_color(domain)
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


SHADE = "#e9ecef"  # the lengths (or formats) the models trained on
MARK = "#495057"   # the first one they never saw
MAX_LABELS = 12    # points labelled with their score, at most (more would overlap)


def generalization_chart(frame: pd.DataFrame, variants: Sequence[str], x: str,
                         order: Sequence, trained: Sequence, x_title: str,
                         height: int = 320) -> alt.LayerChart:
    """Exact match (0-100%) at every length or format in `order` (column `x`), one line per
    variant; the `trained` ones shaded, a dashed rule where the untrained ones begin.

    The axis is ordinal in `order`, so lengths and formats draw alike; every point is
    labelled with its score while there are at most MAX_LABELS of them.
    """
    columns = ["variant", x, "exact_match", "samples"]
    data = pd.DataFrame(columns=columns) if frame is None or len(frame) == 0 else \
        frame[columns].dropna(subset=["exact_match"])
    order = list(order)
    axis = alt.Axis(labelFontSize=14, titleFontSize=14, labelAngle=0 if x == "length" else -30,
                    labelLimit=160)
    scale = alt.Scale(domain=order, paddingInner=0, paddingOuter=0.05)
    y_scale = alt.Scale(domain=[0, 1.1])
    shade = alt.Chart(pd.DataFrame({x: list(trained), "low": 0.0, "high": 1.1})).mark_rect(
        color=SHADE).encode(x=alt.X(f"{x}:O", sort=order, scale=scale, title=x_title, axis=axis),
                            y=alt.Y("low:Q", scale=y_scale), y2="high:Q")
    first = [p for p in order if p not in set(trained)][:1]
    edge = alt.Chart(pd.DataFrame({x: first, "top": 1.1, "text": "never trained on"}))
    rule = edge.mark_rule(color=MARK, strokeDash=[6, 4], strokeWidth=2).encode(
        x=alt.X(f"{x}:O", sort=order, scale=scale, bandPosition=0))
    note = edge.mark_text(align="left", baseline="top", dx=6, dy=4, fontSize=13,
                          color=MARK).encode(
        x=alt.X(f"{x}:O", sort=order, scale=scale, bandPosition=0),
        y=alt.Y("top:Q", scale=y_scale), text="text:N")
    domain = list(variants)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:O", sort=order, scale=scale),
        y=alt.Y("exact_match:Q", title="exact match (whole output)", scale=y_scale,
                axis=alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                              labelFontSize=14, titleFontSize=14)),
        color=_variant_color(domain),
        tooltip=[alt.Tooltip("variant:N"), alt.Tooltip(f"{x}:O"),
                 alt.Tooltip("exact_match:Q", title="exact match", format=".1%"),
                 alt.Tooltip("samples:Q", title="examples scored")])
    layers = [shade, rule, note, base.mark_line(strokeWidth=3),
              base.mark_point(filled=True, size=90)]
    if len(order) <= MAX_LABELS:
        layers += [base.transform_filter(alt.datum.variant == name).mark_text(
            dy=18 if i == 0 else -12, fontSize=12, fontWeight="bold").encode(
            text=alt.Text("exact_match:Q", format=".0%")) for i, name in enumerate(domain)]
    return sized(alt.layer(*layers), plot_height(height))


__all__ = ["exact_match_chart", "generalization_chart", "levels_chart", "study_rows"]


def levels_chart(frame: pd.DataFrame, levels: Sequence[str], height: int = 300) -> alt.Chart:
    """Held-out chrF against training seconds, one line per token level (`levels`: their
    names in legend order), from `levels.levels_frame` rows with a `name` column."""
    data = frame.dropna(subset=["chrf"])
    color = alt.Color("name:N", title=None,
                      scale=alt.Scale(domain=list(levels),
                                      range=[BASELINE, IMPROVED, "#2b8a3e"][:len(levels)]),
                      legend=alt.Legend(orient="top", columns=1, labelFontSize=15,
                                        symbolSize=200, **LEGEND_LINES))
    chart = alt.Chart(data).mark_line(strokeWidth=3, point=alt.OverlayMarkDef(size=40)).encode(
        x=alt.X("seconds:Q", title="training time (s)",
                axis=alt.Axis(labelFontSize=14, titleFontSize=14)),
        y=alt.Y("chrf:Q", title="held-out chrF", scale=alt.Scale(domain=[0, 100]),
                axis=alt.Axis(labelFontSize=14, titleFontSize=14)),
        color=color,
        tooltip=[alt.Tooltip("name:N", title="level"),
                 alt.Tooltip("seconds:Q", format=".0f"), alt.Tooltip("chrf:Q", format=".1f"),
                 alt.Tooltip("bleu:Q", format=".1f"), alt.Tooltip("samples:Q", format=",")])
    return sized(chart, plot_height(height))
