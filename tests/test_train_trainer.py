import json

import numpy as np
import pytest

from lutmesh import Netlist
from lutmesh.cli import main
from lutmesh.netlist import projected_centre
from lutmesh.train import fit, train
from lutmesh.train.config import TrainConfig, load_config
from lutmesh.datasets import load_dataset

SMALL = dict(layers="4x4x4,2x2x10", epochs=3, progress=False)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def result(digits):
    return fit(digits, TrainConfig(**SMALL, candidates=3))


def test_exported_netlist_equals_hardened_model(result, digits):
    raw, net, model = result.unpruned, result.netlist, result.model
    X = np.concatenate([digits.X_train, digits.X_test])
    hard = model.hard_predict(raw.encode(raw.quantize(X)))
    np.testing.assert_array_equal(raw.predict(X), hard)
    np.testing.assert_array_equal(net.predict(X), hard)
    assert result.metrics["accuracy"]["test"] == pytest.approx(
        float((net.predict(digits.X_test) == digits.y_test).mean()))


def test_locality_holds_on_exported_netlist(result):
    net = result.netlist
    prev_pos, prev_grid = net.encoder.bit_positions, net.encoder.grid
    for layer in net.layers:
        assert layer.radius == 2
        centre = projected_centre(layer.positions, layer.grid, prev_grid)
        used = layer.inputs >= 0
        src = prev_pos[np.where(used, layer.inputs, 0)]
        dist = np.abs(src - centre[:, None, :]).max(axis=2)
        assert (dist[used] <= 2).all()
        prev_pos, prev_grid = layer.positions, layer.grid


def test_training_is_deterministic(digits, result):
    again = train(digits, TrainConfig(**SMALL, candidates=3))
    assert again.content_hash() == result.netlist.content_hash()
    other = train(digits, TrainConfig(**SMALL, candidates=3, seed=1))
    assert other.content_hash() != result.netlist.content_hash()


def test_global_radius_trains(digits):
    r = fit(digits, TrainConfig(**SMALL, radius=None))
    assert all(layer.radius is None for layer in r.netlist.layers)
    assert r.metrics["accuracy"]["test"] > 0.5


def test_tabular_dataset_trains():
    r = fit(load_dataset("iris"), TrainConfig(layers="1x4x6,1x2x6", epochs=20, progress=False,
                                              validation_fraction=0.1))
    assert r.metrics["accuracy"]["test"] >= 0.8


def test_metrics_report_pruning_and_gap(result):
    m = result.metrics
    assert sum(m["nodes_before_pruning"]) >= m["nodes"] == result.netlist.n_nodes
    assert "soft_hard_gap" in m and m["train_seconds"] > 0


def test_without_a_split_all_data_is_fitted_and_the_last_epoch_kept(result, digits):
    m = result.metrics
    assert set(m["accuracy"]) == {"train", "test"} and m["gap_measured_on"] == "train"
    assert m["best_epoch"] == m["epochs_run"] == SMALL["epochs"]
    assert [h["val_hard_accuracy"] for h in m["history"]] == [None] * SMALL["epochs"]
    assert m["accuracy"]["train"] == pytest.approx(
        float((result.netlist.predict(digits.X_train) == digits.y_train).mean()))


def test_a_split_holds_data_out_and_stops_early(digits):
    m = fit(digits, TrainConfig(**{**SMALL, "epochs": 12}, candidates=3, validation_fraction=0.2,
                                patience=2)).metrics
    assert set(m["accuracy"]) == {"train", "validation", "test"}
    assert m["gap_measured_on"] == "validation" and m["soft_validation_accuracy"] is not None
    assert m["epochs_run"] - m["best_epoch"] <= 2
    best = max(h["val_hard_accuracy"] for h in m["history"])
    assert m["history"][m["best_epoch"] - 1]["val_hard_accuracy"] == best


def test_config_from_toml_and_overrides(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[train]\nlayers = "4x4x2,2x2x10"\nlut-inputs = 5\nradius = "global"\n')
    c = load_config(cfg, epochs=7)
    assert (c.layers, c.lut_inputs, c.radius, c.epochs) == ("4x4x2,2x2x10", 5, None, 7)


def test_preset_sits_under_the_toml_file_and_the_options(tmp_path):
    from lutmesh.errors import ConfigError
    from lutmesh.train.config import PRESETS

    base = load_config(preset="explainable")
    for key, value in PRESETS["explainable"].items():
        assert getattr(base, key) == value
    cfg = tmp_path / "c.toml"
    cfg.write_text('layers = "4x4x2,2x2x10"\n')
    assert load_config(cfg, preset="explainable").layers == "4x4x2,2x2x10"
    assert load_config(preset="explainable", layers="4x4x4,2x2x10").layers == "4x4x4,2x2x10"
    with pytest.raises(ConfigError, match="preset 'tiny'"):
        load_config(preset="tiny")


def test_train_cli_writes_netlist_and_metrics(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "--dataset", "digits", "--out", str(out), "--layers", "4x4x4,2x2x10",
                 "--epochs", "2", "--quiet"]) == 0
    net = Netlist.load(out)
    metrics = json.loads((tmp_path / "m.metrics.json").read_text())
    assert metrics["nodes"] == net.n_nodes
    assert net.meta["accuracy"] == metrics["accuracy"]
    printed = capsys.readouterr().out
    assert "no validation split" in printed and "the last of 2 epochs kept" in printed
    assert main(["train", "--dataset", "digits", "--out", str(out), "--layers", "4x4x4,2x2x10",
                 "--epochs", "2", "--quiet", "--validation-fraction", "0.2"]) == 0
    printed = capsys.readouterr().out
    assert "validation " in printed and "best epoch" in printed and "(on train)" not in printed


def test_mirror_index_reverses_each_image_row_and_leaves_signals_and_tables():
    from lutmesh.train.trainer import _mirror_index

    X = np.arange(2 * 6).reshape(2, 6)
    np.testing.assert_array_equal(X[:, _mirror_index((2, 3))], [[2, 1, 0, 5, 4, 3],
                                                                 [8, 7, 6, 11, 10, 9]])
    assert _mirror_index((1, 40)) is None and _mirror_index(None) is None


def test_mirrored_batches_mix_both_encodings_and_only_when_asked():
    from lutmesh.train.trainer import _batch_bits, _mirror_index

    mirror = _mirror_index((2, 2))
    X = np.array([[1, 2, 3, 4]] * 64)
    bits, mirrored = X * 10, X[:, mirror] * 10
    idx = np.arange(64)
    out = _batch_bits(X, bits, mirrored, idx, mirror, 0, 0.0, (2, 2), None, None,
                      np.random.default_rng(0))
    flipped = (out == mirrored).all(axis=1)
    assert 0 < flipped.sum() < 64 and ((out == bits).all(axis=1) | flipped).all()
    plain = _batch_bits(X, bits, None, idx, None, 0, 0.0, (2, 2), None, None, None)
    np.testing.assert_array_equal(plain, bits)


def test_subpixel_shift_interpolates_a_ramp_by_the_drawn_offsets():
    from lutmesh.train.trainer import _subpixel_shift

    rows, cols = 6, 7
    ramp = np.add.outer(10.0 * np.arange(rows), np.arange(cols))  # value = 10 r + c
    X = np.tile(ramp.ravel(), (5, 1))
    out = _subpixel_shift(X, (rows, cols), 0.4, np.random.default_rng(2), 0.0)
    draws = np.random.default_rng(2)
    dr, dc = draws.uniform(-0.4, 0.4, 5), draws.uniform(-0.4, 0.4, 5)
    assert (np.abs(dr) > 0.05).all() and (np.abs(dc) > 0.05).all()  # both signs drawn
    inner = out.reshape(5, rows, cols)[:, 1:-1, 1:-1]
    expected = ramp[None, 1:-1, 1:-1] - 10 * dr[:, None, None] - dc[:, None, None]
    np.testing.assert_allclose(inner, expected, atol=1e-12)
    # the edges take in background: a linear ramp would not stay linear there
    assert not np.allclose(out.reshape(5, rows, cols)[:, 0, :],
                           ramp[None, 0, :] - 10 * dr[:, None] - dc[:, None])


def test_subpixel_shift_keeps_ink_moves_signals_along_and_zero_is_identity():
    from lutmesh.train.trainer import _subpixel_shift

    rng = np.random.default_rng(0)
    img = np.zeros((40, 8, 8))
    img[:, 2:6, 2:6] = rng.random((40, 4, 4))  # a background border one pixel wide or more
    out = _subpixel_shift(img.reshape(40, -1), (8, 8), 1.0, rng, 0.0)
    np.testing.assert_allclose(out.sum(axis=1), img.reshape(40, -1).sum(axis=1))
    assert not np.allclose(out, img.reshape(40, -1))
    signal = rng.random((3, 12))
    moved = _subpixel_shift(signal, (1, 12), 0.5, np.random.default_rng(1), 0.0)
    d = np.random.default_rng(1).uniform(-0.5, 0.5, 3)[:, None]  # one draw: the length
    left, here, right = signal[:, :-2], signal[:, 1:-1], signal[:, 2:]
    expected = np.where(d > 0, here + d * (left - here), here - d * (right - here))
    np.testing.assert_allclose(moved[:, 1:-1], expected)
    np.testing.assert_array_equal(_subpixel_shift(img.reshape(40, -1), (8, 8), 0.0, rng, 0.0),
                                  img.reshape(40, -1))


def test_subpixel_option_is_the_digits_default_and_changes_the_model(digits, result):
    assert TrainConfig().augment_subpixel == 0.25
    still = fit(digits, TrainConfig(**SMALL, candidates=3, augment_subpixel=0.0))
    assert still.netlist.content_hash() != result.netlist.content_hash()
    again = fit(digits, TrainConfig(**SMALL, candidates=3))
    assert again.netlist.content_hash() == result.netlist.content_hash()


def test_flip_option_trains_and_changes_the_model(digits, result):
    flipped = fit(digits, TrainConfig(**SMALL, candidates=3, augment_flip=True))
    assert flipped.metrics["config"]["augment_flip"] is True
    assert flipped.netlist.content_hash() != result.netlist.content_hash()


def test_radius_zero_on_the_first_layer_reads_one_pixel_per_node(digits):
    net = fit(digits, TrainConfig(layers="8x8x2,2x2x10", epochs=2, progress=False,
                                  radius=(0, 2))).unpruned
    pixel = net.encoder.bit_feature
    first = net.layers[0]
    for node, row in enumerate(first.inputs):
        read = {int(pixel[i]) for i in row if i >= 0}
        assert len(read) <= 1, (node, read)
    # pixels that never vary have no bits: their nodes read the nearest pixel that does
    assert (net.encoder.counts == 0).any()
    assert first.radius >= 1 and net.layers[1].radius == 2
    own = [int(pixel[row[row >= 0][0]]) == node // 2 for node, row in enumerate(first.inputs)
           if (row >= 0).any()]
    assert sum(own) >= 50
