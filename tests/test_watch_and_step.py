"""Watched inputs, one batch at a time, and the error at each output position, in the
trainer, the run history and the charts (the Train page's views are in test_app_watch)."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.charts.progress import (learned_at, learned_last, position_errors,
                                          position_heatmap, watched_table, with_previous)
from seq2seq_core.charts.training import live_specs
from seq2seq_core.decoding import Decoder
from seq2seq_core.history import History
from seq2seq_core.training import MAX_WATCHED, ChunkRecord, check_watched


def tiny_trainer(**train) -> sc.Trainer:
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=16), seed=0)
    return sc.Trainer(model, sc.TrainConfig(**{"batch_size": 32, "chunk_batches": 5,
                                               "max_samples": 2_000, **train}))


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_watched_inputs_gates_are_recomputed_every_gates_every_seconds(monkeypatch):
    from seq2seq_core import gates, training
    monkeypatch.setattr(training, "GATES_EVERY", 0.0)
    every = tiny_trainer()
    every.watch(["1 2 3", "5 4 1"])
    every.run()
    assert all(len(r.gate_saturation) == 2 for r in every.history)
    cells = every.snapshot().cells
    assert [c.input_text for c in cells] == ["1 2 3", "5 4 1"]
    fresh = gates.cell_traces(every.model, ["1 2 3", "5 4 1"])
    assert [c.output_text for c in cells] == [c.output_text for c in fresh]
    for mine, ref in zip(cells, fresh):  # the gates of the trained model, after the last chunk
        for a, b in zip(mine.layers, ref.layers):
            assert all(np.array_equal(a.values[n], b.values[n]) for n in a.names)
    assert every.history[-1].gate_saturation == tuple(c.saturation() for c in fresh)
    monkeypatch.setattr(training, "GATES_EVERY", 1e9)
    rarely = tiny_trainer()
    rarely.watch(["1 2 3"])
    rarely.run()
    kept = [r.chunk for r in rarely.history if r.gate_saturation]
    assert kept == [len(rarely.history)]  # only the last chunk (the end of the budget)
    assert rarely.snapshot().cells[0].input_text == "1 2 3"


def test_watched_inputs_are_decoded_after_every_chunk():
    trainer = tiny_trainer()
    trainer.watch(["1 2 3", "  5 4 1  "])
    trainer.run()
    records = trainer.history
    assert len(records) > 2
    assert all([text for text, _ in r.watched] == ["1 2 3", "5 4 1"] for r in records)
    final = Decoder(trainer.model).predict(["1 2 3", "5 4 1"])
    assert [out for _, out in records[-1].watched] == final
    table = watched_table(records, trainer.task.answer)
    assert list(table["input"]) == ["1 2 3", "5 4 1"]
    assert list(table["expected"]) == ["2 1", "4 5"]
    last = table.columns[-1]
    assert last == f"chunk {records[-1].chunk}"
    assert [cell.split(" ✓")[0].split(" ✗")[0] for cell in table[last]] == final


def test_inputs_watched_later_fill_in_from_then_on():
    history = [ChunkRecord(i, 10 * i, 1.0, (), (), 0, 0, 0, 0, 0, 0,
                           watched=(("1 2", "3"),) + ((("4 5", f"out{i}"),) if i > 2 else ()))
               for i in range(1, 5)]
    table = watched_table(history)
    assert list(table.columns) == ["input", "chunk 1", "chunk 2", "chunk 3", "chunk 4"]
    assert list(table.iloc[1]) == ["4 5", "", "", "out3", "out4"]


def test_a_long_run_shows_the_first_and_latest_chunks():
    history = [ChunkRecord(i, i, 1.0, (), (), 0, 0, 0, 0, 0, 0, watched=(("x", str(i)),))
               for i in range(1, 101)]
    columns = list(watched_table(history, columns=8).columns)
    assert columns[0] == "input" and columns[1] == "chunk 1" and columns[-1] == "chunk 100"
    assert len(columns) == 9


@pytest.mark.parametrize("texts, message", [
    (["1 2 3"] * 2 + ["1", "2", "3", "4"], f"at most {MAX_WATCHED}"),
    (["1 2 9"], "Watched input '1 2 9'"),
    (["1 2"], "Watched input '1 2'"),
])
def test_bad_watched_inputs_get_the_tasks_message(texts, message):
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    with pytest.raises(sc.InvalidInput, match=message):
        check_watched(task, texts)


def test_watched_inputs_drop_blank_lines_and_repeats():
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    assert check_watched(task, ["1 2 3", "", "1 2 3", " 3 3 3 "]) == ("1 2 3", "3 3 3")


def test_step_one_batch_trains_exactly_one_batch_and_stays_paused():
    trainer = tiny_trainer(max_samples=10_000_000, max_seconds=300.0, chunk_batches=50)
    assert not trainer.step_batch()  # not started: nothing to step
    trainer.start()
    wait_for(lambda: trainer.history)
    trainer.pause()
    # the chunk under way ends at the next batch and is recorded: nothing is left unseen
    wait_for(lambda: trainer.snapshot().samples_seen == trainer.history[-1].samples_seen
             and len(trainer.history) == len(trainer.snapshot().history))
    time.sleep(0.3)
    before = trainer.snapshot()
    assert trainer.status == sc.Status.PAUSED
    for _ in range(2):
        count = len(trainer.snapshot().history)
        assert trainer.step_batch()
        wait_for(lambda: len(trainer.snapshot().history) == count + 1)
        step = trainer.snapshot().history[-1]
        assert len(step.batch_losses) == 1
    time.sleep(0.3)  # and then it stays paused
    after = trainer.snapshot()
    assert len(after.history) == len(before.history) + 2
    assert after.samples_seen == before.samples_seen + 2 * 32
    assert after.status == sc.Status.PAUSED
    trainer.resume()
    wait_for(lambda: len(trainer.snapshot().history) > len(after.history))
    assert trainer.snapshot().history[-1].samples_seen > after.samples_seen
    trainer.stop()
    trainer.join(30)
    assert trainer.status == sc.Status.STOPPED


def test_chunks_record_the_error_at_each_output_position():
    trainer = tiny_trainer(max_samples=1_000)
    trainer.run()
    record = trainer.history[-1]
    assert len(record.position_accuracy) == trainer.task.target_len
    evaluation = sc.evaluate(trainer.model, trainer.config.eval_samples, seed=0)
    assert all(0.0 <= a <= 1.0 for a in record.position_accuracy)
    assert np.isfinite(evaluation.per_position).all()
    errors = position_errors(trainer.history)
    assert len(errors) == len(trainer.history) * trainer.task.target_len
    assert set(errors["position"]) == {1, 2}
    chart = position_heatmap(trainer.history, "integer").to_dict()
    assert chart["title"]["text"][0].startswith("Error by")


def history_of(errors_by_chunk: list[tuple[float, ...]]) -> list[ChunkRecord]:
    return [ChunkRecord(i + 1, 100 * (i + 1), 1.0, (), (), 0, 0, 0, 0, 0, 0,
                        position_accuracy=tuple(1 - e for e in errors))
            for i, errors in enumerate(errors_by_chunk)]


def test_the_position_learned_last_is_named():
    history = history_of([(0.5, 0.9, 0.9), (0.01, 0.5, 0.9), (0.0, 0.02, 0.5),
                          (0.0, 0.0, 0.04), (0.0, 0.0, 0.01)])
    assert learned_at(position_errors(history)) == {1: 2, 2: 3, 3: 4}
    assert learned_last(history, "digit") == (
        "Digit 3 was learned last (its error stayed under 5% from chunk 4 on); digit 1 was "
        "learned first, by chunk 2.")
    history = history_of([(0.5, 0.9), (0.0, 0.3)])
    assert learned_last(history, "digit") == (
        "Still being learned: digit 2 is wrong in 30% of the scored outputs after the latest "
        "chunk.")


def test_a_position_that_slips_back_counts_as_learned_only_after():
    history = history_of([(0.0,), (0.2,), (0.0,), (0.0,)])
    assert learned_at(position_errors(history)) == {1: 3}


def test_positions_no_example_reaches_are_left_out():
    history = history_of([(0.5, math.nan)])
    assert list(position_errors(history)["position"]) == [1]


def test_the_history_keeps_the_error_by_position(tmp_path):
    history = History(tmp_path / "runs.db")
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    run = history.start_run("reverse", task.settings, sc.ModelConfig(), sc.TrainConfig())
    records = history_of([(0.5, math.nan), (0.25, 0.0)])
    for record in records:
        history.add_chunk(run, record)
    back = history.get(run).chunks
    assert back[1].position_accuracy == (0.75, 1.0)
    assert back[0].position_accuracy[0] == 0.5 and math.isnan(back[0].position_accuracy[1])


def test_a_previous_run_is_drawn_under_the_new_one():
    now, before = live_specs(history_of([(0.5,), (0.1,)])), live_specs(history_of([(0.4,)]))
    spec = with_previous(now[1], before[1])
    assert spec["layer"][0]["data"] == {"name": "previous"}
    assert spec["layer"][1:] == now[1]["layer"]
    assert spec["layer"][0]["encoding"]["x"] == now[1]["layer"][0]["encoding"]["x"]
    names = {row["series"] for row in spec["datasets"]["previous"]}
    assert names == {f"{n} (previous run)" for n in
                     ("validation token accuracy", "exact match (whole sequence)")}
    assert with_previous(now[0], {"datasets": {}}) == now[0]
