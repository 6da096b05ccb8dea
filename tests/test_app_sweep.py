"""The Sweep page via AppTest: a stopped sweep, readable past sweeps, a sweep reloaded from
its saved config."""
from __future__ import annotations

import time

from conftest import open_reverse_sweep, shown

import seq2seq_core as sc
from seq2seq_core.history import History
from seq2seq_core.sweep import Sweep, SweepConfig

SWEEP = {"sweep_values": "2, 3", "sweep_units": "4, 8", "sweep_batch": 8, "sweep_lr": 0.01,
         "sweep_samples": 10_000_000, "sweep_seconds": 2.0, "sweep_target": 0.0, "sweep_workers": 1}
TINY = sc.TrainConfig(batch_size=16, learning_rate=0.01, max_samples=64, chunk_batches=2,
                      eval_samples=16, target_accuracy=0.99)


def open_sweep(app_test, **values):
    return open_reverse_sweep(app_test, {**SWEEP, **values})


def charts(at):
    return at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")


def chart_data(chart) -> list:
    """The data frames a chart element carries (Arrow datasets)."""
    import pyarrow as pa
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]


def page_text(at) -> str:
    """Everything a person reads on the page: text elements, progress, tables, charts."""
    parts = [shown(e.value) for kind in ("markdown", "caption", "error", "warning", "info",
                                         "success", "subheader", "title")
             for e in getattr(at, kind)]
    parts += [p.proto.text for p in at.get("progress")]
    parts += [d.value.astype(str).to_csv() for d in at.dataframe]
    for chart in charts(at):  # the spec and the text the charts write (not NaN numbers)
        parts += [chart.proto.spec] + [frame.select_dtypes(exclude="number").to_csv()
                                       for frame in chart_data(chart)]
    return "\n".join(parts)


def tiny_sweep(history, **overrides) -> Sweep:
    values = dict(task="reverse", settings=sc.settings_for("reverse", n_out=1, cardinality=5),
                  complexity_key="n_in", complexity_values=(2, 3), units_values=(4, 8),
                  model_config=sc.ModelConfig(units=4), train_config=TINY)
    sweep = Sweep(SweepConfig(**{**values, **overrides}), history)
    assert sweep.run() == "finished"
    return sweep


def test_a_stopped_sweep_counts_trained_cells_and_shows_no_nan(app_test):
    at = open_sweep(app_test)
    at.button(key="sweep_start").click().run()
    assert not at.exception, at.exception
    sweep = at.session_state["sweep_obj"]
    deadline = time.monotonic() + 90
    while not (sweep.progress().done == 1 and sweep.progress().running) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    at.button(key="sweep_stop").click().run()
    sweep.join(60)
    assert sweep.status == "stopped", sweep.progress()
    at.run()
    assert not at.exception, at.exception
    text = at.get("progress")[0].proto.text
    assert text == "Stopped: 1 of 4 cells trained (cell 2 was cut short and is left out)"
    results = sweep.results()
    assert results.status.tolist() == ["finished", "cut short", "not run", "not run"]
    assert results.exact_match.notna().tolist() == [True, False, False, False]
    table = at.dataframe[0].value
    assert table["status"].tolist() == ["finished", "cut short", "not run", "not run"]
    assert (table["exact match"][1:] == "—").all()
    assert "nan" not in page_text(at).lower()


def test_past_sweeps_have_readable_names_and_studies_stay_out(app_test):
    history = History()
    sweep = tiny_sweep(history)
    # a sweep from before sweeps kept their config: known only by its runs
    for terms, units in ((2, 25), (3, 25)):
        history.record_run("addition", sc.settings_for("addition", n_terms=terms),
                           sc.ModelConfig(units=units), sc.TrainConfig(),
                           name=f"sweep 20261201-090852-85da: n_terms={terms}, units={units}",
                           sweep_id="20261201-090852-85da")
    # two studies' runs (older studies shared one tag; newer ones have their own)
    for tag in ("study:reverse:attention", "study:reverse:attention",
                "study:reverse:attention:20261201-100000-abcd"):
        history.record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                           sc.TrainConfig(), name="study: reverse length 8, attention",
                           sweep_id=tag)
    at = open_sweep(app_test)
    labels = at.selectbox(key="sweep_past").options
    assert len(labels) == 2, labels  # the studies' runs are no sweep
    assert {label.split(" · ")[0] for label in labels} == {
        "Reverse integers: input length (integers) 2, 3 × units 4, 8",
        "Addition: number of terms 2, 3 × units 25"}
    assert all(len(label.split(" · ")) == 2 and "85da" not in label for label in labels)
    assert sweep.sweep_id in [at.selectbox(key="sweep_past").set_value(sweep.sweep_id).value]


def test_a_reloaded_sweep_takes_its_axis_from_the_saved_config(app_test):
    history = History()
    sweep = tiny_sweep(history, complexity_key="cardinality", complexity_values=(5,))
    for run_id in history.list_runs(sweep.sweep_id)["id"]:
        history.rename(int(run_id), f"renamed {run_id}")  # the run names no longer tell
    at = open_sweep(app_test)
    at.selectbox(key="sweep_past").set_value(sweep.sweep_id).run()
    at.button(key="sweep_load").click().run()
    assert not at.exception, at.exception
    loaded = at.session_state["sweep_results"]
    assert loaded.attrs["complexity_key"] == "cardinality"
    assert sorted(zip(loaded["complexity"], loaded["units"])) == [(5, 4), (5, 8)]
    assert any("Reverse integers: cardinality (values 1..n) 5 × units 4, 8" in shown(m.value)
               for m in at.markdown)
    specs = [c.proto.spec for c in charts(at)]
    assert len(specs) == 2 and all('"cardinality (values 1..n)"' in s for s in specs)


def test_after_a_reload_the_page_shows_your_last_sweep(app_test):
    at = open_sweep(app_test)
    owner = at.session_state["_owner_id"]
    values = dict(task="reverse", settings=sc.settings_for("reverse", n_out=1, cardinality=5),
                  complexity_key="n_in", complexity_values=(2, 3), units_values=(4,),
                  model_config=sc.ModelConfig(units=4), train_config=TINY)
    mine = Sweep(SweepConfig(**values), History(), owner=owner)
    assert mine.run() == "finished"
    Sweep(SweepConfig(**values), History(), owner="someone else").run()
    again = app_test(timeout=180)
    again.session_state["_owner_id"] = owner
    again.switch_page("app_pages/sweep.py").run()
    assert not again.exception, again.exception
    assert again.session_state["sweep_results"].attrs["sweep_id"] == mine.sweep_id
    assert len(charts(again)) == 2  # its two heatmaps, without a click
    other = app_test(timeout=180)
    other.switch_page("app_pages/sweep.py").run()
    assert "sweep_results" not in other.session_state  # nobody else's sweep is pushed on them


def test_an_unreadable_old_run_does_not_break_the_page(app_test):
    """A sweep from before sweeps kept their config, one of whose runs no longer loads."""
    history = History()
    for terms in (2, 3):
        history.record_run("addition", sc.settings_for("addition", n_terms=terms),
                           sc.ModelConfig(units=25), sc.TrainConfig(), name=f"old {terms}",
                           sweep_id="20261201-090852-85da")
    broken = int(history.list_runs("20261201-090852-85da")["id"].max())
    with history._connect() as db:
        db.execute("UPDATE runs SET settings=? WHERE id=?", ('{"colour": "blue"}', broken))
    at = open_sweep(app_test)
    labels = at.selectbox(key="sweep_past").options
    assert any(label.startswith("Addition: number of terms 2 × units 25") for label in labels), \
        labels
