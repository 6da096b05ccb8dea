"""Charts and tables of the what-if views: a forced decode beside the greedy one, and points
moved or found on the map of final states. Pure functions (no streamlit); heights follow
`seq2seq_core.charts.sizing`.
"""
from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from .inspection import ACCENT, HIGHLIGHT, paired_steps, projection_rows
from .sizing import plot_height, sized

SERIES = {"original (greedy)": ACCENT, "what-if": HIGHLIGHT}
LABELLED_STEPS = 24  # up to this many steps the chart writes each token above its bar


def _top(step) -> str:
    """A step's top-k as one line: '9 95%  8 5%  5 <1%'."""
    return "  ".join(f"{label} {p:.0%}" if p >= 0.005 else f"{label} <1%"
                     for label, p in step.top)


def forced_rows(forced) -> pd.DataFrame:
    """One row per output step of a `whatif.Forced`: the original and the what-if token with
    their probabilities (None past the end of that output), the what-if step's top-k,
    `forced` (the forced step) and `differs` (the two tokens differ)."""
    rows = []
    for t in range(max(len(forced.original), len(forced.steps))):
        a = forced.original[t] if t < len(forced.original) else None
        b = forced.steps[t] if t < len(forced.steps) else None
        rows.append({
            "step": t + 1,
            "original": a.token if a else "", "original p": a.probability if a else None,
            "what-if": b.token if b else "", "what-if p": b.probability if b else None,
            "what-if top-k": _top(b) if b else "",
            "forced": t + 1 == forced.step,
            "differs": (a.token_id if a else None) != (b.token_id if b else None),
        })
    return pd.DataFrame(rows)


def forced_table(forced) -> pd.DataFrame:
    """The table a person reads: step | original | p | what-if | p | what-if top-k."""
    return forced_rows(forced).drop(columns=["forced", "differs"])


def forced_chart(forced, height: int = 240) -> alt.LayerChart:
    """Each step's probability of the token written, original beside what-if, with the
    forced step shaded; tokens are written above the bars when there are few steps."""
    rows = forced_rows(forced)
    data = pd.concat([
        pd.DataFrame({"step": rows["step"], "series": name, "token": rows[col],
                      "probability": rows[f"{col} p"]})
        for name, col in zip(SERIES, ("original", "what-if"))]).dropna(subset=["probability"])
    data["probability"] = data["probability"].astype(float)
    base = paired_steps(data, "series", SERIES, tooltip=[
        alt.Tooltip("step:O"), alt.Tooltip("series:N"), alt.Tooltip("token:N"),
        alt.Tooltip("probability:Q", format=".1%")])
    shade = alt.Chart(pd.DataFrame({"step": [forced.step]})).mark_rect(
        opacity=0.15, color=HIGHLIGHT).encode(x="step:O")
    layers = [shade, base.mark_bar(opacity=0.9)]
    n = int(rows["step"].max()) if len(rows) else 1
    if n <= LABELLED_STEPS:
        layers.append(base.mark_text(dy=-10, fontSize=15 if n <= 12 else 11,
                                     fontWeight="bold").encode(text="token:N"))
    return sized(alt.layer(*layers), plot_height(height),
                 f"Forced '{forced.token}' at step {forced.step}")


# ---- the map of final states with marked points ------------------------------------------------
def _map(projection) -> alt.Chart:
    """The map's dots, paler than on the encoder view so the marked points stand out."""
    data = projection_rows(projection)
    explained = np.asarray(projection.explained, dtype=float)
    pcs = [f"PC{i + 1} ({explained[i]:.0%} of variance)" if i < len(explained) else f"PC{i + 1}"
           for i in range(2)]
    prop = projection.property_name
    return alt.Chart(data).mark_circle(size=45, opacity=0.45).encode(
        x=alt.X("x:Q", title=pcs[0]), y=alt.Y("y:Q", title=pcs[1]),
        color=alt.Color("value:Q", title=prop, scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("input:N"), alt.Tooltip("value:Q", title=prop)])


def _xy(point) -> tuple[float, float]:
    p = np.asarray(point, dtype=float).reshape(-1)
    return float(p[0]), float(p[1]) if len(p) > 1 else 0.0


def marks_rows(points: Sequence, labels: Sequence[str], roles: Sequence[str]) -> pd.DataFrame:
    """Marked points on the map: x, y, label, role."""
    xy = [_xy(p) for p in points]
    return pd.DataFrame({"x": [a for a, _ in xy], "y": [b for _, b in xy],
                         "label": list(labels), "role": list(roles)})


def _middle(projection, marks: pd.DataFrame) -> float:
    """The x halfway across the map, so labels can point inwards and stay on it."""
    xs = np.concatenate([np.asarray(projection.coords, dtype=float)[:, 0], marks["x"]])
    return float((xs.min() + xs.max()) / 2) if len(xs) else 0.0


def _labels(data: pd.DataFrame, middle: float, dy: int, **style) -> list[alt.Chart]:
    """Each point's label beside it, on the side facing the middle of the map."""
    sides = ((data[data["x"] <= middle], "left", 14), (data[data["x"] > middle], "right", -14))
    return [alt.Chart(part).mark_text(align=align, dx=dx, dy=dy, **style).encode(
                x="x:Q", y="y:Q", text="label:N") for part, align, dx in sides if len(part)]


def _diamond(data: pd.DataFrame, title: str, middle: float) -> list[alt.Chart]:
    star = alt.Chart(data).mark_point(shape="diamond", size=380, filled=True, color=HIGHLIGHT,
                                      stroke="black", strokeWidth=1.5, opacity=1).encode(
        x="x:Q", y="y:Q", tooltip=[alt.Tooltip("label:N", title=title)])
    return [star, *_labels(data, middle, -10, fontSize=15, fontWeight="bold", color=HIGHLIGHT)]


def moved_state_map(projection, before, after, before_label: str, after_label: str,
                    height: int = 380) -> alt.LayerChart:
    """The map of final states with the input's point before an edit (black ring) and after
    it (orange diamond), joined by a line."""
    marks = marks_rows([before, after], [before_label, after_label], ["before", "after"])
    middle = _middle(projection, marks)
    line = pd.DataFrame({"x": [marks.x[0]], "y": [marks.y[0]],
                         "x2": [marks.x[1]], "y2": [marks.y[1]]})
    rule = alt.Chart(line).mark_rule(color="black", strokeWidth=2.5, strokeDash=[6, 3]).encode(
        x="x:Q", y="y:Q", x2="x2:Q", y2="y2:Q")
    ring = alt.Chart(marks.iloc[:1]).mark_point(shape="circle", size=320, filled=False,
                                                color="black", strokeWidth=3).encode(
        x="x:Q", y="y:Q", tooltip=[alt.Tooltip("label:N", title="before the edit")])
    layers = [_map(projection), rule, ring,
              *_labels(marks.iloc[:1], middle, 14, fontSize=14, color="black"),
              *_diamond(marks.iloc[1:], "after the edit", middle)]
    return sized(alt.layer(*layers), plot_height(height))


def neighbours_map(projection, typed, typed_label: str, neighbours: Sequence,
                   labels: Sequence[str], height: int = 380) -> alt.LayerChart:
    """The map of final states with the typed input (orange diamond) and its nearest
    examples (black rings numbered by rank), each joined to it by a thin line."""
    near = marks_rows(neighbours, labels, ["neighbour"] * len(neighbours))
    near["rank"] = np.arange(1, len(near) + 1)
    you = marks_rows([typed], [typed_label], ["typed"])
    near["x2"], near["y2"] = you.x[0], you.y[0]
    base = alt.Chart(near).encode(x="x:Q", y="y:Q")
    lines = base.mark_rule(color="black", opacity=0.35).encode(x2="x2:Q", y2="y2:Q")
    rings = base.mark_point(shape="circle", size=220, filled=False, color="black",
                            strokeWidth=2).encode(
        tooltip=[alt.Tooltip("rank:O"), alt.Tooltip("label:N", title="input")])
    ranks = base.mark_text(dx=11, dy=-11, fontSize=12, color="black").encode(text="rank:O")
    layers = [_map(projection), lines, rings, ranks,
              *_diamond(you, "your input", _middle(projection, you))]
    return sized(alt.layer(*layers), plot_height(height))


def neighbours_table(neighbours: Sequence) -> pd.DataFrame:
    """One row per `neighbours.Neighbour`: rank, input, the model's output, expected output,
    distance and whether the output is right (✓/✗)."""
    return pd.DataFrame({
        "rank": np.arange(1, len(neighbours) + 1),
        "input": [n.input for n in neighbours],
        "model's output": [n.output for n in neighbours],
        "expected": [n.expected for n in neighbours],
        "distance": [float(n.distance) for n in neighbours],
        "right": ["✓" if n.output == n.expected else "✗" for n in neighbours],
    })


__all__ = ["forced_chart", "forced_rows", "forced_table", "marks_rows", "moved_state_map",
           "neighbours_map", "neighbours_table"]
