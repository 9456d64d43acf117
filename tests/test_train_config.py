"""Training options: validated once, from TOML and the command line."""

import pytest

from lutmesh.errors import ConfigError
from lutmesh.train.config import TrainConfig, coerce, load_config


def test_toml_then_overrides_and_a_train_table(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[train]\nlayers = "4x4x4"\nlut-inputs = 3\nradius = "global"\n')
    c = load_config(f, lut_inputs=5, epochs=None)
    assert (c.layers, c.lut_inputs, c.radius, c.epochs) == ("4x4x4", 5, None, TrainConfig().epochs)


@pytest.mark.parametrize("name, value, message", [
    ("radius", "near", "radius = 'near': expected an integer or 'global'"),
    ("epochs", 2.5, "epochs = 2.5: expected an integer"),
    ("learning_rate", "fast", "learning_rate = 'fast': expected float"),
    ("speed", 1, "unknown option 'speed'"),
])
def test_bad_values_name_the_option(name, value, message):
    with pytest.raises(ConfigError, match=message):
        coerce(name, value)


def test_out_of_range_values_are_refused_at_construction():
    with pytest.raises(ConfigError, match="patience = 0: expected >= 1"):
        TrainConfig(patience=0)
    with pytest.raises(ConfigError, match="lut_budget = 0: expected >= 1"):
        TrainConfig(lut_budget=0)
    with pytest.raises(ConfigError, match=r"augment_subpixel = 1.5: expected 0..1 \(a pixel\)"):
        TrainConfig(augment_subpixel=1.5)
    with pytest.raises(ConfigError, match="layers: '4x0'"):
        TrainConfig(layers="4x0").layer_specs


def test_a_missing_or_broken_file_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("layers = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_to_dict_is_what_reuse_compares():
    d = TrainConfig(seed=3).to_dict()
    assert d["seed"] == 3 and "progress" not in d
    assert TrainConfig(seed=3, progress=False).to_dict() == d


@pytest.mark.parametrize("value, expected", [(True, True), ("false", False), ("1", True),
                                             ("off", False), (0, False)])
def test_switches_take_true_and_false_spelled_any_usual_way(value, expected):
    assert coerce("augment_flip", value) is expected


def test_a_switch_refuses_other_words():
    with pytest.raises(ConfigError, match="augment_flip = 'maybe': expected true or false"):
        coerce("augment_flip", "maybe")


def test_radius_one_per_layer_from_the_command_line_or_a_toml_list(tmp_path):
    assert coerce("radius", "0,2") == (0, 2)
    assert coerce("radius", " 1 , global ") == (1, None)
    assert coerce("radius", [0, "global", 2]) == (0, None, 2)
    assert coerce("radius", [3]) == 3 and coerce("radius", "global") is None
    cfg = TrainConfig(layers="8x8x6,4x4x20", radius=(0, 2))
    assert cfg.layer_radii == (0, 2) and TrainConfig(layers="8x8,4x4").layer_radii == (2, 2)
    toml = tmp_path / "c.toml"
    toml.write_text('layers = "8x8x6,4x4x20"\nradius = [0, "global"]\n')
    assert load_config(toml).layer_radii == (0, None)
    with pytest.raises(ConfigError, match=r"one per layer \(2 layers"):
        TrainConfig(layers="8x8,4x4", radius=(0, 1, 2))
    with pytest.raises(ConfigError, match="radius"):
        coerce("radius", "0,near")
    with pytest.raises(ConfigError, match="radius"):
        TrainConfig(radius=(0, -1))


def test_the_earlier_digits_trainer_is_spelled_once_and_the_explainable_preset_uses_it():
    from lutmesh.train.config import DIGITS_TRAINER, PRESETS

    # the digits default now trains on all its data, with quarter-pixel shifts ...
    assert TrainConfig().validation_fraction == 0 and TrainConfig().augment_subpixel == 0.25
    # ... the presets measured before keep the split, early stopping and no shifts
    assert DIGITS_TRAINER == {"candidates": 8, "epochs": 120, "patience": 40,
                              "validation_fraction": 0.1, "augment_subpixel": 0.0}
    assert {k: PRESETS["explainable"][k] for k in DIGITS_TRAINER} == DIGITS_TRAINER


def test_a_per_layer_radius_survives_the_json_round_trip_reuse_compares():
    import json

    cfg = TrainConfig(layers="8x8x6,4x4x20", radius=(0, None))
    assert json.loads(json.dumps(cfg.to_dict())) == cfg.to_dict()
    assert cfg.to_dict()["radius"] == [0, None]
