"""One source per setting: the Spec next to each field drives validation, the Train page's
widgets, share links and the command line's help."""
from __future__ import annotations

import re
from dataclasses import fields, replace

import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

import seq2seq_core as sc
from seq2seq_core.cli import settings_help
from seq2seq_core.presets import FAST_DEMOS, SEED_EXAMPLES
from seq2seq_core.limits import bound
from seq2seq_core.settings import kinds, parse_numbers, spec, specs
from ui import form, share

CLASSES = [cls for cls, _ in sc.REGISTRY.values()] + [sc.ModelConfig, sc.TrainConfig]
NUMBERS = [(cls, name) for cls in CLASSES for name, sp in specs(cls).items()
           if sp.low is not None and kinds(cls)[name][0] in (int, float)]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_field_has_a_spec_with_a_label(cls):
    assert set(specs(cls)) == {f.name for f in fields(cls)}
    assert all(sp.label for sp in specs(cls).values())


@pytest.mark.parametrize("cls,name", NUMBERS, ids=lambda x: getattr(x, "__name__", x))
def test_a_value_just_outside_the_range_is_refused_by_its_label(cls, name):
    sp, base = spec(cls, name), kinds(cls)[name][0]
    step = 1 if base is int else 1e-9
    for bad in (sp.low - step, sp.high + step):
        expected = f"{sp.label} must be between {bound(sp.low)} and {bound(sp.high)}"
        with pytest.raises(sc.InvalidInput, match="^" + re.escape(expected)):
            replace(cls(), **{name: base(bad)})


@hyp_settings(max_examples=60, deadline=None)
@given(st.integers(-10, 2_000))
def test_units_accepted_exactly_within_their_range(units):
    sp = spec(sc.ModelConfig, "units")
    if sp.low <= units <= sp.high:
        assert sc.ModelConfig(units=units).units == units
    else:
        with pytest.raises(sc.InvalidInput, match="Units must be between 1 and 1024"):
            sc.ModelConfig(units=units)


def test_a_selection_setting_checks_each_item():
    assert sc.settings_for("addition", operators="-+").operators == "-+"
    with pytest.raises(sc.InvalidInput, match=r"Operators must be one or more of '\+', '-', "
                                              r"'\*', each once; got unknown '/'"):
        sc.settings_for("addition", operators="+/")
    with pytest.raises(sc.InvalidInput, match="Formats must be one or more of .* got nothing"):
        sc.settings_for("dates", formats=())
    assert sc.settings_for("dates", formats=["dd/mm/yyyy"]).formats == ("dd/mm/yyyy",)


PRESETS = [*FAST_DEMOS, *SEED_EXAMPLES]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_widget_values_read_back_to_the_same_settings(preset):
    """What a preset puts in the widgets reads back, field by field, as the preset's own."""
    for obj in (preset.settings, preset.model, preset.train):
        cls = type(obj)
        for name in specs(cls):
            value = getattr(obj, name)
            assert form.field_value(cls, name, form.widget_value(cls, name, value)) == value, (cls, name)


def test_widget_defaults_come_from_the_dataclass_defaults():
    assert form.DEFAULTS["w_units"] == sc.ModelConfig().units
    assert form.DEFAULTS["w_target_accuracy"] == 0.0  # None shown as its `unset`
    assert form.DEFAULTS["w_addition_operators"] == ["+"]
    assert form.DEFAULTS["w_max_seconds"] == 600.0 and isinstance(form.DEFAULTS["w_max_seconds"], float)


def test_a_link_outside_a_range_names_the_setting_and_its_range():
    with pytest.raises(sc.InvalidInput, match="Number of terms must be between 1 and 8; got 9"):
        share.link_values({"task": "addition", "n_terms": "9"})
    values = share.link_values({"task": "addition", "n_terms": "8", "target_accuracy": "0.9"})
    assert values["w_addition_n_terms"] == 8 and values["w_target_accuracy"] == 0.9


def test_command_line_help_lists_every_setting_with_its_range():
    text = settings_help()
    for cls in CLASSES:
        for name, sp in specs(cls).items():
            assert f"  {name}: {sp.label}" in text
    assert "units: Units (1 to 1,024)" in text
    assert "decoder_units: Decoder units (1 to 2,048; none: the same as the encoder's units)" in text


def test_the_train_page_draws_each_widget_from_its_spec(app_test):
    at = app_test()
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    units = at.number_input(key="w_units")
    sp = spec(sc.ModelConfig, "units")
    assert (units.label, units.min, units.max, units.help) == (sp.label, sp.low, sp.high, sp.help)
    target = at.number_input(key="w_target_accuracy")
    assert target.min == 0.0 and "0: no target" in target.help
    assert at.selectbox(key="w_task").format_func("translation") == "Translation (English → French)"


def test_parse_numbers():
    assert parse_numbers("4, 8 12;16", "lengths") == (4, 8, 12, 16)
    assert parse_numbers("", "lengths") == ()
    for bad in ("4, x", "1.5", "-3", "٣", "9" * 40):
        with pytest.raises(sc.InvalidInput, match="The lengths must be whole numbers"):
            parse_numbers(bad, "lengths")
