"""The inspector's charts: decoder steps, encoder states, the state map, evaluation.

Pure functions: each takes plain data (a Trace/Step from `seq2seq_core.decoding`, numpy
arrays, a Projection) and returns an Altair chart. Nothing here imports streamlit.
Heights are plot areas, as `seq2seq_core.charts.sizing` rules: at least `PLOT_MIN` px for
bar/point charts, rows of at least `ROW_MIN` px for heatmaps.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ..vocab import PAD_LABEL, short_label
from .sizing import (
    LEGEND_LINES,
    ROW_MIN,
    gradient_length,
    heatmap_height,
    plot_height,
    sized,
    text_or_missing,
)

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
    height = plot_height(height or 34 * len(data))
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
    return sized(bars + text, height, f"Step {step.index + 1}: chose '{step.token}'")


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
    ranks = int(data["rank"].max()) if len(data) else 1
    height = heatmap_height(ranks, 34)
    cells = base.mark_rect().encode(
        color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format="%", title="probability",
                                          gradientLength=gradient_length(height))),
        stroke=alt.condition(alt.datum.current, alt.value(HIGHLIGHT), alt.value(None)),
        strokeWidth=alt.condition(alt.datum.current, alt.value(3), alt.value(0)),
    )
    text = base.mark_text(fontSize=14 if n_steps <= 20 else 10).encode(
        text="token:N",
        color=alt.condition(alt.datum.probability > 0.5, alt.value("white"), alt.value("#222")),
    )
    return sized(cells + text, height)


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
    """Input steps (rows, labelled by token, top to bottom) x units (columns) of an encoder
    state.

    `matrix` is (input steps, units), as in `Trace.encoder_hidden[layer]`; `tokens` are the
    labels of the steps in the order the encoder read them. Colour is symmetric around 0
    (`domain` defaults to +-max |value|; pass (-1, 1) for tanh-bounded hidden states).
    Every step gets a labelled row of at least `ROW_MIN` px; units share the width.
    """
    data = state_rows(matrix, tokens)
    units = int(np.asarray(matrix).shape[1])
    scale = alt.Scale(scheme=STATE_SCHEME, reverse=True,
                      domain=list(domain) if domain is not None else _symmetric(data["value"]))
    height = heatmap_height(len(tokens), 28)
    chart = alt.Chart(data).mark_rect().encode(
        y=alt.Y("step:O", title="input step (token read)",
                axis=alt.Axis(labelExpr=_label_expr(tokens), labelFontSize=14)),
        x=alt.X("unit:O", title="unit",
                axis=alt.Axis(values=list(range(0, units, max(units // 8, 1))), labelAngle=0,
                              labelFontSize=11)),
        color=alt.Color("value:Q", scale=scale, title="value",
                        legend=alt.Legend(gradientLength=gradient_length(height))),
        tooltip=[alt.Tooltip("step:O"), alt.Tooltip("token:N"), alt.Tooltip("unit:O"),
                 alt.Tooltip("value:Q", format=".3f")],
    )
    return sized(chart, height, title)


def final_state(vector: np.ndarray, title: str = "",
                domain: Sequence[float] | None = None, height: int = 180) -> alt.Chart:
    """Bars of a final state vector, one per unit, coloured by sign and size."""
    values = np.asarray(vector, dtype=float).reshape(-1)
    data = pd.DataFrame({"unit": np.arange(len(values)), "value": values})
    scale = alt.Scale(scheme=STATE_SCHEME, reverse=True,
                      domain=list(domain) if domain is not None else _symmetric(values))
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("unit:O", title="unit",
                axis=alt.Axis(values=list(range(0, len(values), max(len(values) // 16, 1))),
                              labelAngle=0)),
        y=alt.Y("value:Q", title="value"),
        color=alt.Color("value:Q", scale=scale, legend=None),
        tooltip=[alt.Tooltip("unit:O"), alt.Tooltip("value:Q", format=".3f")],
    )
    return sized(chart, plot_height(height), title)


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
                       height: int = 400) -> alt.LayerChart | alt.Chart:
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
    return sized(chart, plot_height(height))


def per_position_accuracy(per_position: Sequence[float], height: int = 220) -> alt.LayerChart:
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
        return sized(bars, plot_height(height))
    text = base.mark_text(dy=-8, fontSize=12).encode(text=alt.Text("accuracy:Q", format=".0%"))
    return sized(bars + text, plot_height(height))


# ---- attention ---------------------------------------------------------------------------------
def attention_rows(attention: np.ndarray, input_tokens: Sequence[str],
                   output_tokens: Sequence[str], current: int | None = None,
                   drop_padding: bool = True) -> pd.DataFrame:
    """Long table of an attention matrix (output steps x input steps).

    Columns: out_step, output, in_step, input, weight, current (the row of output step
    `current`, 0-based). Input steps labelled as padding are left out when `drop_padding`
    (attention gives them no weight); `in_step` keeps the position the encoder read them at.
    """
    weights = np.asarray(attention, dtype=float)
    if weights.ndim != 2:
        raise ValueError("attention must be a 2-D (output steps, input steps) matrix")
    n_out, n_in = weights.shape
    if len(input_tokens) != n_in or len(output_tokens) != n_out:
        raise ValueError(f"labels ({len(output_tokens)} outputs, {len(input_tokens)} inputs) do "
                         f"not match the {n_out}x{n_in} attention matrix")
    keep = [i for i, t in enumerate(input_tokens)
            if not (drop_padding and t == PAD_LABEL)] or list(range(n_in))
    rows = [(o, output_tokens[o], i, short_label(input_tokens[i]), float(weights[o, i]),
             o == current) for o in range(n_out) for i in keep]
    return pd.DataFrame(rows, columns=["out_step", "output", "in_step", "input", "weight",
                                       "current"])


def attention_heatmap(attention: np.ndarray, input_tokens: Sequence[str],
                      output_tokens: Sequence[str], current: int | None = None,
                      drop_padding: bool = True) -> alt.LayerChart:
    """Output steps (rows, top = first) x input steps (columns) coloured by attention weight.

    Rows are labelled by the output token written at that step, columns by the input token
    read there; the row of output step `current` (0-based) is outlined. Weights are printed
    in the cells when the matrix is small enough to read them.
    """
    data = attention_rows(attention, input_tokens, output_tokens, current, drop_padding)
    in_steps = sorted(set(data["in_step"]))
    n_out, n_in = len(output_tokens), len(in_steps)
    in_labels = {int(i): short_label(input_tokens[i]) for i in in_steps}
    in_expr = f"{json.dumps({str(k): v for k, v in in_labels.items()}, ensure_ascii=False)}" \
              f"[''+datum.value]"
    out_expr = _label_expr([short_label(t) for t in output_tokens])
    big = n_in <= 24 and n_out <= 24
    font = 16 if n_in <= 16 else 12
    base = alt.Chart(data).encode(
        x=alt.X("in_step:O", title="input token (as the encoder read it)",
                axis=alt.Axis(labelExpr=in_expr, labelAngle=0, labelFontSize=font,
                              orient="top")),
        y=alt.Y("out_step:O", title="output token (first step at the top)",
                axis=alt.Axis(labelExpr=out_expr, labelFontSize=font)),
        tooltip=[alt.Tooltip("out_step:O", title="output step (from 0)"),
                 alt.Tooltip("output:N", title="output token"),
                 alt.Tooltip("input:N", title="input token"),
                 alt.Tooltip("weight:Q", format=".1%")],
    )
    height = heatmap_height(n_out, 44 if n_in <= 12 else 30 if n_in <= 24 else ROW_MIN)
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="oranges", domain=[0, 1]),
                        legend=alt.Legend(format="%", title="attention",
                                          gradientLength=gradient_length(height))))
    layers = [cells]
    if big:
        layers.append(base.mark_text(fontSize=11 if n_in > 12 else 13).encode(
            text=alt.Text("weight:Q", format=".0%"),
            color=alt.condition(alt.datum.weight > 0.5, alt.value("white"), alt.value("#444")),
            opacity=alt.condition(alt.datum.weight >= 0.01, alt.value(1), alt.value(0))))
    if current is not None and 0 <= current < n_out:
        row = data[data["current"]]
        layers.append(alt.Chart(row).mark_rect(fill=None, stroke=ACCENT, strokeWidth=3).encode(
            x="in_step:O", y="out_step:O"))
    return sized(alt.layer(*layers), height)


def _step_weights(weights: np.ndarray, input_tokens: Sequence[str],
                  drop_padding: bool) -> pd.DataFrame:
    """One step's attention as rows in_step, input, weight (padding left out unless asked)."""
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(input_tokens) != len(w):
        raise ValueError(f"{len(input_tokens)} input labels for {len(w)} weights")
    keep = [i for i, t in enumerate(input_tokens)
            if not (drop_padding and t == PAD_LABEL)] or list(range(len(w)))
    return pd.DataFrame({"in_step": keep, "input": [short_label(input_tokens[i]) for i in keep],
                         "weight": w[keep]})


def attention_step(weights: np.ndarray, input_tokens: Sequence[str], title: str = "",
                   drop_padding: bool = True, height: int = 220) -> alt.LayerChart:
    """One decoder step's attention as bars over the input tokens (in reading order)."""
    data = _step_weights(weights, input_tokens, drop_padding)
    keep = list(data["in_step"])
    data["strongest"] = data["weight"] == data["weight"].max()
    labels = {str(i): short_label(input_tokens[i]) for i in keep}
    expr = f"{json.dumps(labels, ensure_ascii=False)}[''+datum.value]"
    base = alt.Chart(data).encode(
        x=alt.X("in_step:O", title="input token",
                axis=alt.Axis(labelExpr=expr, labelAngle=0,
                              labelFontSize=18 if len(keep) <= 12 else 12)),
        y=alt.Y("weight:Q", scale=alt.Scale(domain=[0, 1]), title="attention weight",
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("input:N", title="input token"),
                 alt.Tooltip("weight:Q", format=".1%")],
    )
    bars = base.mark_bar().encode(
        color=alt.condition(alt.datum.strongest, alt.value(HIGHLIGHT), alt.value(OTHER)))
    if len(keep) > 16:
        return sized(bars, plot_height(height), title)
    text = base.mark_text(dy=-9, fontSize=13).encode(text=alt.Text("weight:Q", format=".0%"))
    return sized(bars + text, plot_height(height), title)


def attended_input(weights: np.ndarray, input_tokens: Sequence[str],
                   drop_padding: bool = True) -> alt.LayerChart:
    """The input written out as one strip of tiles, each shaded by its attention weight."""
    data = _step_weights(weights, input_tokens, drop_padding)
    keep = list(data["in_step"])
    base = alt.Chart(data).encode(
        x=alt.X("in_step:O", axis=None),
        tooltip=[alt.Tooltip("input:N", title="input token"),
                 alt.Tooltip("weight:Q", format=".1%", title="attention")])
    tiles = base.mark_rect(stroke="white", strokeWidth=2, cornerRadius=4).encode(
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="oranges", domain=[0, 1]),
                        legend=None))
    text = base.mark_text(fontSize=20 if len(keep) <= 24 else 13, fontWeight="bold").encode(
        text="input:N",
        color=alt.condition(alt.datum.weight > 0.5, alt.value("white"), alt.value("#212529")))
    return sized(tiles + text, heatmap_height(1, 48))


# ---- decoding strategies ---------------------------------------------------------------------
def strategy_table(decoded: Sequence, expected: str | None = None) -> pd.DataFrame:
    """One row per strategy (`strategies.Decoded`): strategy, output, probability, log
    probability, token probabilities and, where the expected output is known, right (✓/✗)."""
    table = pd.DataFrame({
        "strategy": [d.strategy for d in decoded],
        "output": [d.text for d in decoded],
        "probability": [float(d.probability) for d in decoded],
        "log probability": [float(d.log_prob) for d in decoded],
        "token probabilities": ["  ".join(f"{p:.0%}" for p in d.token_probabilities)
                                for d in decoded],
    })
    if expected is not None:
        table["right"] = ["✓" if d.text == expected else "✗" for d in decoded]
    return table


SHORT_OUTPUT = 12  # characters of an output written on the strategy chart


def strategy_probabilities(decoded: Sequence) -> alt.LayerChart:
    """Horizontal bars of each strategy's sequence probability, labelled with its output."""
    data = strategy_table(decoded)
    data["order"] = np.arange(len(data))
    # A short output is written beside its probability; a long one only in the table and
    # the tooltip. Labels of long bars sit inside them, so none runs past the plot.
    data["label"] = [(f"{o or '(empty)'}   " if len(o or "") <= SHORT_OUTPUT else "")
                     + text_or_missing(p, "{:.1%}")
                     for o, p in zip(data["output"], data["probability"])]
    data["inside"] = data["probability"].fillna(0) > 0.55
    base = alt.Chart(data).encode(
        y=alt.Y("strategy:N", sort=alt.EncodingSortField("order", order="ascending"),
                title=None, axis=alt.Axis(labelFontSize=14, labelLimit=260)),
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]),
                title="probability of the whole output", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("strategy:N"), alt.Tooltip("output:N"),
                 alt.Tooltip("probability:Q", format=".2%"),
                 alt.Tooltip("log probability:Q", format=".3f")],
    )
    bars = base.mark_bar(color=ACCENT)
    outside = base.transform_filter("!datum.inside").mark_text(
        align="left", dx=5, fontSize=14).encode(text="label:N")
    inside = base.transform_filter("datum.inside").mark_text(
        align="right", dx=-6, fontSize=14, color="white", fontWeight="bold").encode(
        text="label:N")
    return sized(bars + outside + inside, plot_height(48 * len(data)))


def beam_grid(rows: Sequence[dict]) -> pd.DataFrame:
    """The beams kept after each step, one row per step and one column per rank.

    `rows` are `strategies.beam_table` dicts; a cell reads "output so far  (score)", with
    " ✓" for a finished beam.
    """
    if not rows:
        return pd.DataFrame({"step": []})
    frame = pd.DataFrame(list(rows))
    frame["cell"] = [f"{r['output so far'] or '(empty)'}   "
                     f"({text_or_missing(round(r['score'], 2) + 0.0, '{:.2f}')})"
                     + (" ✓" if r.get("finished") else "") for r in rows]
    grid = frame.pivot(index="step", columns="rank", values="cell").fillna("")
    grid.columns = [f"beam {int(c)}" for c in grid.columns]
    return grid.reset_index()


# ---- teacher forcing vs free running ----------------------------------------------------------
FORCING_COLORS = {"teacher forcing": ACCENT, "free running": HIGHLIGHT}
FORCING_COLUMNS = {"fed": "fed", "prediction": "predicted", "probability": "probability"}


def forcing_rows(rows: Sequence) -> pd.DataFrame:
    """Long table of a forcing comparison (`strategies.ForcingRow`s), one row per step and
    mode: step, expected, mode, fed, prediction, probability, right. Steps past the end of
    free running's output have no free-running row."""
    out = [{"step": int(r.step), "expected": r.expected, "mode": mode, "fed": fed,
            "prediction": pred, "probability": float(prob),
            "right": bool(r.expected) and pred == r.expected}
           for r in rows for mode, (fed, pred, prob) in r.modes().items() if pred]
    return pd.DataFrame(out, columns=["step", "expected", "mode", *FORCING_COLUMNS, "right"])


def forcing_table(rows: Sequence, feeds_back: bool = True) -> pd.DataFrame:
    """`forcing_rows` side by side, one row per step: step, expected, then "teacher forcing:
    fed/predicted/probability" and the same for free running. Without feedback no token is
    fed, so there are no "fed" columns."""
    long = forcing_rows(rows)
    parts = [long.pivot(index=["step", "expected"], columns="mode", values=value)
             .add_suffix(f": {name}") for value, name in FORCING_COLUMNS.items()]
    columns = [f"{mode}: {name}" for mode in FORCING_COLORS for name in FORCING_COLUMNS.values()
               if feeds_back or name != "fed"]
    table = pd.concat(parts, axis=1).reindex(columns=columns).rename_axis(columns=None)
    text = [c for c in columns if not c.endswith("probability")]
    table[text] = table[text].fillna("")
    return table.reset_index()


def paired_steps(data: pd.DataFrame, field: str, colors: dict, tooltip: list,
                 **legend) -> alt.Chart:
    """The base of a chart of each output step's probability for two ways of decoding side
    by side: `field` names the way (its bars offset within a step), `colors` maps each way
    to its colour; mark it as bars or text."""
    color = alt.Color(f"{field}:N", title=None,
                      scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                      legend=alt.Legend(orient="top", labelFontSize=14, **LEGEND_LINES,
                                        **legend))
    return alt.Chart(data).encode(
        x=alt.X("step:O", title="output step", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1.12]), title="probability",
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        color=color, xOffset=alt.XOffset(f"{field}:N", sort=list(colors)), tooltip=tooltip)


def forcing_chart(rows: Sequence, diverges_at: int | None = None,
                  height: int = 260) -> alt.LayerChart:
    """Probability of each step's prediction (`rows` are `strategies.ForcingRow`s) with the
    true previous token fed in (teacher forcing) and with the model's own (free running);
    labels are the predicted tokens, hollow points wrong ones, and a dashed rule marks the
    first step where free running leaves the expected output."""
    data = forcing_rows(rows)
    n = int(data["step"].max()) if len(data) else 1
    base = paired_steps(data, "mode", FORCING_COLORS, columns=1, tooltip=[
        alt.Tooltip("step:O"), alt.Tooltip("mode:N"), alt.Tooltip("fed:N"),
        alt.Tooltip("prediction:N"), alt.Tooltip("probability:Q", format=".1%"),
        alt.Tooltip("right:N")])
    bars = base.mark_bar(opacity=0.85).encode(
        strokeDash=alt.condition(alt.datum.right, alt.value([1, 0]), alt.value([4, 2])),
        stroke=alt.condition(alt.datum.right, alt.value(None), alt.value("black")),
        fillOpacity=alt.condition(alt.datum.right, alt.value(0.9), alt.value(0.35)))
    text = base.mark_text(dy=-10, fontSize=16 if n <= 16 else 11, fontWeight="bold").encode(
        text="prediction:N")
    layers = [bars, text]
    if diverges_at is not None:
        rule = pd.DataFrame({"step": [int(diverges_at)], "label": ["free running leaves the "
                                                                  "expected output"]})
        layers.append(alt.Chart(rule).mark_rect(opacity=0.12, color="#c92a2a").encode(
            x="step:O"))
    return sized(alt.layer(*layers), plot_height(height))
