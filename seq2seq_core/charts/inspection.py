"""The inspector's charts: decoder steps, encoder states, the state map, evaluation.

Pure functions: each takes plain data (a Trace/Step from `seq2seq_core.decoding`, numpy
arrays, a Projection) and returns an Altair chart. Nothing here imports streamlit.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

HIGHLIGHT = "#d9480f"   # the chosen token / the typed input
OTHER = "#9ab6e0"       # alternatives
ACCENT = "#1f5fbf"
STATE_SCHEME = "redblue"


def _label_expr(labels: Sequence[str]) -> str:
    """A Vega expression mapping an integer axis value to `labels[value]`."""
    return f"{json.dumps(list(labels), ensure_ascii=False)}[datum.value]"


def step_rows(step) -> pd.DataFrame:
    """One row per top-k candidate of a decoder step: rank, token, probability, chosen."""
    return pd.DataFrame({
        "rank": np.arange(1, len(step.top) + 1),
        "token": [label for label, _ in step.top],
        "probability": [float(p) for _, p in step.top],
        "chosen": [label == step.token for label, _ in step.top],
    })


def step_probabilities(step, height: int | None = None) -> alt.LayerChart:
    """Horizontal bars of a step's top-k probabilities, the chosen token in the highlight colour."""
    data = step_rows(step)
    # Streamlit fits the whole chart (title and axes included) into `height`.
    height = height or 40 * len(data) + 110
    base = alt.Chart(data).encode(
        y=alt.Y("token:N", sort=alt.EncodingSortField("rank", order="ascending"),
                title="candidate token", axis=alt.Axis(labelFontSize=16, titleFontSize=13)),
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability",
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("rank:O"), alt.Tooltip("token:N"),
                 alt.Tooltip("probability:Q", format=".1%"), alt.Tooltip("chosen:N")],
    )
    bars = base.mark_bar().encode(
        color=alt.condition(alt.datum.chosen, alt.value(HIGHLIGHT), alt.value(OTHER)))
    text = base.mark_text(align="left", dx=4, fontSize=14).encode(
        text=alt.Text("probability:Q", format=".1%"))
    return (bars + text).properties(
        height=height, title=f"Step {step.index + 1}: chose '{step.token}'")


def overview_rows(trace) -> pd.DataFrame:
    """One row per (output step, rank) of a trace's top-k lists."""
    rows = []
    for step in trace.steps:
        for rank, (label, prob) in enumerate(step.top, start=1):
            rows.append((step.index + 1, rank, label, float(prob), label == step.token))
    return pd.DataFrame(rows, columns=["step", "rank", "token", "probability", "chosen"])


def steps_overview(trace, current: int | None = None) -> alt.LayerChart:
    """Output steps x top-k ranks: colour is probability, text the candidate token.

    `current` (0-based step index) is outlined.
    """
    data = overview_rows(trace)
    data["current"] = data["step"] == (None if current is None else current + 1)
    n_steps = max(len(trace.steps), 1)
    base = alt.Chart(data).encode(
        x=alt.X("step:O", title="output step", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rank:O", title="rank (1 = chosen)"),
        tooltip=[alt.Tooltip("step:O"), alt.Tooltip("rank:O"), alt.Tooltip("token:N"),
                 alt.Tooltip("probability:Q", format=".1%")],
    )
    cells = base.mark_rect().encode(
        color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format="%", title="probability")),
        stroke=alt.condition(alt.datum.current, alt.value(HIGHLIGHT), alt.value(None)),
        strokeWidth=alt.condition(alt.datum.current, alt.value(3), alt.value(0)),
    )
    text = base.mark_text(fontSize=14 if n_steps <= 20 else 10).encode(
        text="token:N",
        color=alt.condition(alt.datum.probability > 0.5, alt.value("white"), alt.value("#222")),
    )
    ranks = int(data["rank"].max()) if len(data) else 1
    return (cells + text).properties(height=38 * ranks + 70)


def state_rows(matrix: np.ndarray, tokens: Sequence[str]) -> pd.DataFrame:
    """Long table of a (steps, units) state matrix: step, token, unit, value."""
    matrix = np.asarray(matrix, dtype=float)
    steps, units = matrix.shape
    if len(tokens) != steps:
        raise ValueError(f"{len(tokens)} token labels for {steps} steps")
    return pd.DataFrame({
        "step": np.repeat(np.arange(steps), units),
        "token": np.repeat(np.asarray(list(tokens), dtype=object), units),
        "unit": np.tile(np.arange(units), steps),
        "value": matrix.reshape(-1),
    })


def _symmetric(values: np.ndarray, floor: float = 1e-6) -> list[float]:
    top = float(np.max(np.abs(values))) if np.size(values) else 1.0
    top = max(top, floor)
    return [-top, top]


def state_heatmap(matrix: np.ndarray, tokens: Sequence[str], title: str = "",
                  domain: Sequence[float] | None = None) -> alt.Chart:
    """Units (rows) x input steps (columns) of an encoder state; columns labelled by token.

    `matrix` is (input steps, units), as in `Trace.encoder_hidden[layer]`; `tokens` are the
    labels of the steps in the order the encoder read them. Colour is symmetric around 0
    (`domain` defaults to +-max |value|; pass (-1, 1) for tanh-bounded hidden states).
    """
    data = state_rows(matrix, tokens)
    units = int(np.asarray(matrix).shape[1])
    scale = alt.Scale(scheme=STATE_SCHEME, reverse=True,
                      domain=list(domain) if domain is not None else _symmetric(data["value"]))
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("step:O", title="input step (token read)",
                axis=alt.Axis(labelExpr=_label_expr(tokens), labelAngle=0, labelFontSize=14)),
        y=alt.Y("unit:O", title="unit",
                axis=alt.Axis(values=list(range(0, units, max(units // 8, 1))))),
        color=alt.Color("value:Q", scale=scale, title="value"),
        tooltip=[alt.Tooltip("step:O"), alt.Tooltip("token:N"), alt.Tooltip("unit:O"),
                 alt.Tooltip("value:Q", format=".3f")],
    ).properties(title=title, height=int(min(max(units * 5, 160), 480)) + 90)


def final_state(vector: np.ndarray, title: str = "",
                domain: Sequence[float] | None = None) -> alt.Chart:
    """Bars of a final state vector, one per unit, coloured by sign and size."""
    values = np.asarray(vector, dtype=float).reshape(-1)
    data = pd.DataFrame({"unit": np.arange(len(values)), "value": values})
    scale = alt.Scale(scheme=STATE_SCHEME, reverse=True,
                      domain=list(domain) if domain is not None else _symmetric(values))
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("unit:O", title="unit",
                axis=alt.Axis(values=list(range(0, len(values), max(len(values) // 16, 1))),
                              labelAngle=0)),
        y=alt.Y("value:Q", title="value"),
        color=alt.Color("value:Q", scale=scale, legend=None),
        tooltip=[alt.Tooltip("unit:O"), alt.Tooltip("value:Q", format=".3f")],
    ).properties(title=title, height=240)


def projection_rows(projection) -> pd.DataFrame:
    """One row per projected input: x, y, input text, property value."""
    coords = np.asarray(projection.coords, dtype=float)
    return pd.DataFrame({
        "x": coords[:, 0],
        "y": coords[:, 1] if coords.shape[1] > 1 else np.zeros(len(coords)),
        "input": list(projection.texts),
        "value": np.asarray(projection.values, dtype=float),
    })


def projection_scatter(projection, highlight_xy=None, highlight_label: str | None = None,
                       ) -> alt.LayerChart | alt.Chart:
    """PCA map of final encoder states, coloured by the task property; the typed input marked."""
    data = projection_rows(projection)
    explained = np.asarray(projection.explained, dtype=float)
    pcs = [f"PC{i + 1} ({explained[i]:.0%} of variance)" if i < len(explained) else f"PC{i + 1}"
           for i in range(2)]
    prop = projection.property_name
    points = alt.Chart(data).mark_circle(size=60, opacity=0.75).encode(
        x=alt.X("x:Q", title=pcs[0]),
        y=alt.Y("y:Q", title=pcs[1]),
        color=alt.Color("value:Q", title=prop, scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("input:N"), alt.Tooltip("value:Q", title=prop)],
    )
    chart = points
    if highlight_xy is not None:
        xy = np.asarray(highlight_xy, dtype=float).reshape(-1)
        mark = pd.DataFrame({"x": [xy[0]], "y": [xy[1] if len(xy) > 1 else 0.0],
                             "input": [highlight_label or "your input"]})
        star = alt.Chart(mark).mark_point(shape="diamond", size=400, filled=True,
                                          color=HIGHLIGHT, stroke="black", strokeWidth=1.5,
                                          opacity=1).encode(
            x="x:Q", y="y:Q", tooltip=[alt.Tooltip("input:N", title="your input")])
        label = alt.Chart(mark).mark_text(align="left", dx=14, dy=-10, fontSize=15,
                                          fontWeight="bold", color=HIGHLIGHT).encode(
            x="x:Q", y="y:Q", text="input:N")
        chart = points + star + label
    return chart.properties(height=480)


def per_position_accuracy(per_position: Sequence[float]) -> alt.LayerChart:
    """Accuracy at each output position (1-based), as bars with percentage labels.

    Positions no scored example reaches (NaN) are left out rather than drawn as 0%.
    """
    acc = np.asarray(per_position, dtype=float).reshape(-1)
    data = pd.DataFrame({"position": np.arange(1, len(acc) + 1), "accuracy": acc}).dropna()
    base = alt.Chart(data).encode(
        x=alt.X("position:O", title="output position", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy",
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("position:O"), alt.Tooltip("accuracy:Q", format=".1%")],
    )
    bars = base.mark_bar(color=ACCENT)
    if len(acc) > 16:  # too many positions for readable labels: tooltips carry the numbers
        return bars.properties(height=280)
    text = base.mark_text(dy=-8, fontSize=12).encode(text=alt.Text("accuracy:Q", format=".0%"))
    return (bars + text).properties(height=280)
