"""The inspector's chart functions: each returns an Altair chart carrying the expected data."""
from __future__ import annotations

import altair as alt
import numpy as np
import pytest

from seq2seq_core.charts import inspection as charts
from seq2seq_core.decoding import Step, Trace
from seq2seq_core.inspection import Projection


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
    assert "Step 2" in spec["title"]


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
    x = spec["encoding"]["x"]
    assert x["field"] == "step" and x["type"] == "ordinal"  # repeated tokens stay separate columns
    assert '["x", "y", "x"]' in x["axis"]["labelExpr"]
    assert spec["encoding"]["color"]["scale"]["domain"] == [-1, 1]
    assert spec["title"] == "Hidden state h"


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
    tr = model.decoder.trace("1 2 3", k=3)
    assert len(only_rows(charts.step_probabilities(tr.steps[0]))) == 3
    assert len(only_rows(charts.steps_overview(tr, 0))) == 3 * len(tr.steps)
    assert len(only_rows(charts.state_heatmap(tr.encoder_hidden[0], tr.input_tokens))) == 3 * 6
    assert len(only_rows(charts.final_state(tr.final_state["c"]))) == 6
