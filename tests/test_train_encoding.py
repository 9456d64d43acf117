"""Quantiser and thermometer fitted on training data."""

import numpy as np
import pytest

from lutmesh.errors import ConfigError
from lutmesh.train.encoding import fit_quantizer, fit_thermometer, input_positions


def test_small_integers_keep_their_values():
    X = np.array([[0, 3], [16, 1], [5, 0]], dtype=float)
    q = fit_quantizer(X, 8)
    assert (q(X) == X).all() and (q.bits == 5).all()  # 16 needs 5 bits


def test_real_values_span_the_full_code_range():
    X = np.array([[-1.0, 10.0], [1.0, 20.0], [0.0, 15.0]])
    q = fit_quantizer(X, 4)
    assert q(X).tolist() == [[0, 0], [15, 15], [8, 8]]
    with pytest.raises(ConfigError, match="feature_bits = 0"):
        fit_quantizer(X, 0)


def test_thresholds_split_the_training_data_and_skip_constant_features():
    rng = np.random.default_rng(0)
    X = np.stack([rng.integers(0, 16, 200), np.full(200, 7)], axis=1).astype(float)
    quant = fit_quantizer(X, 8)
    q = quant(X)
    pos, grid = input_positions(2, None)
    enc = fit_thermometer(q, quant, 3, pos, grid)
    t0, t1 = enc.thresholds
    assert 1 <= len(t0) <= 3 and (np.diff(t0) > 0).all() and t1.size == 0
    for t in t0:  # every bit carries information: data on both sides
        assert (q[:, 0] >= t).any() and (q[:, 0] < t).any()


def test_images_keep_their_geometry_and_tables_are_a_row():
    pos, grid = input_positions(6, (2, 3))
    assert grid == (2, 3) and pos.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    pos, grid = input_positions(4, None)
    assert grid == (1, 4) and pos[:, 0].tolist() == [0, 0, 0, 0]
