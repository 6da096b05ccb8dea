"""The "Inside the cell" charts: heatmaps carry the layer's exact values in reading order,
the keep summary its means, the diagram every term's number with its text escaped."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core import gates, whatif
from seq2seq_core.charts import cell
from seq2seq_core.gates import number

SVG = "{http://www.w3.org/2000/svg}"


def datasets(chart) -> list[list[dict]]:
    return list(chart.to_dict().get("datasets", {}).values())


def only_rows(chart) -> list[dict]:
    tables = datasets(chart)
    assert len(tables) == 1
    return tables[0]


def panels(chart) -> list[dict]:
    return chart.to_dict()["concat"]


def _trace(cell_kind: str, arch: str, bidirectional: bool = False, layers: int = 1):
    task = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(
        arch=arch, cell=cell_kind, units=16, bidirectional=bidirectional, layers=layers,
        embedding=8), seed=1)
    return gates.cell_trace(model, "3 1 4 1 5")


@pytest.fixture(scope="module")
def traces() -> dict:
    """LSTM and GRU bidirectional 2-layer attention models, an LSTM repeat model, and a
    translation model forced to stop after 1 step (a decoder layer of 1 step)."""
    task = sc.make_task("translation")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", cell="lstm", units=8,
                                                  embedding=8), seed=1)
    text = "Who is he?"
    forced = whatif.forced_decode(model, text, 1, task.target_vocab.label(task.target_vocab.end))
    return {"lstm": _trace("lstm", "attention", True, 2),
            "gru": _trace("gru", "attention", True, 2),
            "repeat": _trace("lstm", "repeat", layers=2),
            "one step": gates.cell_trace(model, text, forced)}


def test_step_labels_number_each_token_in_reading_order(traces):
    back = traces["lstm"].find("encoder 1 backward")
    assert cell.step_labels(back) == ["1. 5", "2. 1", "3. 4", "4. 1", "5. 3"]
    padded = traces["one step"].encoder[0]
    assert cell.step_labels(padded)[0] == "1. ·" and cell.step_labels(padded)[-1] == "22. ?"


def test_heatmap_rows_are_the_layers_exact_values(traces):
    layer = traces["lstm"].find("encoder 2 backward")
    chart = cell.gate_heatmaps(layer, units=range(3, 9))
    rows = only_rows(chart)
    assert len(rows) == layer.steps * 6 * len(layer.names)
    got = {(r["name"], r["step"], r["unit"]): r["value"] for r in rows}
    for name in layer.names:
        for t in range(layer.steps):
            for u in range(3, 9):
                assert got[(name, t + 1, u + 1)] == float(layer.values[name][t, u])
    r = next(r for r in rows if r["name"] == "g" and r["step"] == 2 and r["unit"] == 5)
    assert (r["token"], r["label"]) == ("1", "2. 1")


def test_heatmaps_have_one_titled_panel_per_name_as_many_a_row_as_fit(traces):
    layer = traces["lstm"].encoder[0]  # 5 steps: panels of the narrowest width, 150 px
    spec = cell.gate_heatmaps(layer).to_dict()
    assert spec["columns"] == 2  # 640 px of room: two panels of 150 + axis + gap
    assert spec["concat"][0]["width"] == cell.PANEL_MIN
    assert cell.gate_heatmaps(layer, room=1000).to_dict()["columns"] == 3
    assert cell.gate_heatmaps(layer, room=300).to_dict()["columns"] == 1
    assert cell.panel_width(80, 640) == 640 - cell.AXIS_PX  # a long input fits its room
    assert cell.panel_width(12, 640) == 12 * cell.STEP_PX
    assert [p["title"]["text"] for p in spec["concat"]] == [
        "i — input gate", "f — forget gate", "g — candidate", "o — output gate",
        "c — cell state", "h — hidden state"]
    assert [p["transform"][0]["filter"] for p in spec["concat"]] == [
        f"(datum.name === '{n}')" for n in layer.names]
    x = spec["concat"][0]["encoding"]["x"]
    assert x["sort"] == ["1. 3", "2. 1", "3. 4", "4. 1", "5. 5"]
    assert x["field"] == "label"
    assert {r["unit"] for r in only_rows(cell.gate_heatmaps(layer))} == set(range(1, 17))
    tips = [t["field"] for t in spec["concat"][0]["encoding"]["tooltip"]]
    assert tips == ["step", "token", "unit", "value"]
    gru = traces["gru"].decoder[0]
    titles = [p["title"]["text"] for p in panels(cell.gate_heatmaps(gru))]
    assert titles[2] == ["candidate — the new", "state proposed"]


def test_heatmap_colour_domains_follow_each_value_range(traces):
    layer = traces["lstm"].decoder[1]
    scales = {p["transform"][0]["filter"][-3:-2]: p["encoding"]["color"]["scale"]
              for p in panels(cell.gate_heatmaps(layer))}
    for name in ("i", "f", "o"):
        assert scales[name] == {"domain": [0.0, 1.0], "scheme": "blues"}
    assert scales["g"]["domain"] == scales["h"]["domain"] == [-1.0, 1.0]
    assert scales["g"]["scheme"] == "redblue"
    top = max(float(np.abs(layer.values["c"]).max()), 1.0)
    assert scales["c"]["domain"] == [-top, top]
    big = replace(layer, values={**layer.values, "c": layer.values["c"] * 0 + 2.5})
    c_panel = panels(cell.gate_heatmaps(big, names=("c",)))[0]
    assert c_panel["encoding"]["color"]["scale"]["domain"] == [-2.5, 2.5]
    gru = traces["gru"].encoder[1]
    for p in panels(cell.gate_heatmaps(gru, names=("r", "candidate"))):
        want = [0.0, 1.0] if "'r'" in p["transform"][0]["filter"] else [-1.0, 1.0]
        assert p["encoding"]["color"]["scale"]["domain"] == want


def test_heatmaps_draw_every_layer_of_every_kind_of_model(traces):
    for trace in traces.values():
        for layer in trace.layers:
            rows = only_rows(cell.gate_heatmaps(layer))
            assert len(rows) == layer.steps * min(layer.units, 32) * len(layer.names)
    one = traces["one step"].decoder[0]
    assert one.steps == 1
    assert {r["label"] for r in only_rows(cell.gate_heatmaps(one))} == {"1. ⟨end⟩"}


def test_heatmaps_refuse_too_many_cells_and_unknown_names_or_units(traces):
    layer = traces["lstm"].encoder[0]
    wide = replace(layer, positions=tuple(range(420)), tokens=("1",) * 420,
                   values={n: np.zeros((420, 16), np.float32) for n in layer.names})
    with pytest.raises(ValueError, match="40,000"):
        cell.gate_heatmaps(wide)  # 420 x 16 x 6 = 40,320
    assert len(only_rows(cell.gate_heatmaps(wide, units=range(15)))) == 420 * 15 * 6
    with pytest.raises(ValueError):
        cell.gate_heatmaps(layer, names=("z",))
    with pytest.raises(ValueError):
        cell.gate_heatmaps(layer, units=range(10, 17))


def test_keep_summary_means_are_numpys_for_encoder_and_decoder_together(traces):
    layers = [traces["gru"].encoder[0], traces["gru"].decoder[1]]
    chart = cell.keep_summary(layers)
    rows = only_rows(chart)
    for layer in layers:
        mine = [r for r in rows if r["layer"] == layer.title]
        assert [r["step"] for r in mine] == list(range(1, layer.steps + 1))
        assert [r["token"] for r in mine] == list(layer.tokens)
        want = np.mean(layer.values["z"].astype(np.float64), axis=1)
        assert [r["keep"] for r in mine] == pytest.approx(want, rel=1e-12)
    enc = chart.to_dict()["layer"][0]["encoding"]
    assert enc["y"]["title"] == "mean update gate (1 = keep the old state)"
    assert enc["color"]["sort"] == [x.title for x in layers]
    lstm = cell.keep_summary(traces["lstm"].decoder).to_dict()["layer"][0]["encoding"]
    assert lstm["y"]["title"] == "mean forget gate (1 = keep the memory)"
    assert lstm["y"]["scale"]["domain"] == [0, 1]
    with pytest.raises(ValueError):
        cell.keep_summary([traces["gru"].encoder[0], traces["lstm"].encoder[0]])


def test_unit_lines_shade_the_chosen_steps_behind_each_units_values(traces):
    layer = traces["repeat"].encoder[1]
    chart = cell.unit_lines(layer, "f", [7, 2], [3, 0])
    shade, lines = datasets(chart)
    assert shade == [{"label": "1. 3", "step": 1}, {"label": "4. 1", "step": 4}]
    assert {r["series"] for r in lines} == {"unit 8", "unit 3"}
    for r in lines:
        assert r["value"] == float(layer.values["f"][r["step"] - 1, r["unit"] - 1])
    spec = chart.to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rect"  # behind the lines
    assert spec["layer"][1]["encoding"]["color"]["sort"] == ["unit 8", "unit 3"]
    assert spec["layer"][1]["encoding"]["y"]["scale"]["domain"] == [0.0, 1.0]
    assert datasets(cell.unit_lines(layer, "h", [0], []))[0] == []
    with pytest.raises(ValueError):
        cell.unit_lines(layer, "h", [0], [5])


def test_saturation_curve_drops_rows_without_a_number():
    rows = [{"samples": 100, "input": "1 2 3", "saturation": 0.25},
            {"samples": 100, "input": "3 2 1", "saturation": math.nan},
            {"samples": 200, "input": "1 2 3", "saturation": 0.5}]
    chart = cell.saturation_curve(rows)
    assert only_rows(chart) == [rows[0], rows[2]]
    spec = chart.to_dict()
    assert spec["title"]["text"] == ["gate values below 0.1 or", "above 0.9"]
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["domain"] == [0, 1] and y["axis"]["format"] == "%"
    assert only_rows(cell.saturation_curve([])) == []


def test_number_writes_a_real_minus_and_no_negative_zero():
    assert [number(v) for v in (-0.5, 0.12345, -0.0001, 2)] == [
        "−0.500", "0.123", "0.000", "2.000"]


def texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_lstm_diagram_parses_and_shows_every_term(traces):
    layer = traces["lstm"].find("encoder 1 backward")
    sm = gates.slow_motion(layer, 2, 4)
    svg = cell.cell_diagram(sm, layer.title)
    root = ET.fromstring(svg)
    assert svg.startswith("<svg") and root.get("viewBox") == "0 0 640 300"
    written = texts(svg)
    assert written[0] == "step 3 (4), unit 5 — " + layer.title
    for name in ("c_prev", "f", "i", "g", "o", "kept", "written", "c", "tanh_c", "h", "h_prev"):
        assert number(sm.terms[name]) in svg, name
    for label in ("σ (f)", "σ (i)", "tanh (g)", "σ (o)", "c(t−1)", "c(t)", "h(t)", "h(t−1)"):
        assert label in written
    assert "-" not in "".join(written[1:])


def box_fills(svg: str) -> dict[str, str]:
    """Each box's label -> its fill (a box is a rect followed by its label's text)."""
    children, out = list(ET.fromstring(svg)), {}
    for rect, label in pairwise(children):
        if rect.tag == f"{SVG}rect" and rect.get("rx") and label.tag == f"{SVG}text":
            out[label.text] = rect.get("fill")
    return out


def test_gate_boxes_are_shaded_by_how_open_they_are():
    terms = {"i": 1.0, "f": 0.0, "g": -1.0, "o": 0.5, "c_prev": 0.0, "h_prev": 0.0,
             "kept": 0.0, "written": -1.0, "c": -1.0, "tanh_c": -0.7616, "h": -0.3808}
    fills = box_fills(cell.cell_diagram(gates.SlowMotion("lstm", 0, 0, "a", terms)))
    assert fills["σ (i)"] == cell.ACCENT.lower()  # fully open: the accent blue
    assert fills["σ (f)"] == "#ffffff"            # closed: white
    assert fills["σ (o)"] == "#8fafdf"            # half open: halfway
    assert fills["tanh (g)"] == "#c92a2a"         # -1: full red
    assert fills["c(t−1)"] == "#ffffff"


def test_diagram_escapes_a_hostile_token():
    terms = {"z": 0.25, "r": 0.75, "candidate": -0.5, "h_prev": 0.125, "kept": 0.03125,
             "written": -0.375, "h": 0.03125 - 0.375}
    sm = gates.SlowMotion("gru", 0, 1, '<script>&"', terms)
    svg = cell.cell_diagram(sm, "<b>layer</b> & co")
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert texts(svg)[0] == 'step 1 (<script>&"), unit 2 — <b>layer</b> & co'
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject")]
    assert not [k for e in root.iter() for k in e.attrib if k.lower().startswith("on")]
    assert "href" not in svg.replace("url(#arrow)", "")


def test_gru_diagram_shows_z_r_and_the_candidate(traces):
    layer = traces["gru"].decoder[0]
    sm = gates.slow_motion(layer, 1, 20)
    svg = cell.cell_diagram(sm)
    written = texts(svg)
    assert written[0] == f"step 2 ({layer.tokens[1]}), unit 21"
    for label in ("σ (z)", "σ (r) reset", "tanh (candidate)", "1−z", "h(t−1)", "h(t)"):
        assert label in written
    for name in ("z", "r", "candidate", "h", "h_prev", "kept", "written"):
        assert number(sm.terms[name]) in svg, name
    assert number(1 - sm.terms["z"]) in written
    assert "σ (f)" not in written and "c(t)" not in written
