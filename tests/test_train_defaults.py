"""Defaults from the data's shape: which rule each shape gets, and what overrides them."""

import numpy as np
import pytest

from lutmesh.cli import main
from lutmesh.datasets import Dataset, load_dataset
from lutmesh.train.config import DIGITS_TRAINER, MEASURED_TRAINER, TrainConfig, load_config
from lutmesh.train.defaults import shape_defaults


def synthetic(n_rows: int, n_features: int, n_classes: int, image_shape=None) -> Dataset:
    rng = np.random.default_rng(0)
    X = rng.random((n_rows, n_features))
    y = np.arange(n_rows) % n_classes
    return Dataset("synthetic", X, y, X[:20], y[:20], tuple(map(str, range(n_classes))),
                   tuple(f"f{i}" for i in range(n_features)), image_shape)


def test_small_images_keep_the_digits_defaults():
    options, why = shape_defaults(load_dataset("digits"))
    assert options == {} and "8x8" in why
    assert load_config(data=load_dataset("digits")) == TrainConfig()


def test_large_images_get_local_layers_halving_the_grid():
    options, why = shape_defaults(synthetic(50, 784, 10, (28, 28)))
    assert options["layers"] == "14x14x24,7x7x48,4x4x160"
    assert options["radius"] == 3 and options["augment_shift"] == 1 and "28x28" in why


def test_signals_get_the_mnist1d_recipe():
    options, _ = shape_defaults(synthetic(50, 40, 10, (1, 40)))
    assert options["layers"] == "1x40x48,1x20x48,1x10x240"
    assert options["lut_inputs"] == 6 and options["radius"] is None


@pytest.mark.parametrize("rows, hidden", [(100, 512), (16_000, 1024), (1_000_000, 2048)])
def test_tables_get_global_wiring_sized_by_rows(rows, hidden):
    options, why = shape_defaults(synthetic(rows, 16, 26) if rows < 50_000 else
                                  Dataset("big", np.zeros((rows, 2)), np.arange(rows) % 2,
                                          np.zeros((2, 2)), np.arange(2), ("a", "b"),
                                          ("x", "y")))
    classes = 26 if rows < 50_000 else 2
    voters = 64 * classes if classes == 26 else 640  # at least 640 voters in all
    trainer = DIGITS_TRAINER if rows >= 10_000 else MEASURED_TRAINER
    assert options == {"layers": f"1x{hidden},1x{voters}", "radius": None, **trainer}
    assert "global" in why
    assert ("digits trainer" in why) == (rows >= 10_000)


@pytest.mark.parametrize("data", [synthetic(50, 784, 10, (28, 28)), synthetic(50, 40, 10, (1, 40)),
                                  synthetic(100, 5, 3)], ids=["image", "signal", "table"])
def test_other_shapes_keep_the_trainer_settings_they_were_measured_with(data):
    config = load_config(data=data)
    assert config.candidates == 4 and config.candidates != TrainConfig().candidates
    assert config.epochs != TrainConfig().epochs


@pytest.mark.parametrize("classes, voters", [(3, 640), (2, 640), (10, 640), (11, 704)])
def test_tables_get_64_voters_per_class_and_at_least_640(classes, voters):
    options, why = shape_defaults(synthetic(100, 5, classes))
    assert options["layers"] == f"1x512,1x{voters}"
    assert f"{voters} voters" in why


def test_preset_file_and_options_override_the_shape_defaults(tmp_path):
    table = synthetic(100, 5, 3)
    assert load_config(data=table).radius is None
    assert load_config(data=table, radius=2).radius == 2
    explainable = load_config(data=table, preset="explainable")
    assert explainable.layers == "8x8x8,4x4x20"
    # the digits trainer it was measured with, over the table's shape defaults
    assert (explainable.candidates, explainable.epochs, explainable.patience) == (8, 120, 40)
    path = tmp_path / "c.toml"
    path.write_text('layers = "1x32,1x30"\n')
    assert load_config(path, data=table).layers == "1x32,1x30"


def test_train_cli_says_which_default_it_chose(tmp_path, capsys):
    assert main(["train", "--dataset", "wine", "--out", str(tmp_path / "m.npz"), "--epochs", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "defaults for a table (142 rows, 13 features, 3 classes): global wiring" in out
    assert "model: layers 1x512,1x640, K=4, radius global" in out
