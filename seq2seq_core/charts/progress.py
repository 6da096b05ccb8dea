"""How a run's outputs change chunk by chunk: the error at each output position, the
watched inputs' outputs, and a previous run laid under the curves. Pure functions of a
history (a sequence of ChunkRecord).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd

from .sizing import heatmap_height, sized

MAX_CHUNKS = 60       # heatmap columns: a longer run is thinned to this many chunks
WATCH_COLUMNS = 8     # watched-inputs table: chunk columns shown (the first, the latest ...)
LEARNED_ERROR = 0.05  # a position counts as learned once its error stays at or under this
ERROR_COLORS = ("#ffffff", "#f76707", "#a61e1e")  # no error (white) .. all wrong (dark red)


def thinned(count: int, most: int) -> list[int]:
    """Indexes 0..count-1, at most `most` of them evenly spaced, always the first and last."""
    if count <= most:
        return list(range(count))
    return sorted({int(round(x)) for x in np.linspace(0, count - 1, most)})


def position_errors(history: Sequence) -> pd.DataFrame:
    """One row per chunk and output position: chunk, samples, position (1-based), error.

    Chunks without per-position scores (older runs) and positions no scored example
    reached (NaN) are left out.
    """
    rows = [(rec.chunk, rec.samples_seen, pos + 1, 1.0 - acc)
            for rec in history for pos, acc in enumerate(rec.position_accuracy)
            if acc == acc]
    return pd.DataFrame(rows, columns=["chunk", "samples", "position", "error"])


def learned_at(errors: pd.DataFrame, threshold: float = LEARNED_ERROR) -> dict[int, int | None]:
    """For each position, the first chunk from which its error stays at or under
    `threshold` to the end of the run (None if it never does)."""
    out: dict[int, int | None] = {}
    for position, rows in errors.sort_values("chunk").groupby("position"):
        above = rows[rows["error"] > threshold]
        after = rows if above.empty else rows[rows["chunk"] > above["chunk"].max()]
        out[int(position)] = int(after["chunk"].min()) if len(after) else None
    return out


def learned_last(history: Sequence, unit: str = "token") -> str:
    """A sentence naming the output position learned last, or still unlearned ('' when the
    run has no per-position scores)."""
    errors = position_errors(history)
    if errors.empty or errors["chunk"].nunique() < 2:
        return ""
    when = learned_at(errors)
    last = errors[errors["chunk"] == errors["chunk"].max()].set_index("position")["error"]
    open_ = [p for p, c in when.items() if c is None]
    if open_:
        worst = max(open_, key=lambda p: last.get(p, 0.0))
        return (f"Still being learned: {unit} {worst} is wrong in {last.get(worst, 0.0):.0%} "
                f"of the scored outputs after the latest chunk"
                + (f" ({len(open_)} positions are above {LEARNED_ERROR:.0%} error)."
                   if len(open_) > 1 else "."))
    position = max(when, key=lambda p: (when[p], p))
    first = min(when, key=lambda p: (when[p], p))
    if when[position] == when[first]:
        return f"Every position was learned by chunk {when[position]}."
    return (f"{unit.capitalize()} {position} was learned last (its error stayed under "
            f"{LEARNED_ERROR:.0%} from chunk {when[position]} on); {unit} {first} was learned "
            f"first, by chunk {when[first]}.")


def position_heatmap(history: Sequence, unit: str = "token", height: int | None = None
                     ) -> alt.Chart:
    """Error rate by output position (rows) x training chunk (columns), white = right."""
    errors = position_errors(history)
    chunks = sorted(errors["chunk"].unique())
    keep = {chunks[i] for i in thinned(len(chunks), MAX_CHUNKS)}
    data = errors[errors["chunk"].isin(keep)]
    positions = int(data["position"].max()) if len(data) else 1
    chart = alt.Chart(data).mark_rect(stroke="#e9ecef", strokeWidth=0.5).encode(
        x=alt.X("chunk:O", title="training chunk",
                axis=alt.Axis(values=[chunks[i] for i in thinned(len(chunks), 12)]
                              if chunks else [], labelAngle=0)),
        y=alt.Y("position:O", title=f"output {unit}", sort="ascending"),
        color=alt.Color("error:Q", title="error",
                        # rgb: Vega's default hcl blend turns the white end peach
                        scale=alt.Scale(domain=[0, 0.5, 1], range=list(ERROR_COLORS),
                                        interpolate="rgb"),
                        legend=alt.Legend(format="%")),
        tooltip=[alt.Tooltip("chunk:O"), alt.Tooltip("samples:Q", format=",.0f"),
                 alt.Tooltip("position:O", title=unit), alt.Tooltip("error:Q", format=".1%")],
    )
    return sized(chart, height or heatmap_height(positions, 26),
                 "Error by output position over training")


def watched_table(history: Sequence, answer: Callable[[str], str | None] | None = None,
                  columns: int = WATCH_COLUMNS) -> pd.DataFrame:
    """Watched inputs (rows, in the order first watched) x chunks (columns): the output
    after each chunk, "" before the input was watched. A run with more chunks shows the
    first, the latest and evenly spaced ones between. With `answer`, an "expected" column
    and ✓/✗ after each output."""
    watched = [rec for rec in history if rec.watched]
    inputs = list(dict.fromkeys(text for rec in watched for text, _ in rec.watched))
    frame = pd.DataFrame({"input": inputs})
    expected = {text: answer(text) for text in inputs} if answer else {}
    if answer:
        frame["expected"] = [expected[t] if expected[t] is not None else "" for t in inputs]
    for i in thinned(len(watched), columns):
        rec = watched[i]
        outputs = dict(rec.watched)

        def shown(text: str) -> str:
            if text not in outputs:
                return ""
            out, want = outputs[text], expected.get(text)
            return out if want is None else f"{out} {'✓' if out == want else '✗'}"
        frame[f"chunk {rec.chunk}"] = [shown(t) for t in inputs]
    return frame


def with_previous(spec: dict, previous: dict, label: str = "previous run") -> dict:
    """A live chart's spec with a previous run's chunk curves laid under it, dashed grey.

    Both are `live_specs` output: the previous run's bold (per-chunk) series are copied
    into the spec as a dataset of their own and drawn first.
    """
    bold = previous.get("datasets", {}).get("bold", [])
    if not bold:
        return spec
    rows = [{**r, "series": f"{r['series']} ({label})"} for r in bold]
    first = spec["layer"][0]["encoding"]
    layer = {
        "data": {"name": "previous"},
        "mark": {"type": "line", "strokeDash": [5, 4], "strokeWidth": 2, "opacity": 0.8,
                 "color": "#868e96"},
        "encoding": {  # the same axes and scales as the run's own curves
            "x": copy.deepcopy(first["x"]), "y": copy.deepcopy(first["y"]),
            "detail": {"field": "series", "type": "nominal"},
            "tooltip": copy.deepcopy(first.get("tooltip", [])),
        },
    }
    out = {**spec, "datasets": {**spec["datasets"], "previous": rows}}
    out["layer"] = [layer, *spec["layer"]]
    return out
