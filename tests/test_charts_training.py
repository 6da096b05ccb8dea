"""Training curves: per-batch values thinned, never smoothed; the live specs match the charts."""
from __future__ import annotations

import pytest

from seq2seq_core.charts.training import (MAX_POINTS, accuracy_chart, history_frames, live_specs,
                                          loss_chart)
from seq2seq_core.training import ChunkRecord

BATCHES, BATCH_SIZE = 4, 10


def history(chunks: int, loss_start: float = 3.0, loss_end: float = 0.01) -> list[ChunkRecord]:
    out = []
    for c in range(1, chunks + 1):
        loss = loss_start + (loss_end - loss_start) * c / chunks
        out.append(ChunkRecord(
            chunk=c, samples_seen=c * BATCHES * BATCH_SIZE, train_seconds=float(c),
            batch_losses=tuple(loss + 0.01 * i for i in range(BATCHES)),
            batch_accuracies=tuple(0.1 * i for i in range(BATCHES)),
            train_loss=loss, token_accuracy=0.5, val_loss=loss * 1.1,
            val_token_accuracy=c / chunks, exact_match=c / chunks / 2,
            samples_per_second=40.0))
    return out


def test_history_frames_place_each_batch_at_its_samples_and_keep_true_values():
    h = history(3)
    batches, chunks = history_frames(h)
    assert list(batches["samples"]) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
    assert list(batches["loss"]) == pytest.approx([x for r in h for x in r.batch_losses])
    assert list(chunks["samples"]) == [40, 80, 120]
    assert list(chunks["exact_match"]) == pytest.approx([1 / 6, 1 / 3, 1 / 2])


def test_history_frames_thin_long_runs_by_striding_and_keep_the_latest_batch():
    long = history(MAX_POINTS)  # 4 batches a chunk: four times too many points
    batches, _ = history_frames(long)
    assert len(batches) <= MAX_POINTS
    assert batches["samples"].iloc[-1] == long[-1].samples_seen
    assert batches["loss"].iloc[-1] == pytest.approx(long[-1].batch_losses[-1])


def test_loss_chart_switches_to_a_log_scale_when_the_loss_spans_decades():
    wide = loss_chart(history(5, 3.0, 0.001)).to_dict()
    narrow = loss_chart(history(5, 3.0, 2.0)).to_dict()
    assert wide["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert narrow["layer"][0]["encoding"]["y"]["scale"] == {"zero": True}


@pytest.mark.parametrize("loss_end", [0.001, 2.0])
def test_live_specs_are_the_charts_with_their_data_filled_in(loss_end):
    h = history(6, 3.0, loss_end)
    live_loss, live_accuracy = live_specs(h)
    for live, chart in ((live_loss, loss_chart(h)), (live_accuracy, accuracy_chart(h))):
        spec = chart.to_dict()
        for mine, theirs in zip(live["layer"], spec["layer"]):
            assert mine["encoding"] == theirs["encoding"] and mine["mark"] == theirs["mark"]
        assert [layer["data"] for layer in live["layer"]] == [{"name": "light"}, {"name": "bold"}]
    batches, chunks = history_frames(h)
    assert [r["value"] for r in live_loss["datasets"]["light"]] == pytest.approx(list(batches["loss"]))
    assert [r["value"] for r in live_loss["datasets"]["bold"]] == pytest.approx(list(chunks["val_loss"]))
    bold = live_accuracy["datasets"]["bold"]
    assert {r["series"] for r in bold} == {"validation token accuracy",
                                           "exact match (whole sequence)"}
    assert len(bold) == 2 * len(h)
