"""Fitting the input side of a netlist: quantiser and thermometer thresholds.

Both are fitted on training data only. The thermometer thresholds sit at quantiles
of each feature's quantised training values, so every encoded bit splits the data
somewhere informative; a feature that never varies gets no bits at all (and so no
hardware).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..netlist import MAX_FEATURE_BITS, Quantizer, ThermometerEncoder

__all__ = ["fit_quantizer", "fit_thermometer", "input_positions"]


def fit_quantizer(X_train: np.ndarray, feature_bits: int) -> Quantizer:
    """Per-feature affine map to ``feature_bits``-bit integers.

    Integer-valued non-negative data that already fits (digits' 0..16 pixels, bytes)
    keeps its values exactly, with the narrowest width that holds its maximum;
    anything else is mapped linearly from its training min..max onto 0..2**bits-1.
    """
    if not 1 <= feature_bits <= MAX_FEATURE_BITS:
        raise ConfigError(f"feature_bits = {feature_bits}: expected 1..{MAX_FEATURE_BITS}")
    X = np.asarray(X_train, dtype=np.float64)
    lo, hi = X.min(axis=0), X.max(axis=0)
    integral = bool(np.all(X == np.round(X))) and lo.min() >= 0 \
        and hi.max() < (1 << feature_bits)
    n = X.shape[1]
    if integral:
        top = max(int(hi.max()), 1)
        width = max(1, int(top).bit_length())
        return Quantizer(np.full(n, width), np.ones(n), np.zeros(n))
    span = np.where(hi > lo, hi - lo, 1.0)
    scale = ((1 << feature_bits) - 1) / span
    return Quantizer(np.full(n, feature_bits), scale, lo)


def input_positions(n_features: int, image_shape: tuple | None) -> tuple[np.ndarray, tuple]:
    """Each feature's (row, col) on the input grid: pixel geometry, or one row."""
    if image_shape is not None:
        rows, cols = image_shape
        f = np.arange(n_features)
        return np.stack([f // cols, f % cols], axis=1), (int(rows), int(cols))
    return np.stack([np.zeros(n_features, int), np.arange(n_features)], axis=1), (1, n_features)


def fit_thermometer(q_train: np.ndarray, quantizer: Quantizer, n_thresholds: int,
                    positions: np.ndarray, grid: tuple) -> ThermometerEncoder:
    """Up to ``n_thresholds`` strictly increasing thresholds per feature, at quantiles.

    A bit ``q >= t`` only carries information if some training values lie on each
    side of ``t``; thresholds are the smallest such cut points at the quantile levels
    ``j / (T + 1)``, de-duplicated.
    """
    if not 1 <= n_thresholds <= 64:
        raise ConfigError(f"thermometer_bits = {n_thresholds}: expected 1..64")
    levels = np.arange(1, n_thresholds + 1) / (n_thresholds + 1)
    thresholds = []
    for f in range(q_train.shape[1]):
        col = np.sort(q_train[:, f])
        top = (1 << int(quantizer.bits[f])) - 1
        if col[0] == col[-1]:
            thresholds.append(np.zeros(0, dtype=np.int64))
            continue
        # value at each quantile level; the threshold is the next value above the lower
        # side, so that "q >= t" is true for about (1 - level) of the data.
        cuts = np.quantile(col, levels, method="higher").astype(np.int64)
        cuts = np.clip(cuts, col[0] + 1, min(int(col[-1]), top))
        thresholds.append(np.unique(cuts))
    return ThermometerEncoder(tuple(thresholds), positions, grid)
