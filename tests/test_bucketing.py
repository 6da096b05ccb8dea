"""Length bucketing: a translation batch is cut to its own longest sentence and gives the
loss it gives padded to the corpus' longest; the encoder skips padding, so a sentence's
result does not depend on how much it is padded; training never sees a held-out pair; and
the compiled step is not traced again for every new length."""
import numpy as np
import pytest
import tensorflow as tf

import seq2seq_core as sc
from seq2seq_core.feeding import Feeder, buckets, cut, lengths
from seq2seq_core.steps import BUCKETED_NOTE, masked_loss_and_accuracy
from seq2seq_core.training import Trainer

M = sc.ModelConfig
NETWORKS = {
    "lstm teacher": M(units=16),
    "gru attention, bidirectional, 2 layers": M(arch="attention", cell="gru", units=8,
                                                layers=2, bidirectional=True),
    "lstm luong attention, embedding, reversed source": M(arch="attention", attention="luong",
                                                          units=8, embedding=6,
                                                          reverse_source=True),
    "repeat": M(arch="repeat", units=8, decoder_units=12),
}


@pytest.fixture(scope="module")
def task():
    return sc.make_task("translation", max_pairs=300, holdout=0.2)


def loss_of(model, source, target, weights):
    probs = model.train_model(model.model_inputs(source, target), training=False)
    loss, acc = masked_loss_and_accuracy(tf.constant(target), probs, tf.constant(weights))
    return float(loss), float(acc)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_a_cut_batch_has_the_loss_of_the_padded_batch(task, name):
    model = sc.Seq2Seq.build(task, NETWORKS[name], seed=3)
    pairs = task.sample(np.random.default_rng(5), 64)
    weights = task.target_mask(pairs.target)
    src, tgt = lengths(pairs.source, task.source_vocab.pad, weights)
    short = np.flatnonzero((src <= np.median(src)) & (tgt <= np.median(tgt)))[:16]
    full = (pairs.source[short], pairs.target[short], weights[short])
    source, target, weight = cut(model, *full)
    assert source.shape[1] < task.source_len
    if model.config.feeds_back:
        assert target.shape[1] < task.target_len
    else:  # the repeat decoder writes every step
        assert target.shape[1] == task.target_len
    assert weight.sum() == full[2].sum()
    cut_loss, cut_acc = loss_of(model, source, target, weight)
    full_loss, full_acc = loss_of(model, *full)
    assert cut_loss == pytest.approx(full_loss, rel=1e-5, abs=1e-6)
    assert cut_acc == pytest.approx(full_acc, abs=1e-6)


def test_padding_does_not_change_what_the_encoder_computes(task):
    model = sc.Seq2Seq.build(task, NETWORKS["gru attention, bidirectional, 2 layers"], seed=1)
    text = min((a for a, _ in task.pairs), key=len)
    full = model.prepare_source(task.encode_inputs([text]))
    own = full[:, task.source_len - len(text):]
    assert own.shape[1] < full.shape[1] and (own != task.source_vocab.pad).all()
    a, b = model.nets.encoder(full), model.nets.encoder(own)
    for x, y in zip(a[1:], b[1:]):  # every layer's final states
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-6)
    np.testing.assert_allclose(np.asarray(a[0])[:, -len(text):], np.asarray(b[0]), atol=1e-6)


def test_every_batch_is_padded_only_to_its_own_longest_sentence(task):
    model = sc.Seq2Seq.build(task, M(units=8))
    config = sc.TrainConfig(batch_size=16, chunk_batches=12, seed=4)
    feeder = Feeder(model, config, np.random.default_rng(4))
    widths = set()
    for _ in range(36):
        (source, previous), target, weights = (x.numpy() if not isinstance(x, list)
                                               else [t.numpy() for t in x]
                                               for x in feeder.next_batch())
        assert len(source) == 16
        # the longest source fills the first column; the longest target ends in the last
        assert (source[:, 0] != task.source_vocab.pad).any()
        assert (weights[:, -1] > 0).any()
        np.testing.assert_array_equal(previous[:, 1:], target[:, :-1])
        assert (previous[:, 0] == model.start_id).all()
        widths.add((source.shape[1], target.shape[1]))
    assert len(widths) > 5
    mean_steps = np.mean([s + t for s, t in widths])
    assert mean_steps < task.source_len + task.target_len


def test_buckets_group_similar_lengths_in_a_random_order():
    rng = np.random.default_rng(0)
    n, width = 128, 12
    src_len = rng.integers(1, width + 1, n)
    source = np.zeros((n, width), np.int32)
    for row, k in enumerate(src_len):
        source[row, width - k:] = 5
    weights = (np.arange(10)[None, :] < rng.integers(1, 11, n)[:, None]).astype(np.float32)
    rows = buckets(source, 0, weights, 16, np.random.default_rng(1))
    assert sorted(np.concatenate(rows).tolist()) == list(range(n))
    tgt = weights.sum(1)
    spans = [tgt[r].max() - tgt[r].min() for r in rows]
    assert max(spans) <= 2  # sorted: each batch holds an eighth of the length range
    # the batches in sorted order, then shuffled by the generator
    order = np.lexsort((src_len, tgt))
    in_order = [order[i:i + 16].tolist() for i in range(0, n, 16)]
    shuffle = np.random.default_rng(1).permutation(8)
    assert [r.tolist() for r in rows] == [in_order[i] for i in shuffle]
    assert shuffle.tolist() != sorted(shuffle.tolist())


def test_training_never_sees_a_held_out_pair(task):
    model = sc.Seq2Seq.build(task, M(units=8))
    held_out = {a for a, _ in task.split_pairs("valid")}
    trained = {a for a, _ in task.split_pairs("train")}
    assert held_out and not held_out & trained
    feeder = Feeder(model, sc.TrainConfig(batch_size=32, chunk_batches=20), np.random.default_rng(0))
    seen = set()
    for _ in range(60):
        source = feeder.next_batch()[0][0].numpy()
        seen |= {task.source_text(row) for row in source}
    assert seen <= trained and len(seen) > 0.8 * len(trained)


def test_the_step_is_traced_at_most_three_times_for_all_lengths(task):
    model = sc.Seq2Seq.build(task, M(units=8))
    trainer = Trainer(model, sc.TrainConfig(batch_size=16, chunk_batches=30, max_seconds=60,
                                            max_samples=16 * 30 * 3))
    assert trainer.steps.note == BUCKETED_NOTE and trainer.steps.kind == "graph"
    shapes = set()
    original = trainer.feeder.next_batch

    def watched():
        batch = original()
        shapes.add((batch[0][0].shape[1], batch[1].shape[1]))
        return batch
    trainer.feeder.next_batch = watched
    trainer.run()
    assert trainer.samples_seen == 16 * 30 * 3 and len(shapes) > 5
    assert trainer.steps._steps["graph"].experimental_get_tracing_count() <= 3
    assert "graph" in {r.compiler for r in trainer.history}


def test_xla_rounds_lengths_up_so_it_compiles_few_shapes(task):
    model = sc.Seq2Seq.build(task, M(units=8))
    feeder = Feeder(model, sc.TrainConfig(batch_size=16, chunk_batches=10, compiler="xla"),
                    np.random.default_rng(2))
    for _ in range(20):
        (source, _), target, _ = feeder.next_batch()
        for width, full in ((source.shape[1], task.source_len), (target.shape[1], task.target_len)):
            assert width % 8 == 0 or width == full


def test_tasks_that_are_not_bucketed_keep_their_full_lengths():
    task = sc.make_task("addition")
    model = sc.Seq2Seq.build(task, M(arch="repeat", units=8))
    feeder = Feeder(model, sc.TrainConfig(batch_size=16, chunk_batches=4), np.random.default_rng(0))
    source, target, _ = feeder.next_batch()
    assert source.shape[1] == task.source_len and target.shape[1] == task.target_len
    assert not task.bucketed and model.layers.padding is None


def _as_version_one(data: bytes) -> bytes:
    """The same model file with lab.json saying it was written by format version 1."""
    import io
    import json
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            if item.filename == "lab.json":
                meta = json.loads(raw)
                meta["format"] = "seq2seq-lab/1"
                raw = json.dumps(meta).encode()
            dst.writestr(item, raw)
    return out.getvalue()


def test_an_older_translation_model_file_is_refused_with_the_reason(task):
    from seq2seq_core.persistence import from_bytes, to_bytes
    from seq2seq_core.errors import ModelFileError
    old = _as_version_one(to_bytes(sc.Seq2Seq.build(task, M(units=8))))
    with pytest.raises(ModelFileError, match="whose encoder read the padding before a short "
                                             "sentence; this version's skips it"):
        from_bytes(old)
    reverse = sc.Seq2Seq.build(sc.make_task("reverse"), M(units=8))
    loaded = from_bytes(_as_version_one(to_bytes(reverse)))  # reads its padding as before
    assert loaded.task.name == "reverse" and loaded.layers.padding is None
