"""The inspector's chart functions: each returns an Altair chart carrying the expected data."""
from __future__ import annotations

import altair as alt
import numpy as np
import pytest

from seq2seq_core.charts import inspection as charts
from seq2seq_core.decoding import Decoder, Step, Trace
from seq2seq_core.inspection import Projection
from seq2seq_core.strategies import ForcingRow


def datasets(chart) -> list[list[dict]]:
    """The inline data tables of a chart's Vega-Lite spec, in spec order."""
    spec = chart.to_dict()
    return list(spec.get("datasets", {}).values())


def only_rows(chart) -> list[dict]:
    tables = datasets(chart)
    assert len(tables) == 1
    return tables[0]


def make_step(index=1, token="b", top=(("b", 0.6), ("a", 0.3), ("c", 0.1)), so_far="a b"):
    return Step(index, token, 2, top[0][1], top, np.zeros(4, np.float32), so_far)


@pytest.fixture
def trace():
    rng = np.random.default_rng(0)
    steps = (make_step(0, "a", (("a", 0.9), ("b", 0.07), ("c", 0.03)), "a"),
             make_step(1, "b", (("b", 0.6), ("a", 0.3), ("c", 0.1)), "a b"))
    hidden = rng.uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    cell = rng.normal(0, 3, (2, 3, 4)).astype(np.float32)
    return Trace("x y x", ("x", "y", "x"), "a b", "a b", steps, hidden, cell,
                 {"h": hidden[-1, -1], "c": cell[-1, -1]})


def test_step_probabilities_rows_are_the_top_k_with_the_chosen_token_flagged():
    step = make_step()
    chart = charts.step_probabilities(step)
    assert isinstance(chart, alt.TopLevelMixin)
    rows = only_rows(chart)
    assert [(r["rank"], r["token"], r["probability"], r["chosen"]) for r in rows] == [
        (1, "b", 0.6, True), (2, "a", 0.3, False), (3, "c", 0.1, False)]
    spec = chart.to_dict()
    bars = spec["layer"][0]
    assert bars["encoding"]["color"]["condition"]["value"] == charts.HIGHLIGHT
    assert "Step 2" in spec["title"]["text"]


def test_step_chart_flags_a_chosen_token_that_is_not_ranked_first():
    step = make_step(token="a")
    rows = only_rows(charts.step_probabilities(step))
    assert [r["token"] for r in rows if r["chosen"]] == ["a"]


def test_steps_overview_has_a_cell_per_step_and_rank_and_marks_the_current_step(trace):
    rows = only_rows(charts.steps_overview(trace, current=1))
    assert len(rows) == 2 * 3
    assert {(r["step"], r["rank"]) for r in rows} == {(s, k) for s in (1, 2) for k in (1, 2, 3)}
    assert [r["token"] for r in rows if r["rank"] == 1] == ["a", "b"]
    assert all(r["chosen"] == (r["rank"] == 1) for r in rows)
    assert {r["step"] for r in rows if r["current"]} == {2}
    assert not any(r["current"] for r in only_rows(charts.steps_overview(trace)))


def test_state_heatmap_has_units_by_steps_cells_labelled_by_input_tokens(trace):
    matrix = trace.encoder_hidden[0]  # (steps, units)
    chart = charts.state_heatmap(matrix, trace.input_tokens, "Hidden state h", (-1, 1))
    rows = only_rows(chart)
    assert len(rows) == 3 * 4
    for r in rows:
        assert r["value"] == pytest.approx(float(matrix[r["step"], r["unit"]]))
        assert r["token"] == trace.input_tokens[r["step"]]
    spec = chart.to_dict()
    x = spec["encoding"]["y"]
    assert x["field"] == "step" and x["type"] == "ordinal"  # repeated tokens stay separate rows
    assert '["x", "y", "x"]' in x["axis"]["labelExpr"]
    assert spec["encoding"]["color"]["scale"]["domain"] == [-1, 1]
    assert spec["title"]["text"] == "Hidden state h"


def test_state_heatmap_colour_scale_is_symmetric_by_default(trace):
    matrix = trace.encoder_cell[1]
    spec = charts.state_heatmap(matrix, trace.input_tokens).to_dict()
    top = float(np.abs(matrix).max())
    assert spec["encoding"]["color"]["scale"]["domain"] == pytest.approx([-top, top])


def test_state_heatmap_rejects_labels_that_do_not_match_the_steps(trace):
    with pytest.raises(ValueError):
        charts.state_heatmap(trace.encoder_hidden[0], ["x", "y"])


def test_final_state_has_one_bar_per_unit(trace):
    vector = trace.final_state["h"]
    rows = only_rows(charts.final_state(vector, "final h", (-1, 1)))
    assert [r["unit"] for r in rows] == [0, 1, 2, 3]
    assert [r["value"] for r in rows] == pytest.approx(vector.tolist())


def projection(n=5):
    rng = np.random.default_rng(1)
    comps = np.eye(2, 4)
    return Projection(rng.normal(size=(n, 2)), np.array([0.5, 0.25]), [f"in {i}" for i in range(n)],
                      np.arange(n, dtype=float), "first integer", np.zeros(4), comps)


def test_projection_scatter_has_every_point_and_the_highlighted_input():
    proj = projection()
    chart = charts.projection_scatter(proj, np.array([0.5, -0.25]), "3 1 2")
    tables = datasets(chart)
    assert len(tables) == 2
    points, mark = tables
    assert [r["input"] for r in points] == proj.texts
    assert np.allclose([[r["x"], r["y"]] for r in points], proj.coords)
    assert [r["value"] for r in points] == [0, 1, 2, 3, 4]
    assert mark == [{"x": 0.5, "y": -0.25, "input": "3 1 2"}]
    spec = chart.to_dict()
    assert spec["layer"][0]["encoding"]["color"]["title"] == "first integer"
    assert "50%" in spec["layer"][0]["encoding"]["x"]["title"]


def test_projection_scatter_without_highlight_is_just_the_points():
    tables = datasets(charts.projection_scatter(projection()))
    assert len(tables) == 1 and len(tables[0]) == 5


def test_per_position_accuracy_has_one_bar_per_position():
    rows = only_rows(charts.per_position_accuracy(np.array([1.0, 0.75, 0.5])))
    assert [(r["position"], r["accuracy"]) for r in rows] == [(1, 1.0), (2, 0.75), (3, 0.5)]


def test_per_position_accuracy_drops_the_labels_when_there_are_many_positions():
    chart = charts.per_position_accuracy(np.linspace(0, 1, 30))
    assert len(only_rows(chart)) == 30
    assert "layer" not in chart.to_dict()


def test_charts_draw_a_real_trace():
    """The functions accept what the decoder really returns (float32 arrays, real labels)."""
    import seq2seq_core as sc

    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=6))
    tr = Decoder(model).trace("1 2 3", k=3)
    assert len(only_rows(charts.step_probabilities(tr.steps[0]))) == 3
    assert len(only_rows(charts.steps_overview(tr, 0))) == 3 * len(tr.steps)
    assert len(only_rows(charts.state_heatmap(tr.encoder_hidden[0], tr.input_tokens))) == 3 * 6
    assert len(only_rows(charts.final_state(tr.final_state["c"]))) == 6


# ---- attention, strategies, teacher forcing, the study -----------------------------------------
ATTENTION = np.array([[0.0, 0.1, 0.9, 0.0],
                      [0.0, 0.7, 0.2, 0.1],
                      [0.0, 0.05, 0.05, 0.9]])
INPUTS = ("⟨pad⟩", "x", "y", "x")
OUTPUTS = ("x", "y", "x")


def test_attention_heatmap_has_a_cell_per_output_and_input_step_without_padding():
    chart = charts.attention_heatmap(ATTENTION, INPUTS, OUTPUTS, current=1)
    tables = datasets(chart)
    cells = tables[0]
    assert len(cells) == 3 * 3  # the padding column is left out
    assert {r["in_step"] for r in cells} == {1, 2, 3}
    for r in cells:
        assert r["weight"] == pytest.approx(ATTENTION[r["out_step"], r["in_step"]])
        assert r["input"] == INPUTS[r["in_step"]] and r["output"] == OUTPUTS[r["out_step"]]
    assert {r["out_step"] for r in cells if r["current"]} == {1}
    # the current row is outlined by its own layer
    outline = [t for t in tables if t and all(r["current"] for r in t)]
    assert outline and {r["out_step"] for r in outline[0]} == {1}
    spec = chart.to_dict()
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == [0, 1] and color["legend"]["title"] == "attention"
    assert '"1": "x"' in spec["layer"][0]["encoding"]["x"]["axis"]["labelExpr"]
    assert '["x", "y", "x"]' in spec["layer"][0]["encoding"]["y"]["axis"]["labelExpr"]


def test_attention_heatmap_keeps_padding_when_asked_and_checks_its_labels():
    rows = datasets(charts.attention_heatmap(ATTENTION, INPUTS, OUTPUTS, drop_padding=False))[0]
    assert len(rows) == 12 and {r["input"] for r in rows if r["in_step"] == 0} == {"·"}
    with pytest.raises(ValueError):
        charts.attention_heatmap(ATTENTION, INPUTS[:3], OUTPUTS)
    with pytest.raises(ValueError):
        charts.attention_heatmap(ATTENTION[0], INPUTS, OUTPUTS)


def test_attention_step_has_one_bar_per_input_token_and_flags_the_strongest():
    rows = datasets(charts.attention_step(ATTENTION[1], INPUTS, "step 2"))[0]
    assert [(r["in_step"], r["input"]) for r in rows] == [(1, "x"), (2, "y"), (3, "x")]
    assert [r["weight"] for r in rows] == pytest.approx([0.7, 0.2, 0.1])
    assert [r["strongest"] for r in rows] == [True, False, False]


def test_attended_input_shades_each_token_by_its_weight():
    chart = charts.attended_input(ATTENTION[2], INPUTS)
    rows = datasets(chart)[0]
    assert [(r["input"], r["weight"]) for r in rows] == \
        [("x", pytest.approx(0.05)), ("y", pytest.approx(0.05)), ("x", pytest.approx(0.9))]
    color = chart.to_dict()["layer"][0]["encoding"]["color"]
    assert color["field"] == "weight" and color["scale"]["domain"] == [0, 1]
    with pytest.raises(ValueError):
        charts.attended_input(ATTENTION[2], INPUTS[:2])


def decoded():
    from seq2seq_core.strategies import Decoded
    return [Decoded("greedy", "a b", 0.3, np.log(0.3), (0.6, 0.5)),
            Decoded("beam search (width 3)", "b d", 0.36, np.log(0.36), (0.4, 0.9)),
            Decoded("sampling (T=1, seed 0)", "", 0.01, np.log(0.01), (0.01,))]


def test_strategy_probabilities_has_one_bar_per_strategy_in_order():
    chart = charts.strategy_probabilities(decoded())
    rows = only_rows(chart)
    assert [r["strategy"] for r in rows] == ["greedy", "beam search (width 3)",
                                             "sampling (T=1, seed 0)"]
    assert [r["probability"] for r in rows] == pytest.approx([0.3, 0.36, 0.01])
    assert rows[1]["label"] == "b d   36.0%" and rows[2]["label"].startswith("(empty)")
    assert chart.to_dict()["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 1]


def test_beam_grid_puts_each_steps_beams_side_by_side():
    rows = [{"step": 1, "rank": 1, "output so far": "a", "log probability": -0.5, "score": -0.5,
             "finished": False},
            {"step": 1, "rank": 2, "output so far": "b", "log probability": -0.9, "score": -0.9,
             "finished": False},
            {"step": 2, "rank": 1, "output so far": "b d", "log probability": -1.0,
             "score": -0.6, "finished": True}]
    grid = charts.beam_grid(rows)
    assert list(grid.columns) == ["step", "beam 1", "beam 2"]
    assert list(grid["step"]) == [1, 2]
    assert grid.loc[0, "beam 2"] == "b   (-0.90)"
    assert grid.loc[1, "beam 1"] == "b d   (-0.60) ✓" and grid.loc[1, "beam 2"] == ""
    assert list(charts.beam_grid([]).columns) == ["step"]


FORCING = [  # step, expected, then fed/predicted/probability forced, the same free running
    ForcingRow(1, "3", "⟨start⟩", "3", 0.9, "⟨start⟩", "3", 0.9),
    ForcingRow(2, "9", "3", "2", 0.8, "3", "2", 0.8),
    ForcingRow(3, "1", "9", "2", 0.4, "2", "1", 0.95),
]


def test_forcing_chart_has_both_modes_per_step_and_marks_the_divergence():
    chart = charts.forcing_chart(FORCING, diverges_at=2)
    bars, rule = datasets(chart)  # the bars and their labels share one table
    assert len(bars) == 6
    assert [(r["step"], r["mode"], r["prediction"], r["right"]) for r in bars] == [
        (1, "teacher forcing", "3", True), (1, "free running", "3", True),
        (2, "teacher forcing", "2", False), (2, "free running", "2", False),
        (3, "teacher forcing", "2", False), (3, "free running", "1", True)]
    assert [r["fed"] for r in bars if r["mode"] == "teacher forcing"] == ["⟨start⟩", "3", "9"]
    assert rule == [{"step": 2, "label": "free running leaves the expected output"}]
    assert len(datasets(charts.forcing_chart(FORCING))) == 1  # no divergence, no marker


def test_forcing_table_puts_both_modes_of_a_step_side_by_side():
    short = FORCING + [ForcingRow(4, "", "1", "⟨end⟩", 0.7, "", "", float("nan"))]
    table = charts.forcing_table(short)
    assert list(table.columns) == [
        "step", "expected", "teacher forcing: fed", "teacher forcing: predicted",
        "teacher forcing: probability", "free running: fed", "free running: predicted",
        "free running: probability"]
    assert list(table["step"]) == [1, 2, 3, 4]
    assert list(table["teacher forcing: fed"]) == ["⟨start⟩", "3", "9", "1"]
    assert list(table["free running: predicted"]) == ["3", "2", "1", ""]
    assert table["free running: probability"].tolist()[:3] == [0.9, 0.8, 0.95]
    assert np.isnan(table["free running: probability"].iloc[3])
    assert "teacher forcing: fed" not in charts.forcing_table(short, feeds_back=False).columns


def test_strategy_table_is_the_strategy_charts_data():
    table = charts.strategy_table(decoded(), expected="b d")
    assert list(table["right"]) == ["✗", "✓", "✗"]
    assert list(table["token probabilities"]) == ["60%  50%", "40%  90%", "1%"]
    chart_rows = only_rows(charts.strategy_probabilities(decoded()))
    assert [r["log probability"] for r in chart_rows] == pytest.approx(
        list(table["log probability"]))
    assert "right" not in charts.strategy_table(decoded()).columns


def test_study_chart_has_a_line_per_variant_against_length():
    from seq2seq_core.charts.study import BASELINE, IMPROVED, exact_match_chart
    from seq2seq_core.study import results_frame

    rows = [{"variant": v, "length": n, "exact_match": acc, "samples": 100, "train_seconds": 3.0}
            for v, accs in (("no attention", (1.0, 0.6, 0.1)), ("attention", (1.0, 0.98, 0.95)))
            for n, acc in zip((4, 8, 12), accs)]
    chart = exact_match_chart(results_frame(rows), ["no attention", "attention"])
    data = only_rows(chart)
    assert len(data) == 6
    by_variant = {v: [(r["length"], r["exact_match"]) for r in data if r["variant"] == v]
                  for v in ("no attention", "attention")}
    assert by_variant["no attention"] == [(4, 1.0), (8, 0.6), (12, 0.1)]
    assert by_variant["attention"] == [(4, 1.0), (8, 0.98), (12, 0.95)]
    spec = chart.to_dict()
    line = spec["layer"][0]
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["field"] == "length" and line["encoding"]["y"]["field"] == "exact_match"
    assert line["encoding"]["color"]["scale"] == {"domain": ["no attention", "attention"],
                                                  "range": [BASELINE, IMPROVED]}
    assert line["encoding"]["x"]["axis"]["values"] == [4, 8, 12]
    # an empty study (nothing finished yet) still draws
    assert only_rows(exact_match_chart(results_frame([]))) == []
