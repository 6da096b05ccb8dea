"""The sizing rule of every chart: `height` is the plot area (autosize "fit-x", which
Streamlit keeps), at least PLOT_MIN px for line/bar charts and ROW_MIN px per heatmap row;
titles fit the narrowest column and a missing value reads "—"."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from seq2seq_core.charts import experiments, inspection, study, training
from seq2seq_core.charts.sizing import (
    AUTOSIZE,
    MISSING,
    PLOT_MIN,
    ROW_MIN,
    TITLE_CHARS,
    text_or_missing,
)
from seq2seq_core.decoding import Step, Trace
from seq2seq_core.inspection import Projection
from seq2seq_core.strategies import ForcingRow
from seq2seq_core.training import ChunkRecord

LONG = "reverse digits, 3 layers bidirectional LSTM with attention, lr 0.003 run"


def curves(runs: int) -> pd.DataFrame:
    rows = [{"run_id": r + 1, "name": f"{LONG[:55]} {r}", "chunk": c, "samples_seen": c * 640 * (r + 1),
                 "train_seconds": c * 3.5, "train_loss": 2.5 / c, "val_loss": 2.7 / c, "token_accuracy": c / 10,
                 "val_token_accuracy": c / 10, "exact_match": np.nan if c == 1 else c / 10,
                 "samples_per_second": 1800.0}
            for r in range(runs) for c in range(1, 11)]
    return pd.DataFrame(rows)


def sweep(rows: int) -> pd.DataFrame:
    out = []
    for i, cx in enumerate([2, 3, 4, 5][:rows]):
        for j, u in enumerate([16, 32, 64]):
            missing = (i + j) % 3 == 1
            out.append({"cell": len(out), "complexity": cx, "units": u, "params": 10 * u,
                            "exact_match": np.nan if missing else 0.3 * j,
                            "token_accuracy": 0.5, "train_seconds": np.nan if missing else 10.0 * j,
                            "samples_seen": 100, "reached": None if missing else j == 2,
                            "status": "stopped" if missing else "done", "reason": None,
                            "run_id": len(out) + 1})
    frame = pd.DataFrame(out)
    if rows > 1:  # a cell the stopped sweep never trained
        frame = frame.iloc[:-1]
    frame.attrs.update(complexity_key="digits", complexity_label="number of digits")
    return frame


def history(chunks: int = 5) -> list[ChunkRecord]:
    return [ChunkRecord(chunk=c, samples_seen=c * 40, train_seconds=float(c),
                        batch_losses=(3.0 / c, 2.9 / c), batch_accuracies=(0.1, 0.2),
                        train_loss=3.0 / c, token_accuracy=0.5, val_loss=3.3 / c,
                        val_token_accuracy=c / chunks, exact_match=c / chunks / 2,
                        samples_per_second=40.0) for c in range(1, chunks + 1)]


TOP = (("3", 0.6), ("7", 0.2), ("1", 0.1), ("9", 0.06), ("⟨end⟩", 0.04))
STEPS = tuple(Step(i, "3", 2, 0.6, TOP, np.zeros(4, np.float32), "3") for i in range(4))
TOKENS = ("1", "2", "3", "4", "5")


def trace(units: int = 8) -> Trace:
    hidden = np.random.default_rng(0).uniform(-1, 1, (1, len(TOKENS), units)).astype(np.float32)
    return Trace("1 2 3 4 5", TOKENS, "3 3 3 3", "5 4 3 2", STEPS, hidden, hidden * 3,
                 {"h": hidden[-1, -1], "c": hidden[-1, -1]})


ATTENTION = np.full((4, 5), 0.2)
FORCING = [ForcingRow(s, "1", "0", "1", 0.9, "0", "2", 0.5) for s in (1, 2, 3)]
PROJECTION = Projection(np.random.default_rng(1).normal(size=(20, 2)), np.array([0.4, 0.2]),
                        [f"in {i}" for i in range(20)], np.arange(20.0), "first integer",
                        np.zeros(4), np.eye(2, 4))
STUDY = pd.DataFrame({"variant": ["no attention"] * 2 + ["attention"] * 2, "length": [4, 8] * 2,
                      "exact_match": [1.0, 0.5, 1.0, 0.9], "samples": 100, "train_seconds": 3.0})

LINE_AND_BAR = {
    "overlay 1 run": lambda: experiments.overlay_chart(curves(1)),
    "overlay 8 runs": lambda: experiments.overlay_chart(curves(8), "val_loss", "train_seconds"),
    "loss": lambda: training.loss_chart(history()),
    "accuracy": lambda: training.accuracy_chart(history()),
    "study": lambda: study.exact_match_chart(STUDY, ["no attention", "attention"]),
    "step probabilities": lambda: inspection.step_probabilities(STEPS[1]),
    "final state": lambda: inspection.final_state(trace().final_state["h"], "final h"),
    "projection": lambda: inspection.projection_scatter(PROJECTION, np.array([0.1, 0.2]), "1 2"),
    "per position": lambda: inspection.per_position_accuracy([1.0, 0.5, np.nan]),
    "attention step": lambda: inspection.attention_step(ATTENTION[0], TOKENS, "step 1"),
    "strategies": lambda: inspection.strategy_probabilities(strategies()),
    "forcing": lambda: inspection.forcing_chart(FORCING, diverges_at=2),
}
# chart, number of rows it draws
HEATMAPS = {
    "sweep 1 row": (lambda: experiments.sweep_heatmap(sweep(1)), 1),
    "sweep 2 rows": (lambda: experiments.sweep_heatmap(sweep(2), "train_seconds"), 2),
    "sweep 4 rows": (lambda: experiments.sweep_heatmap(sweep(4)), 4),
    "steps overview": (lambda: inspection.steps_overview(trace(), 1), len(TOP)),
    # a state heatmap has one row per input step; its units share the width
    "state 8 units": (lambda: inspection.state_heatmap(trace(8).encoder_hidden[0], TOKENS),
                      len(TOKENS)),
    "state 256 units": (lambda: inspection.state_heatmap(trace(256).encoder_hidden[0], TOKENS),
                        len(TOKENS)),
    "attention": (lambda: inspection.attention_heatmap(ATTENTION, TOKENS, TOKENS[:4], 1), 4),
    "attended input": (lambda: inspection.attended_input(ATTENTION[0], TOKENS), 1),
}


def strategies():
    from seq2seq_core.strategies import Decoded
    return [Decoded("greedy", "a b", 0.3, math.log(0.3), (0.6,)),
            Decoded("sampling", "", math.nan, math.nan, (0.1,))]


def spec_of(make) -> dict:
    return make().to_dict()


def texts(value):
    """Every string in a spec (data values, titles, labels), recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from texts(v)


def title_lines(spec: dict) -> list[str]:
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return [text] if isinstance(text, str) else list(text or [])


ALL = {**LINE_AND_BAR, **{k: make for k, (make, _) in HEATMAPS.items()}}


@pytest.mark.parametrize("name", ALL)
def test_every_chart_sizes_its_plot_area_and_streamlit_keeps_the_rule(name):
    from streamlit.elements.vega_charts import _prepare_vega_lite_spec

    spec = spec_of(ALL[name])
    assert spec["autosize"] == AUTOSIZE
    assert _prepare_vega_lite_spec(spec, True)["autosize"] == AUTOSIZE
    assert isinstance(spec["height"], int)


@pytest.mark.parametrize("name", LINE_AND_BAR)
def test_line_and_bar_charts_get_a_plot_area_of_at_least_plot_min(name):
    assert spec_of(LINE_AND_BAR[name])["height"] >= PLOT_MIN


def test_a_small_height_is_raised_to_plot_min_and_legends_do_not_take_from_it():
    assert experiments.overlay_chart(curves(1), height=40).to_dict()["height"] == PLOT_MIN
    heights = {experiments.overlay_chart(curves(n)).to_dict()["height"] for n in (1, 3, 8)}
    assert len(heights) == 1
    loss, accuracy = training.live_specs(history(), height=20)
    assert loss["height"] == accuracy["height"] == PLOT_MIN
    assert loss["autosize"] == accuracy["autosize"] == AUTOSIZE


@pytest.mark.parametrize("name", HEATMAPS)
def test_heatmap_rows_are_at_least_row_min_tall(name):
    make, rows = HEATMAPS[name]
    spec = spec_of(make)
    assert spec["height"] >= ROW_MIN * rows
    assert spec["height"] / rows >= ROW_MIN


def test_sweep_rows_leave_room_for_the_cell_labels():
    for n in (1, 2, 4):
        assert experiments.sweep_heatmap(sweep(n)).to_dict()["height"] == \
            n * experiments.SWEEP_ROW
    assert experiments.sweep_heatmap(sweep(1), height=300).to_dict()["height"] == 300


@pytest.mark.parametrize("name", ALL)
def test_titles_fit_the_narrowest_column(name):
    lines = title_lines(spec_of(ALL[name]))
    assert all(len(line) <= TITLE_CHARS for line in lines), lines


@pytest.mark.parametrize("name", ALL)
def test_no_chart_writes_nan(name):
    spec = spec_of(ALL[name])
    for dataset in spec.get("datasets", {}).values():
        for row in dataset:
            for value in row.values():
                assert not (isinstance(value, str) and "nan" in value.lower()), row
    assert not [t for t in texts({k: v for k, v in spec.items() if k != "datasets"})
                if t.lower() in ("nan", "nan%")]


@pytest.mark.parametrize("metric", ["exact_match", "train_seconds"])
def test_sweep_heatmap_draws_every_cell_and_writes_a_dash_where_a_value_is_missing(metric):
    results = sweep(2)  # 6 cells, one never trained, two stopped without a value
    spec = experiments.sweep_heatmap(results, metric).to_dict()
    (rows,) = spec["datasets"].values()
    assert {(r["complexity"], r["units"]) for r in rows} == \
        {(c, u) for c in (2, 3) for u in (16, 32, 64)}
    by_cell = {(r["complexity"], r["units"]): r["text"] for r in rows}
    assert by_cell[(3, 64)] == MISSING   # never trained
    assert by_cell[(2, 32)] == MISSING   # stopped, no value
    assert all("nan" not in t for t in by_cell.values())
    if metric == "train_seconds":
        assert by_cell[(2, 64)] == "20 s"          # reached
        assert by_cell[(2, 16)] == ">0 s"          # not reached after 0 s of training
    else:
        assert by_cell[(2, 64)] == "60%"


def test_legends_wrap_long_labels_instead_of_cutting_them():
    spec = experiments.overlay_chart(curves(8)).to_dict()
    legend = spec["encoding"]["color"]["legend"]
    assert legend["labelLimit"] == 0 and "split(" in legend["labelExpr"]
    assert legend["columns"] == 1
    runs = {r["run"] for r in next(iter(spec["datasets"].values()))}
    assert any(len(r) > 50 for r in runs)  # the data keeps the full names, for tooltips


def test_text_or_missing():
    assert text_or_missing(math.nan, "{:.0%}") == MISSING
    assert text_or_missing(None) == MISSING
    assert text_or_missing(np.float64("nan"), "{:.1f}") == MISSING
    assert text_or_missing(0.5, "{:.0%}") == "50%"
    assert text_or_missing("abc") == "abc"


def test_live_spec_json_has_the_sizing_rule():
    loss, _ = training.live_specs(history())
    assert json.loads(json.dumps(loss))["autosize"] == AUTOSIZE


def test_time_heatmap_has_no_legend_when_no_cell_reached_the_target():
    """A colour legend over no values would read "NaN" in the browser."""
    frame = sweep(1).assign(reached=False)
    spec = experiments.sweep_heatmap(frame, "train_seconds").to_dict()
    colors = [layer["encoding"]["color"] for layer in spec["layer"]
              if "color" in layer.get("encoding", {})]
    assert colors and all(c.get("legend", "absent") in (None, "absent") or "condition" in c
                          for c in colors if c.get("field") == "shown")
    reached = experiments.sweep_heatmap(sweep(1), "train_seconds").to_dict()
    assert any(layer.get("encoding", {}).get("color", {}).get("legend") for layer in reached["layer"])
