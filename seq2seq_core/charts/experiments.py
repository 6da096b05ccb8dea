"""Charts of the run history and of sweeps: pure functions of pandas tables, no streamlit.

- `overlay_chart(curves, metric, x)`: several runs' curves on one chart, one colour per run
  (`curves` as returned by `History.curves(run_ids)`).
- `sweep_heatmap(results, metric)`: a sweep's grid (problem complexity x encoder units) as a
  heatmap with the value written in each cell (`results` as returned by `Sweep.results()`
  or `results_from_history`), built with `seq2seq_core.sweep.pivot`.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..sweep import pivot

METRICS = {
    "exact_match": ("exact match (whole sequence)", ".0%", False),
    "val_token_accuracy": ("validation token accuracy", ".0%", False),
    "val_loss": ("validation loss", ".3f", True),
    "train_loss": ("training loss", ".3f", True),
}
X_AXES = {"samples_seen": ("samples seen", "~s"), "train_seconds": ("training time (s)", ",.0f")}
AXIS = {"labelFontSize": 12, "titleFontSize": 13}


def overlay_chart(curves: pd.DataFrame, metric: str = "exact_match", x: str = "samples_seen",
                  height: int = 300) -> alt.Chart:
    """One line per run of `metric` against `x` (samples seen or training seconds)."""
    title, fmt, log = METRICS[metric]
    x_title, x_fmt = X_AXES[x]
    data = curves.assign(run=[f"#{i} {n}" if not str(n).startswith("#") else str(n)
                              for i, n in zip(curves["run_id"], curves["name"])])
    data = data[["run", "run_id", x, metric]].dropna()
    if log:
        data = data[data[metric] > 0]
    y_scale = alt.Scale(type="log") if log else alt.Scale(domain=[0, 1])
    y_axis = alt.Axis(format=fmt, **AXIS)
    return (alt.Chart(data).mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=30))
            .encode(x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=x_fmt, **AXIS)),
                    y=alt.Y(f"{metric}:Q", title=title, scale=y_scale, axis=y_axis),
                    color=alt.Color("run:N", title=None, scale=alt.Scale(scheme="tableau10"),
                                    legend=alt.Legend(orient="bottom", columns=2,
                                                      labelFontSize=12, labelLimit=420)),
                    tooltip=[alt.Tooltip("run:N"), alt.Tooltip(f"{x}:Q", format=",.1f"),
                             alt.Tooltip(f"{metric}:Q", format=fmt)])
            .properties(title=title.capitalize() + " per run", height=height)
            .configure_title(fontSize=16))


def sweep_heatmap(results: pd.DataFrame, metric: str = "exact_match",
                  complexity_label: str | None = None, height: int | None = None) -> alt.Chart:
    """A heatmap of one results column over the grid (rows: complexity, columns: units).

    "exact_match" is drawn 0..100 % (dark = good); "train_seconds" is the time to reach the
    target, with cells that never reached it marked "not reached".
    """
    label = complexity_label or results.attrs.get("complexity_label") or \
        results.attrs.get("complexity_key", "complexity")
    grid = pivot(results, metric)
    long = grid.stack().rename("value").reset_index()
    if metric == "train_seconds":
        reached = pivot(results.assign(reached=results["reached"].astype(float)), "reached")
        long["reached"] = reached.stack().reindex(
            pd.MultiIndex.from_frame(long[["complexity", "units"]])).to_numpy() > 0.5
        long["text"] = [f"{v:.0f} s" if r else f"not reached\n({v:.0f} s)"
                        for v, r in zip(long["value"], long["reached"])]
        long["shown"] = np.where(long["reached"], long["value"], np.nan)
        title = "Training time to reach the target"
        color = alt.Color("shown:Q", title="seconds", scale=alt.Scale(scheme="orangered"),
                          legend=alt.Legend(format=",.0f"))
    else:
        long["text"] = [f"{v:.0%}" for v in long["value"]]
        long["shown"] = long["value"]
        title = "Exact match (whole sequence)"
        color = alt.Color("shown:Q", title="exact match",
                          scale=alt.Scale(scheme="blues", domain=[0, 1]),
                          legend=alt.Legend(format=".0%"))
    long["units"] = long["units"].astype(int)
    long["complexity"] = long["complexity"].astype(int)
    height = height or max(160, 70 * long["complexity"].nunique())
    x = alt.X("units:O", title="encoder units", axis=alt.Axis(labelAngle=0, **AXIS))
    y = alt.Y("complexity:O", title=label, sort="ascending", axis=alt.Axis(**AXIS))
    rect = alt.Chart(long).mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y, color=color,
        tooltip=[alt.Tooltip("complexity:O", title=label), alt.Tooltip("units:O"),
                 alt.Tooltip("text:N", title="value")])
    if metric == "train_seconds":
        rect = rect.encode(color=alt.condition("datum.shown === null", alt.value("#e9ecef"),
                                               color))
        dark = "datum.shown !== null && datum.shown > 0"
    else:
        dark = "datum.shown >= 0.6"
    text = alt.Chart(long).mark_text(fontSize=15, fontWeight="bold", lineBreak="\n").encode(
        x=x, y=y, text="text:N",
        color=alt.condition(dark, alt.value("white"), alt.value("#212529")))
    return alt.layer(rect, text).properties(title=title, height=height) \
        .configure_title(fontSize=16).configure_view(strokeWidth=0)
