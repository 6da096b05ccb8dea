"""Token levels: words and subwords from `tokenizers`, trained on the corpus, round-trip
every sentence exactly; unknown words and characters get clear messages; a word-level model
trains, decodes step by step in words and scores its text; its cut batches keep the loss."""
import pickle

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.export import export_script
from seq2seq_core.feeding import cut
from seq2seq_core.gates import cell_trace
from seq2seq_core.mt_metrics import text_scores
from seq2seq_core.steps import masked_loss_and_accuracy
from seq2seq_core.tokenizing import PieceVocabulary, piece_vocabulary

LEVELS = ("word", "subword")


@pytest.fixture(scope="module", params=LEVELS)
def task(request):
    return sc.make_task("translation", max_pairs=400, holdout=0.1, level=request.param,
                        subwords=300)


def test_every_sentence_round_trips_exactly(task):
    sources = task.encode_inputs([a for a, _ in task.pairs])
    targets = task.encode_targets([b for _, b in task.pairs])
    assert [task.source_text(row) for row in sources] == [a for a, _ in task.pairs]
    assert [task.target_text(row) for row in targets] == [b for _, b in task.pairs]
    # targets: the pieces, then the end symbol, then padding
    first = task.target_vocab.split(task.pairs[0][1])
    assert targets[0, len(first)] == task.target_vocab.end
    assert (targets[0, len(first) + 1:] == task.target_vocab.pad).all()


def test_pieces_are_the_tokenizers_own():
    from tokenizers import pre_tokenizers
    vocab = piece_vocabulary(["Vivons ici !", "Improvisons."], "word", 0, ends=True)
    assert vocab.split("Vivons ici !") == ["▁Vivons", "▁ici", "▁", "!"]
    assert vocab.split("Improvisons.") == ["▁Improvisons", "."]
    pre = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
    assert vocab.split("Vivons ici !") == [p for p, _ in pre.pre_tokenize_str("Vivons ici !")]
    assert vocab.tokens[:3] == ("<pad>", "<start>", "<end>")
    ids = [vocab.index[p] for p in vocab.split("ici Vivons !")]
    assert vocab.decode(ids) == "ici Vivons !"


def test_subwords_spell_a_new_word_from_known_pieces():
    task = sc.make_task("translation", max_pairs=400, level="subword", subwords=300)
    new = "I like grasshoppers."  # 'grasshoppers' is in no pair
    assert "grasshoppers" not in {w for a, _ in task.pairs for w in a.split()}
    pieces = task.source_vocab.split(new)
    assert "▁grasshoppers" not in pieces and len(pieces) > 4
    assert task.source_text(task.encode_inputs([new])[0]) == new


def test_sizes_follow_the_level():
    sizes = {level: sc.make_task("translation", max_pairs=400, level=level, subwords=300)
             for level in ("char", "word", "subword")}
    assert sizes["word"].target_len < sizes["subword"].target_len < sizes["char"].target_len
    assert sizes["subword"].source_vocab.size == 300  # the learned vocabulary, pad instead of unk
    assert sizes["word"].unit == "word" and sizes["word"].title == "Word-level translation"


def test_unknown_words_and_characters_are_named():
    word = sc.make_task("translation", max_pairs=400, level="word")
    with pytest.raises(sc.InvalidInput, match=r"has never seen the words 'zebra', 'qqq': a "
                                              r"word-level model knows only the"):
        word.validate("Hello zebra qqq")
    sub = sc.make_task("translation", max_pairs=400, level="subword", subwords=300)
    with pytest.raises(sc.InvalidInput, match=r"has never seen 'ù': the English sentences of "
                                              r"its \d+ pairs use only these characters"):
        sub.validate("Où")
    sub.validate("Hello zebra qqq")  # spelt from known characters
    with pytest.raises(sc.InvalidInput, match=r"at most \d+ subwords"):
        sub.validate("ab " * 60)


def test_vocabularies_are_the_same_when_rebuilt_and_travel_by_pickle(task):
    again = sc.make_task("translation", task.settings)
    assert again.source_vocab.tokens == task.source_vocab.tokens
    assert again.target_vocab.tokens == task.target_vocab.tokens
    copy = pickle.loads(pickle.dumps(task))
    text = task.pairs[3][1]
    assert copy.target_text(copy.encode_targets([text])[0]) == text
    assert isinstance(copy.target_vocab, PieceVocabulary)


def test_a_cut_word_batch_has_the_loss_of_the_padded_batch(task):
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", units=8, embedding=6))
    pairs = task.sample(np.random.default_rng(1), 32)
    weights = task.target_mask(pairs.target)
    short = np.flatnonzero(weights.sum(1) <= np.median(weights.sum(1)))
    full = pairs.source[short], pairs.target[short], weights[short]
    parts = cut(model, *full)
    assert parts[1].shape[1] < task.target_len

    def loss(source, target, w):
        probs = model.train_model(model.model_inputs(source, target), training=False)
        return float(masked_loss_and_accuracy(target, probs, w)[0])
    assert loss(*parts) == pytest.approx(loss(*full), rel=1e-5)


def test_a_word_level_model_trains_decodes_in_words_and_scores_text():
    task = sc.make_task("translation", max_pairs=200, holdout=0.0, level="word")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", units=64, embedding=32))
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32, learning_rate=0.01,
                                               max_samples=12_000, chunk_batches=25))
    trainer.run()
    last = trainer.history[-1]
    assert last.exact_match > 0.3, last  # memorising 200 pairs, word by word
    outputs = Decoder(model).predict([a for a, _ in task.pairs])
    scores = text_scores(outputs, [b for _, b in task.pairs])
    evaluation = sc.evaluate(model, 200)
    assert evaluation.chrf == pytest.approx(scores.chrf) and evaluation.bleu == pytest.approx(
        scores.bleu)
    text = task.pairs[0][0]
    trace = Decoder(model).trace(text)
    read = tuple(task.source_vocab.split(text))
    assert trace.input_tokens[-len(read):] == read
    assert set(trace.input_tokens[:-len(read)]) <= {"⟨pad⟩"}
    pieces = [s.token for s in trace.steps if s.token != "⟨end⟩"]
    assert all(p in task.target_vocab.index for p in pieces)
    assert task.target_vocab.decode([task.target_vocab.index[p] for p in pieces]) == \
        trace.output_text
    gates = cell_trace(model, text)
    assert gates.encoder[0].tokens[-len(read):] == read


def test_word_and_subword_models_are_not_exported():
    settings = sc.settings_for("translation", level="word")
    with pytest.raises(sc.InvalidInput, match="word and subword models are not exported"):
        export_script("translation", settings)


def test_a_subword_model_file_loads_back_with_its_vocabulary(tmp_path):
    from seq2seq_core.persistence import from_bytes, to_bytes
    task = sc.make_task("translation", max_pairs=120, level="subword", subwords=200)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", units=8, embedding=4))
    loaded = from_bytes(to_bytes(model))
    assert loaded.task.settings.level == "subword"
    assert loaded.task.target_vocab.tokens == task.target_vocab.tokens
    texts = [a for a, _ in task.pairs[:20]]
    assert Decoder(loaded).predict(texts) == Decoder(model).predict(texts)


def test_a_reversed_word_source_keeps_its_padding_in_front():
    task = sc.make_task("translation", max_pairs=200, level="word")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8, reverse_source=True))
    text = min((a for a, _ in task.pairs), key=lambda a: len(task.source_vocab.split(a)))
    src = task.encode_inputs([text])
    n = len(task.source_vocab.split(text))
    read = model.prepare_source(src)
    assert n < task.source_len and (read[0, :-n] == task.source_vocab.pad).all()
    assert read[0, -n:].tolist() == src[0, -n:][::-1].tolist()
