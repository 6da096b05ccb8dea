"""Charts of the run history and of sweeps: pure functions of pandas tables, no streamlit.

- `overlay_chart(curves, metric, x)`: several runs' curves on one chart, one colour per run
  (`curves` as returned by `History.curves(run_ids)`).
- `sweep_heatmap(results, metric)`: a sweep's grid (problem complexity x encoder units) as a
  heatmap with the value written in each cell (`results` as returned by `Sweep.results()`
  or `results_from_history`); every cell of the grid is drawn, "—" where it has no value.

Sizes follow `seq2seq_core.charts.sizing`: `height` is the plot area, not the whole chart.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..history import run_title
from .sizing import (
    LEGEND_LINES,
    MISSING,
    heatmap_height,
    plot_height,
    sized,
    text_or_missing,
)

METRICS = {
    "exact_match": ("exact match", "Exact match (whole sequence) per run", ".0%", False),
    "val_token_accuracy": ("token accuracy", "Validation token accuracy per run", ".0%", False),
    "val_loss": ("validation loss", "Validation loss per run", ".3f", True),
    "train_loss": ("training loss", "Training loss per run", ".3f", True),
    "chrf": ("chrF", "Held-out chrF per run (translation)", ".1f", False),
}
DOMAINS = {"chrf": [0, 100]}  # a metric's y range where it is not a share (0..1)
X_AXES = {"samples_seen": ("samples seen", "~s"), "train_seconds": ("training time (s)", ",.0f")}
AXIS = {"labelFontSize": 12, "titleFontSize": 13}
SWEEP_ROW = 48
MISSING_FILL = "#e9ecef"
LEGEND = {"orient": "bottom", "direction": "horizontal", "gradientLength": 140}


def overlay_chart(curves: pd.DataFrame, metric: str = "exact_match", x: str = "samples_seen",
                  height: int = 240) -> alt.Chart:
    """One line per run of `metric` against `x` (samples seen or training seconds).

    `height` is the plot area (at least `PLOT_MIN`); the legend, one run a row with long
    names on several lines, is added below it.
    """
    axis_title, chart_title, fmt, log = METRICS[metric]
    x_title, x_fmt = X_AXES[x]
    data = curves.assign(run=[run_title(i, n) for i, n in zip(curves["run_id"], curves["name"])])
    data = data[["run", "run_id", x, metric]].dropna()
    if log:
        data = data[data[metric] > 0]
    y_scale = alt.Scale(type="log") if log else alt.Scale(domain=DOMAINS.get(metric, [0, 1]))
    y_axis = alt.Axis(format=fmt, **AXIS)
    chart = (alt.Chart(data).mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=30))
             .encode(x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=x_fmt, **AXIS)),
                     y=alt.Y(f"{metric}:Q", title=axis_title, scale=y_scale, axis=y_axis),
                     color=alt.Color("run:N", title=None, scale=alt.Scale(scheme="tableau10"),
                                     legend=alt.Legend(orient="bottom", columns=1,
                                                       labelFontSize=12, **LEGEND_LINES)),
                     tooltip=[alt.Tooltip("run:N"), alt.Tooltip(f"{x}:Q", format=",.1f"),
                              alt.Tooltip(f"{metric}:Q", format=fmt)]))
    return sized(chart, plot_height(height), chart_title)


def _grid(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """complexity, units, value, reached: one row per grid cell, NaN where nothing is known."""
    cells = pd.MultiIndex.from_product(
        [sorted(pd.unique(results["complexity"].dropna())),
         sorted(pd.unique(results["units"].dropna()))], names=["complexity", "units"])
    values = pd.to_numeric(results[metric], errors="coerce")
    reached = results["reached"].map(lambda r: 1.0 if r is True or r == 1 else 0.0) \
        if "reached" in results else pd.Series(0.0, index=results.index)
    frame = pd.DataFrame({"complexity": results["complexity"], "units": results["units"],
                          "value": values, "reached": reached})
    last = frame.groupby(["complexity", "units"]).last()
    return last.reindex(cells).reset_index()


def sweep_heatmap(results: pd.DataFrame, metric: str = "exact_match",
                  complexity_label: str | None = None, height: int | None = None) -> alt.Chart:
    """A heatmap of one results column over the grid (rows: complexity, columns: units).

    "exact_match" is drawn 0..100 % (dark = good); "train_seconds" is the time to reach the
    target, a cell that never reached it reads ">time trained". Cells without a value
    (a stopped sweep) are grey and read "—". `height` is the plot area; each row gets at
    least `SWEEP_ROW` px.
    """
    label = complexity_label or results.attrs.get("complexity_label") or \
        results.attrs.get("complexity_key", "complexity")
    long = _grid(results, metric)
    known = long["value"].notna()
    if metric == "train_seconds":
        long["reached"] = known & (long["reached"] > 0.5)
        long["text"] = [text_or_missing(v, "{:,.0f} s") if r or pd.isna(v)
                        else f">{v:,.0f} s" for v, r in zip(long["value"], long["reached"])]
        long["detail"] = [MISSING if pd.isna(v) else f"{v:,.0f} s" if r else
                          f"not reached ({v:,.0f} s)"
                          for v, r in zip(long["value"], long["reached"])]
        long["shown"] = np.where(long["reached"], long["value"], np.nan)
        chart_title = "Training time to reach the target"
        # With no cell at the target there is nothing to colour: no legend (it would read NaN).
        color = alt.Color("shown:Q", title="seconds", scale=alt.Scale(scheme="orangered"),
                          legend=alt.Legend(format=",.0f", **LEGEND)
                          if long["reached"].any() else None)
        dark = "datum.shown !== null && datum.shown > 0"
    else:
        long["text"] = [text_or_missing(v, "{:.0%}") for v in long["value"]]
        long["detail"] = long["text"]
        long["shown"] = long["value"]
        chart_title = "Exact match (whole sequence)"
        color = alt.Color("shown:Q", title="exact match",
                          scale=alt.Scale(scheme="blues", domain=[0, 1]),
                          legend=alt.Legend(format=".0%", **LEGEND))
        dark = "datum.shown !== null && datum.shown >= 0.6"
    long["units"] = long["units"].astype(int)
    long["complexity"] = long["complexity"].astype(int)
    rows = max(long["complexity"].nunique(), 1)
    plot = max(int(height or 0), heatmap_height(rows, SWEEP_ROW))
    x = alt.X("units:O", title="encoder units", axis=alt.Axis(labelAngle=0, **AXIS))
    y = alt.Y("complexity:O", title=label, sort="ascending", axis=alt.Axis(**AXIS))
    tooltip = [alt.Tooltip("complexity:O", title=label), alt.Tooltip("units:O"),
               alt.Tooltip("detail:N", title="value")]
    # Vega-Lite drops a rect whose colour field is empty: the grey layer keeps every cell.
    grey = alt.Chart(long).mark_rect(stroke="white", strokeWidth=2, color=MISSING_FILL).encode(
        x=x, y=y, tooltip=tooltip)
    rect = alt.Chart(long).mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y, color=color, tooltip=tooltip)
    text = alt.Chart(long).mark_text(fontSize=13, fontWeight="bold").encode(
        x=x, y=y, text="text:N",
        color=alt.condition(dark, alt.value("white"), alt.value("#212529")))
    return sized(alt.layer(grey, rect, text), plot, chart_title).configure_view(strokeWidth=0)
