"""Charts of the "Inside the cell" views: every gate of a layer as heatmaps, how much each
layer keeps, chosen units over the steps, saturation over training, and a diagram of one
unit's step with its numbers. Pure functions of `seq2seq_core.gates` results (no streamlit).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

import altair as alt
import numpy as np
import pandas as pd

from ..gates import KEEP, SATURATED, SHORT, SIGMOID, number
from ..vocab import short_label
from .inspection import ACCENT, HIGHLIGHT, STATE_SCHEME
from .sizing import (
    LEGEND_LINES,
    ROW_MIN,
    heatmap_height,
    plot_height,
    sized,
    title,
)

MAX_UNITS = 32        # units a heatmap draws unless told which
MAX_RECTS = 40_000    # rects all panels of `gate_heatmaps` may draw together
PANEL_COLUMNS = 3
STEP_PX = 22          # width of a heatmap column
PANEL_MIN = 150       # narrowest heatmap panel
AXIS_PX, GAP_PX = 50, 20  # a panel's unit axis and the space between panels
ROOM = 640            # pixels the panels of one layer may fill side by side, unless told
SHADE = "#ffe8cc"     # the chosen steps behind `unit_lines`
CONCAT_AUTOSIZE = {"type": "pad"}  # "fit" does not apply to concatenated views
KEEP_TITLE = {cell: f"mean {SHORT[KEEP[cell]]} (1 = keep the {what})"
              for cell, what in (("lstm", "memory"), ("gru", "old state"))}


def step_labels(layer) -> list[str]:
    """'1. 7', '2. +', ...: each step with the token it reads or writes, in reading order."""
    return [f"{t + 1}. {short_label(tok)}" for t, tok in enumerate(layer.tokens)]


def domain(layer, name: str) -> list[float]:
    """The colour (or y) range of `name`: 0..1 for a sigmoid gate, -1..1 for a tanh-bounded
    value, +-max|c| (at least 1) for the LSTM's cell state."""
    if name in SIGMOID[layer.cell]:
        return [0.0, 1.0]
    if name == "c":
        values = layer.values["c"]
        top = float(np.abs(values).max()) if values.size else 0.0
        return [-max(top, 1.0), max(top, 1.0)]
    return [-1.0, 1.0]


def _scale(layer, name: str) -> alt.Scale:
    if name in SIGMOID[layer.cell]:
        return alt.Scale(scheme="blues", domain=domain(layer, name))
    return alt.Scale(scheme=STATE_SCHEME, reverse=True, domain=domain(layer, name))


def _check_names(layer, names) -> tuple[str, ...]:
    names = layer.names if names is None else tuple(names)
    unknown = [n for n in names if n not in layer.names]
    if unknown or not names:
        raise ValueError(f"A {layer.cell.upper()} layer has {', '.join(layer.names)}; "
                         f"not {', '.join(unknown) or 'nothing'}.")
    return names


def _check_units(layer, units) -> list[int]:
    units = list(range(min(layer.units, MAX_UNITS)) if units is None else units)
    if not units or min(units) < 0 or max(units) >= layer.units:
        raise ValueError(f"Pick units from 0 to {layer.units - 1} (0-based).")
    return units


def gate_rows(layer, names, units) -> pd.DataFrame:
    """Long table of the chosen values: name, step (1-based), token, label, unit (1-based),
    value."""
    labels, steps = step_labels(layer), np.arange(layer.steps)
    frames = [pd.DataFrame({
        "name": name,
        "step": np.repeat(steps + 1, len(units)),
        "token": np.repeat(np.asarray(layer.tokens, dtype=object), len(units)),
        "label": np.repeat(np.asarray(labels, dtype=object), len(units)),
        "unit": np.tile(np.asarray(units) + 1, layer.steps),
        "value": layer.values[name][:, units].astype(float).reshape(-1),
    }) for name in names]
    return pd.concat(frames, ignore_index=True)


def _inline(data: pd.DataFrame) -> dict:
    """`data` as inline values, past Altair's 5,000-row check (`MAX_RECTS` bounds it here)."""
    return {"values": alt.utils.data.to_values(data)["values"]}


def panel_width(steps: int, room: int) -> int:
    """A panel's plot width: STEP_PX a step, at least PANEL_MIN, at most what `room` (the
    pixels the caller has) leaves beside the unit axis."""
    return int(max(PANEL_MIN, min(STEP_PX * steps, room - AXIS_PX)))


def _panel(base: alt.Chart, layer, name: str, labels: list[str], height: int,
           width: int) -> alt.Chart:
    """One gate's heatmap: steps (columns) x units (rows), coloured on the gate's scale,
    its legend underneath so panels sit side by side in a narrow column."""
    return base.transform_filter(alt.datum.name == name).mark_rect().encode(
        x=alt.X("label:N", sort=labels, title="step (token)",
                axis=alt.Axis(labelAngle=-45 if len(labels) > 4 else 0, labelOverlap=True)),
        y=alt.Y("unit:O", sort="ascending", title="unit"),
        color=alt.Color("value:Q", scale=_scale(layer, name), title=None,
                        legend=alt.Legend(orient="bottom", direction="horizontal",
                                          gradientLength=max(80, width - 20))),
        tooltip=[alt.Tooltip("step:O"), alt.Tooltip("token:N"), alt.Tooltip("unit:O"),
                 alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=width, height=height, title=title(f"{name} — {SHORT[name]}"))


def gate_heatmaps(layer, units: range | None = None,
                  names: tuple[str, ...] | None = None, room: int = ROOM) -> alt.ConcatChart:
    """One heatmap per gate or state of `layer` (all, in order, unless `names`), steps in
    reading order across, `units` (0-based; default the first 32) down, as many panels a
    row (at most 3) as fit in `room` pixels.

    ValueError for an unknown name or unit, or when the panels would draw over
    `MAX_RECTS` cells (the caller then picks fewer units).
    """
    names, units = _check_names(layer, names), _check_units(layer, units)
    if layer.steps * len(units) * len(names) > MAX_RECTS:
        raise ValueError(f"{layer.steps} steps x {len(units)} units x {len(names)} panels "
                         f"is over {MAX_RECTS:,} cells; pick fewer units.")
    labels, height = step_labels(layer), heatmap_height(len(units), ROW_MIN)
    width = panel_width(len(labels), room)
    columns = int(max(1, min(PANEL_COLUMNS, room // (width + AXIS_PX + GAP_PX))))
    panels = [_panel(alt.Chart(), layer, n, labels, height, width) for n in names]
    return alt.concat(*panels, columns=columns,
                      data=_inline(gate_rows(layer, names, units))).resolve_scale(
        color="independent").properties(autosize=alt.AutoSizeParams(**CONCAT_AUTOSIZE))


def keep_rows(layers) -> pd.DataFrame:
    """One row per layer and step: layer (its title), step (1-based), token, keep (the mean
    over units of the keep gate: f for an LSTM, z for a GRU)."""
    rows = [{"layer": x.title, "step": t + 1, "token": x.tokens[t],
             "keep": float(x.values[KEEP[x.cell]][t].astype(np.float64).mean())}
            for x in layers for t in range(x.steps)]
    return pd.DataFrame(rows, columns=["layer", "step", "token", "keep"])


def keep_summary(layers, height: int = 220) -> alt.LayerChart:
    """How much of its memory each layer keeps at each step: the keep gate's mean over
    units, one line per layer (encoder and decoder layers may come together)."""
    layers = list(layers)
    cells = {x.cell for x in layers}
    if len(cells) != 1:
        raise ValueError("Give the layers of one model (one kind of cell).")
    titles = [x.title for x in layers]
    base = alt.Chart(keep_rows(layers)).encode(
        x=alt.X("step:O", title="step within the layer", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("keep:Q", scale=alt.Scale(domain=[0, 1]), title=KEEP_TITLE[cells.pop()]),
        color=alt.Color("layer:N", sort=titles, title="layer", legend=LEGEND_LINES),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("step:O"), alt.Tooltip("token:N"),
                 alt.Tooltip("keep:Q", format=".3f", title="mean")])
    return sized(base.mark_line() + base.mark_point(filled=True, size=50), plot_height(height))


def unit_lines(layer, name: str, units: list[int], chosen: list[int],
               height: int = 220) -> alt.LayerChart:
    """`name` of each of `units` (0-based) over the steps, the `chosen` steps (0-based)
    shaded behind the lines."""
    _check_names(layer, (name,))
    units = _check_units(layer, units)
    chosen = sorted({int(s) for s in chosen})
    if chosen and (chosen[0] < 0 or chosen[-1] >= layer.steps):
        raise ValueError(f"Pick steps from 0 to {layer.steps - 1} (0-based).")
    labels = step_labels(layer)
    data = gate_rows(layer, (name,), units)
    data["series"] = [f"unit {u}" for u in data["unit"]]
    shade = pd.DataFrame({"label": [labels[t] for t in chosen], "step": [t + 1 for t in chosen]})
    x = alt.X("label:N", sort=labels, title="step (token)",
              axis=alt.Axis(labelAngle=-45 if len(labels) > 6 else 0))
    back = alt.Chart(shade).mark_rect(color=SHADE, opacity=0.8).encode(x=x)
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=x, y=alt.Y("value:Q", scale=alt.Scale(domain=domain(layer, name)), title=name),
        color=alt.Color("series:N", sort=[f"unit {u + 1}" for u in units], title="unit"),
        tooltip=[alt.Tooltip("series:N", title="unit"), alt.Tooltip("step:O"),
                 alt.Tooltip("token:N"), alt.Tooltip("value:Q", format=".3f")])
    return sized(back + lines, plot_height(height), f"{name} — {SHORT[name]}")


def saturation_curve(rows, height: int = 220) -> alt.LayerChart:
    """Share of each watched input's gate values that have decided (under 0.1 or over 0.9)
    against samples seen; rows without a number are left out."""
    data = pd.DataFrame(list(rows), columns=["samples", "input", "saturation"])
    data = data.dropna(subset=["saturation"]).astype({"saturation": float})
    base = alt.Chart(data).encode(
        x=alt.X("samples:Q", title="samples seen", axis=alt.Axis(format="~s")),
        y=alt.Y("saturation:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
                title="share of gate values"),
        color=alt.Color("input:N", title="input", legend=LEGEND_LINES),
        tooltip=[alt.Tooltip("samples:Q", format=",.0f"), alt.Tooltip("input:N"),
                 alt.Tooltip("saturation:Q", format=".1%")])
    low, high = SATURATED
    return sized(base.mark_line() + base.mark_point(filled=True), plot_height(height),
                 f"gate values below {low} or above {high}")


# ---- the diagram of one step -------------------------------------------------------------------
WIDTH, HEIGHT = 640, 300
RAIL, GATE_Y, BUS = 62, 188, 272   # y of the memory rail, the gate boxes' tops, the input bus
FONT = "font-family='sans-serif'"
WHITE, NEGATIVE = (255, 255, 255), (201, 42, 42)
POSITIVE = tuple(int(ACCENT[i:i + 2], 16) for i in (1, 3, 5))


def _mix(colour: tuple, share: float) -> str:
    share = min(max(float(share), 0.0), 1.0)
    return "#" + "".join(f"{round(w + (c - w) * share):02x}" for w, c in zip(WHITE, colour))


def _fill(value: float, sigmoid: bool) -> str:
    """White at 0 to blue at 1 (sigmoid) or red at -1 .. white .. blue at 1 (others)."""
    if sigmoid:
        return _mix(POSITIVE, value)
    return _mix(POSITIVE if value >= 0 else NEGATIVE, abs(value))


def _text(x, y, text: str, size: int = 12, anchor: str = "middle", bold: bool = False,
          colour: str = "#212529") -> str:
    weight = " font-weight='bold'" if bold else ""
    return (f"<text x='{x}' y='{y}' font-size='{size}' text-anchor='{anchor}' fill='{colour}' "
            f"{FONT}{weight}>{escape(text)}</text>")


def _box(cx, y, label: str, value: float, sigmoid: bool = False, w: int = 84) -> str:
    """A box centred on `cx` from `y` down, coloured by `value`: its label over its number."""
    fill = _fill(value, sigmoid)
    ink = "white" if (value if sigmoid else abs(value)) > 0.6 else "#212529"
    return (f"<rect x='{cx - w / 2}' y='{y}' width='{w}' height='40' rx='6' fill='{fill}' "
            f"stroke='#495057' stroke-width='1.5'/>"
            + _text(cx, y + 16, label, 12, colour=ink, bold=True)
            + _text(cx, y + 33, number(value), 13, colour=ink))


def _node(cx, cy, symbol: str) -> str:
    return (f"<circle cx='{cx}' cy='{cy}' r='13' fill='white' stroke='#495057' "
            f"stroke-width='1.5'/>" + _text(cx, cy + 5, symbol, 16, bold=True))


def _line(*points, arrow: bool = True) -> str:
    path = " ".join(f"{x},{y}" for x, y in points)
    end = " marker-end='url(#arrow)'" if arrow else ""
    return (f"<polyline points='{path}' fill='none' stroke='#495057' stroke-width='1.8'"
            f"{end}/>")


def _note(x, y, label: str, value: float, anchor: str = "start") -> str:
    """A product written beside its node: its name over '= number'."""
    return _text(x, y, label, 11, anchor) + _text(x, y + 14, f"= {number(value)}", 11, anchor)


def _inputs(t: dict, gates_x: list[int]) -> list[str]:
    """x(t) and h(t-1) at the bottom left, joined on a bus that feeds every gate box."""
    plain = ("<rect x='12' y='180' width='80' height='40' rx='6' fill='#f1f3f5' "
             "stroke='#495057' stroke-width='1.5'/>")
    parts = [plain, _text(52, 196, "x(t)", 12, bold=True), _text(52, 213, "input", 11),
             _box(52, 244, "h(t−1)", t["h_prev"], w=80),
             _line((92, 200), (112, BUS), arrow=False), _line((92, 264), (112, BUS), arrow=False),
             _line((112, BUS), (max(gates_x), BUS), arrow=False)]
    return parts + [_line((x, BUS), (x, GATE_Y + 42)) for x in gates_x]


def _lstm(t: dict) -> list[str]:
    """c(t) = f·c(t-1) + i·g on the top rail; h(t) = o·tanh(c(t)) on the right."""
    return [
        _box(56, RAIL - 20, "c(t−1)", t["c_prev"]), _line((98, RAIL), (155, RAIL)),
        _node(170, RAIL, "×"), _line((183, RAIL), (290, RAIL)),
        _node(305, RAIL, "+"), _line((318, RAIL), (538, RAIL)),
        _box(582, RAIL - 20, "c(t)", t["c"]), _note(162, 104, "kept f·c(t−1)", t["kept"], "end"),
        _box(170, GATE_Y, "σ (f)", t["f"], True, 70), _line((170, GATE_Y), (170, RAIL + 15)),
        _box(255, GATE_Y, "σ (i)", t["i"], True, 70), _line((255, GATE_Y), (294, 135)),
        _box(355, GATE_Y, "tanh (g)", t["g"], False, 70), _line((355, GATE_Y), (316, 135)),
        _node(305, 125, "×"), _line((305, 112), (305, RAIL + 15)),
        _note(314, 100, "written i·g", t["written"]),
        _line((480, RAIL), (480, 92)), _box(480, 94, "tanh c(t)", t["tanh_c"], w=78),
        _line((480, 134), (480, 140)), _node(480, 155, "×"),
        _box(480, GATE_Y, "σ (o)", t["o"], True, 70), _line((480, GATE_Y), (480, 170)),
        _line((493, 155), (538, 155)), _box(582, 135, "h(t)", t["h"]),
        *_inputs(t, [170, 255, 355, 480])]


def _gru(t: dict) -> list[str]:
    """h(t) = z·h(t-1) + (1−z)·candidate, the candidate reading r·h(t-1)."""
    return [
        _box(56, RAIL - 20, "h(t−1)", t["h_prev"]), _line((98, RAIL), (175, RAIL)),
        _node(190, RAIL, "×"), _line((203, RAIL), (415, RAIL)),
        _node(430, RAIL, "+"), _line((443, RAIL), (538, RAIL)),
        _box(582, RAIL - 20, "h(t)", t["h"]), _note(198, 100, "kept z·h(t−1)", t["kept"]),
        _box(190, GATE_Y, "σ (z)", t["z"], True, 70), _line((190, GATE_Y), (190, RAIL + 15)),
        _line((190, 145), (262, 145)), _box(300, 125, "1−z", 1 - t["z"], True, 70),
        _line((335, 145), (415, 145)), _node(430, 145, "×"),
        _line((430, 132), (430, RAIL + 15)),
        _note(440, 100, "written (1−z)·candidate", t["written"]),
        _box(300, GATE_Y, "σ (r) reset", t["r"], True, 84),
        _line((342, GATE_Y + 20), (373, GATE_Y + 20)),
        _box(430, GATE_Y, "tanh (candidate)", t["candidate"], False, 110),
        _line((430, GATE_Y), (430, 160)),
        *_inputs(t, [190, 300, 430])]


def cell_diagram(sm, layer_title: str = "") -> str:
    """A self-contained SVG of one unit's step (a `gates.SlowMotion`): the cell's data flow
    with every term's number, gate boxes shaded by how open they are. Text is escaped."""
    heading = f"step {sm.step + 1} ({short_label(sm.token)}), unit {sm.unit + 1}"
    heading = f"{heading} — {layer_title}" if layer_title else heading
    parts = _lstm(sm.terms) if sm.cell == "lstm" else _gru(sm.terms)
    arrow = ("<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
             "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#495057'/>"
             "</marker></defs>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' "
            f"width='{WIDTH}' height='{HEIGHT}' role='img'>{arrow}"
            f"<rect width='{WIDTH}' height='{HEIGHT}' fill='white'/>"
            + _text(12, 20, heading, 14, "start", True, HIGHLIGHT) + "".join(parts) + "</svg>")


__all__ = ["cell_diagram", "domain", "gate_heatmaps", "gate_rows", "keep_rows", "keep_summary",
           "saturation_curve", "step_labels", "unit_lines"]
