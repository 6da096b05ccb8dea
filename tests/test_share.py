"""Shareable links: configuration -> query parameters -> the same configuration."""
from dataclasses import fields
from urllib.parse import parse_qs

import pytest

import seq2seq_core as sc
from seq2seq_core.presets import PRESETS
from seq2seq_core.share import from_query, query_string, to_query

CASES = [
    ("reverse", sc.settings_for("reverse", n_in=8, n_out=8, mode="reverse_all"),
     sc.ModelConfig(cell="gru", bidirectional=True, reverse_source=True),
     sc.TrainConfig(target_accuracy=0.99, seed=3)),
    ("addition", sc.settings_for("addition", n_terms=4, largest=99, operators="+-*",
                                 variable_terms=True),
     sc.ModelConfig(arch="repeat", units=75, decoder_units=50, layers=2, dropout=0.25),
     sc.TrainConfig(batch_size=32, learning_rate=0.001, max_seconds=60.0, clipnorm=0.0)),
    ("dates", sc.settings_for("dates", formats=("MMM d, yy", "dd/mm/yyyy", "dddd, MMMM do yyyy"),
                              first_year=1990, last_year=2030),
     sc.ModelConfig(embedding=16), sc.TrainConfig(max_samples=1234, eval_samples=77)),
    ("translation", sc.settings_for("translation", corpus="fra.txt", max_pairs=60, holdout=0.0),
     sc.ModelConfig(units=256), sc.TrainConfig(chunk_batches=10)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_round_trip(case):
    query = to_query(*case)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    assert from_query(query) == case
    # through a real URL: parse_qs gives lists, as repeated keys would
    assert from_query(parse_qs(query_string(query))) == case


def test_presets_round_trip():
    for p in PRESETS:
        assert from_query(to_query(p.task, p.settings, p.model, p.train)) == \
            (p.task, p.settings, p.model, p.train), p.name


def test_only_non_default_values():
    assert to_query("addition", sc.settings_for("addition"), sc.ModelConfig(), sc.TrainConfig()) \
        == {"task": "addition"}
    assert to_query("dates", sc.settings_for("dates", first_year=1960), sc.ModelConfig(units=64),
                    sc.TrainConfig(target_accuracy=0.9)) == \
        {"task": "dates", "first_year": "1960", "units": "64", "target_accuracy": "0.9"}


def test_defaults_and_none():
    assert from_query({}) == ("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                              sc.TrainConfig())
    _, _, model, train = from_query({"task": "reverse", "decoder_units": "none",
                                     "target_accuracy": "", "units": ["8", "16"]})
    assert model.decoder_units is None and train.target_accuracy is None
    assert model.units == 16  # the last of repeated values, as Streamlit does
    # repeated keys for a tuple give its elements
    _, settings, _, _ = from_query({"task": "dates", "formats": ["dd.mm.yy", "yyyy/mm/dd"]})
    assert settings.formats == ("dd.mm.yy", "yyyy/mm/dd")
    assert from_query({"task": "reverse", "page": "train", "n_terms": "5"})[1] == \
        sc.settings_for("reverse")  # other keys are ignored


@pytest.mark.parametrize("params, message", [
    ({"task": "poetry"}, "unknown task 'poetry'"),
    ({"units": "many"}, "units='many' must be a whole number"),
    ({"learning_rate": "fast"}, "learning_rate='fast' must be a number"),
    ({"bidirectional": "maybe"}, "bidirectional='maybe' must be 1 or 0"),
    ({"units": "0"}, "model settings are not valid: Units must be between"),
    ({"task": "reverse", "n_in": "2", "n_out": "5"}, "task settings are not valid: Output length"),
    ({"task": "dates", "formats": "dd/mm/yyyy|nonsense"}, "Formats must be one or more of"),
    ({"target_accuracy": "2"}, "training settings are not valid: Target must be between"),
])
def test_bad_values(params, message):
    with pytest.raises(sc.InvalidInput, match=message):
        from_query(params)


def test_keys_do_not_collide():
    groups = [{f.name for f in fields(sc.ModelConfig)}, {f.name for f in fields(sc.TrainConfig)}]
    settings = set().union(*({f.name for f in fields(cls)} for cls, _ in sc.REGISTRY.values()))
    assert not (groups[0] & groups[1]) and not (settings & (groups[0] | groups[1]))
    assert "task" not in settings | groups[0] | groups[1]
