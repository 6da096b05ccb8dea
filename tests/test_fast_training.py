"""The trainer's hot path: batches ready as tensors, the one-call held-out check on a budget,
the learning-rate schedule and the automatic choice of the compiled step."""
import sqlite3
from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

import seq2seq_core as sc
from seq2seq_core import schedules, steps, training
from seq2seq_core.decoding import Decoder
from seq2seq_core.evaluation import score
from seq2seq_core.feeding import Feeder, draw_sizes
from seq2seq_core.history import History

REVERSE = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)


def _model(arch="teacher", task=REVERSE, **kw):
    return sc.Seq2Seq.build(task, sc.ModelConfig(arch=arch, units=16, **kw), seed=3)


def test_draw_sizes_follow_the_chunks():
    cfg = sc.TrainConfig(batch_size=4096, chunk_batches=5)  # 2 batches per 8,192-row draw
    sizes = draw_sizes(cfg)
    assert [next(sizes) for _ in range(6)] == [2, 2, 1, 2, 2, 1]


def test_feeder_draws_what_the_trainer_drew_itself():
    """Same generator, same order: a seed gives the batches it gave before the feeder."""
    model = _model()
    cfg = sc.TrainConfig(batch_size=16, chunk_batches=3, seed=5)
    feeder = Feeder(model, cfg, np.random.default_rng(5))
    got = [feeder.next_batch() for _ in range(6)]
    rng = np.random.default_rng(5)
    want = []
    for count in (3, 3):
        pairs = REVERSE.sample(rng, 16 * count, "train")
        want += [(pairs.source[i:i + 16], pairs.target[i:i + 16]) for i in range(0, 16 * count, 16)]
    for (inputs, targets, weights), (source, target) in zip(got, want):
        assert isinstance(targets, tf.Tensor)
        np.testing.assert_array_equal(inputs[0].numpy(), source)
        np.testing.assert_array_equal(inputs[1].numpy(), model.teacher_inputs(target))
        np.testing.assert_array_equal(targets.numpy(), target)
        np.testing.assert_array_equal(weights.numpy(), REVERSE.target_mask(target))


def test_a_sampling_error_fails_the_run_with_its_message():
    class Broken(type(REVERSE)):
        def sample(self, rng, n, split="train"):
            raise ValueError("no more examples")

    trainer = sc.Trainer(_model(task=Broken(REVERSE.settings)),
                         sc.TrainConfig(batch_size=8, max_samples=64))
    trainer.run()
    assert trainer.status == "failed" and "no more examples" in trainer.error


def test_a_run_continued_after_it_finished_reads_on_in_the_same_stream():
    """Training on after a finished run draws the next batches, not the first ones again."""
    cfg = sc.TrainConfig(batch_size=16, max_samples=32, chunk_batches=2, eval_samples=20, seed=2)
    trainer = sc.Trainer(_model(), cfg)
    trainer.run()
    trainer.config = replace(cfg, max_samples=64)
    trainer.run()
    fresh = Feeder(_model(), cfg, np.random.default_rng(2))
    batches = [fresh.next_batch() for _ in range(5)]
    assert trainer.samples_seen == 64
    np.testing.assert_array_equal(trainer.feeder.next_batch()[1].numpy(), batches[4][1].numpy())


@pytest.mark.parametrize("arch", ["repeat", "teacher", "attention"])
def test_the_one_call_check_scores_as_decoding_does(arch):
    """Greedy ids from the check equal the decoder's; its loss is Keras' masked loss."""
    model = _model(arch)
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32, max_samples=320, chunk_batches=5))
    trainer.run()
    pairs = REVERSE.held_out(300, seed=11)
    ids, loss, weight, none = trainer._check(pairs, 0, len(pairs))
    np.testing.assert_array_equal(ids, Decoder(model).predict_ids(pairs.source))
    assert none.shape == (0, REVERSE.target_len)
    # watched inputs ride along in the same call, at no weight: the same ids, the same loss
    extra = REVERSE.sample(np.random.default_rng(5), 4).source
    with_extra = trainer._check(pairs, 0, len(pairs), extra)
    np.testing.assert_array_equal(with_extra[0], ids)
    assert with_extra[1:3] == pytest.approx((loss, weight), rel=1e-6)
    np.testing.assert_array_equal(with_extra[3], Decoder(model).predict_ids(extra))
    mask = REVERSE.target_mask(pairs.target)
    probs = model.train_model(model.model_inputs(pairs.source, pairs.target), training=False)
    ce = tf.keras.losses.sparse_categorical_crossentropy(pairs.target, probs).numpy()
    assert loss / weight == pytest.approx(float((ce * mask).sum() / mask.sum()), rel=1e-5)
    whole = score(model, pairs, max_mistakes=0)
    assert trainer._score(pairs, [(ids, loss, weight)]).exact_match == whole.exact_match


def test_the_check_scores_a_share_and_everything_near_the_target_or_at_the_end():
    model = _model()
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32, eval_samples=3000,
                                               target_accuracy=0.99))
    count = sc.Trainer.scored_count
    assert count(320, 3000) == training.MIN_SCORED
    assert count(4000, 3000) == 600                # 0.15 scored per trained example
    assert count(100_000, 3000) == 3000
    assert count(4000, 100) == 100
    far = trainer._evaluate(1, [1.0], [0.5], 4000, 0.2)             # an untrained model
    assert far.scored == 600 and far.eval_seconds > 0
    assert trainer._evaluate(2, [1.0], [0.5], 4000, 0.2, last=True).scored == 3000
    trainer.config = replace(trainer.config, target_accuracy=far.exact_match + 0.01)
    near = trainer._evaluate(1, [1.0], [0.5], 4000, 0.2)
    assert near.scored == 3000


def test_the_same_seed_gives_the_same_curves():
    def curves():
        trainer = sc.Trainer(_model(), sc.TrainConfig(batch_size=32, max_samples=32 * 30,
                                                      chunk_batches=10, eval_samples=400))
        trainer.run()
        return [(r.scored, r.exact_match, r.val_loss, r.batch_losses) for r in trainer.history]
    first = curves()
    assert first == curves()
    assert [s for s, *_ in first] == [200, 200, 400]  # the last chunk scores every example


def test_a_target_stops_a_run_only_on_every_held_out_example():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=6)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=32), seed=1)
    cfg = sc.TrainConfig(batch_size=64, learning_rate=0.02, eval_samples=2000, chunk_batches=10,
                         target_accuracy=0.95, max_seconds=60)
    trainer = sc.Trainer(model, cfg)
    trainer.run()
    last = trainer.history[-1]
    assert trainer.status == "finished" and last.exact_match >= 0.95, trainer.reason
    assert last.scored == 2000
    assert all(0 < r.scored <= 2000 for r in trainer.history)


def _rate_at(cfg, step):
    rate = schedules.learning_rate(cfg)
    return float(rate) if isinstance(rate, float) else float(rate(step))


def test_warmup_cosine_schedule():
    cfg = sc.TrainConfig(batch_size=100, learning_rate=0.05, max_samples=100_000,
                         schedule="warmup_cosine")
    warm, decay = schedules.schedule_steps(cfg)
    assert (warm, decay) == (50, 950)
    assert _rate_at(cfg, 0) == pytest.approx(0.005)
    assert _rate_at(cfg, warm) == pytest.approx(0.05)
    assert _rate_at(cfg, warm + decay // 2) == pytest.approx(0.05 * (0.02 + 0.98 / 2),
                                                                        rel=1e-4)
    assert _rate_at(cfg, 10_000) == pytest.approx(0.05 * 0.02)
    assert _rate_at(replace(cfg, schedule="constant"), 500) == 0.05


def test_a_scheduled_run_trains_with_the_schedule():
    cfg = sc.TrainConfig(batch_size=32, learning_rate=0.02, max_samples=32 * 40, chunk_batches=10,
                         schedule="warmup_cosine", eval_samples=50)
    trainer = sc.Trainer(_model(), cfg)
    trainer.run()
    assert trainer.status == "finished"
    rate = trainer.optimizer.learning_rate
    assert float(rate.numpy() if hasattr(rate, "numpy") else rate) == pytest.approx(
        _rate_at(cfg, 40), rel=1e-4)


def test_xla_trains_the_same_network():
    """Both compiled steps take the same first step from the same weights."""
    losses = {}
    for compiler in ("graph", "xla"):
        model = _model("teacher")
        trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32, max_samples=64, chunk_batches=2,
                                                   compiler=compiler, eval_samples=20))
        trainer.run()
        losses[compiler] = trainer.history[0].batch_losses
        assert trainer.history[0].compiler == compiler and trainer.steps.kind == compiler
    np.testing.assert_allclose(losses["graph"], losses["xla"], rtol=1e-4)


def test_auto_tries_xla_on_a_long_run_and_keeps_the_faster_step():
    model = _model("repeat")
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32))
    chosen = trainer.steps
    assert chosen.kind == "graph"
    chosen.after_chunk(1000, 1.0, 1.0, 600)          # the first chunk pays for tracing
    chosen.after_chunk(1000, 2.5, 3.5, 600)          # steady: 400 samples/s
    assert chosen.kind == "graph"                    # too early to pay for a compile
    chosen.after_chunk(1000, 2.5, steps.XLA_AFTER_SECONDS + 1, 600)
    assert chosen.kind == "xla"
    chosen.after_chunk(1000, 5.0, 30, 500)           # XLA's first chunk: its compile
    chosen.after_chunk(1000, 2.0, 32, 500)           # steady: 500 samples/s
    assert chosen.kind == "xla" and "faster" in chosen.note
    other = sc.Trainer(model, sc.TrainConfig(batch_size=32)).steps
    for spent, trained in ((1.0, 1.0), (2.5, 21.0), (5.0, 26.0), (4.0, 30.0)):
        other.after_chunk(1000, spent, trained, 600)
    assert other.kind == "graph" and "slower" in other.note
    short = sc.Trainer(model, sc.TrainConfig(batch_size=32)).steps
    for trained in (1.0, 5.0, 25.0, 30.0):
        short.after_chunk(1000, 2.5, trained, 10)    # the budget leaves too little
    assert short.kind == "graph" and short.note == ""


def test_chunk_extras_are_stored_and_old_histories_are_migrated(tmp_path):
    path = tmp_path / "runs.sqlite"
    db = sqlite3.connect(path)   # a chunks table as version 4 made it
    db.execute("CREATE TABLE chunks (run_id INTEGER NOT NULL, chunk INTEGER NOT NULL, "
               "samples_seen INTEGER, train_seconds REAL, train_loss REAL, token_accuracy REAL, "
               "val_loss REAL, val_token_accuracy REAL, exact_match REAL, "
               "samples_per_second REAL, batch_losses TEXT, batch_accuracies TEXT, "
               "PRIMARY KEY (run_id, chunk))")
    db.commit()
    db.close()
    history = History(path)
    model = _model()
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=16, max_samples=64, chunk_batches=2,
                                               eval_samples=30))
    run_id = history.start_run("reverse", REVERSE.settings, model.config, trainer.config)
    trainer.run(on_chunk=lambda record: history.add_chunk(run_id, record))
    stored = history.get(run_id).chunks
    assert [(c.scored, c.compiler) for c in stored] == [(30, "graph"), (30, "graph")]
    assert stored[0].eval_seconds == trainer.history[0].eval_seconds > 0
