"""Default model options chosen from the data's shape, with the reason in words.

The dataclass defaults of :class:`TrainConfig` are the measured best for an 8x8 image
(digits) on an iCE40's LUT4 fabric. They suit other data poorly: on a 20,000-row,
16-feature, 26-class table (``benchmarks/tabular_defaults.py``) the digits model on a
one-row grid reaches 68.5% test, and the same nodes with global wiring 73.2%, because
a table's column order means nothing, so "near" carries no information. The rules:

* an image of at most 8x8 pixels keeps the digits defaults: quarter-pixel shifts (a
  whole-pixel shift costs 3.3 points there) and all training data for 120 epochs, the
  last kept (97.81% mean test accuracy over 110 seeds; ``TrainConfig``);
* a larger image gets three local layers that halve the grid twice, then a 4x4 grid
  of voters, radius 3, eight thresholds and one-pixel shifts for 16 epochs (the
  Fashion-MNIST recipe in the README: ``14x14x24,7x7x48,4x4x160``, 89.01% test with
  8,581 nodes in about 10 minutes here). Without the shifts the model overfits (train
  95%, test 88.47-88.76% over the variants tried); with them train accuracy falls to
  91% and validation keeps rising to the last epochs, so the run is longer: 12 epochs
  gave 88.86%;
* a signal (an image one pixel high, such as MNIST-1D) gets the MNIST-1D recipe:
  K = 6, global wiring, eight thresholds, shift augmentation. On MNIST-1D (seed 0)
  global wiring beat radius 3 on both sizes tried: ``1x40x48,1x20x48,1x10x240`` 64.10%
  test against 58.90% (5,046 / 5,103 nodes, ~170 s each), ``1x40x32,1x20x32,1x10x200``
  59.40% against 57.30%: a class's template may sit anywhere along the signal;
* a table gets global wiring, two one-row layers sized from the number of rows
  (more data carries a larger model; at least the digits model's 512) and 64 voters
  per class, at least 640 in all; from 10,000 rows on, the digits trainer too.

Every option set here is still overridden by a preset, ``--config`` and the command
line, in that order.
"""

from __future__ import annotations

import math

from .config import DIGITS_TRAINER, MEASURED_TRAINER

__all__ = ["shape_defaults", "MEASURED_TRAINER"]

# voters (last-layer nodes) per class for tables, and the rows per first-layer node
TABLE_VOTERS_PER_CLASS = 64
TABLE_ROWS_PER_NODE = 16
# small tables keep the digits model's size (512 hidden nodes, 640 voters), globally
# wired. Over seeds 0-29: breast-cancer 94.04% test with 1x512,1x640 against 93.19%
# with 1x256,1x192 and 93.04% with the digits layers on a one-row grid (radius 2);
# wine 98.24% against 97.87% and 98.43% (standard error ~0.5 point there: its test
# split is 36 samples). Rounding the voters up to a multiple of the classes (642 for
# wine) did not help: 97.13%.
TABLE_MIN_HIDDEN = 512
TABLE_MIN_VOTERS = 640
# from this many training rows a table gets the digits trainer (8 candidates, up to
# 120 epochs, patience 40) instead of MEASURED_TRAINER: on tabular-20k (16,000 training
# rows) it gives 78.78% test over seeds 0-2 against 77.69%, best epochs 17-90; on
# the small tables it does not pay over seeds 0-29 (wine, 142 rows: 96.57% against
# 98.24%; breast-cancer, 455 rows: 94.12% against 94.04%). Where between 455 and
# 16,000 rows the turn lies was not measured.
TABLE_LONG_TRAINING_ROWS = 10_000


def _pow2(value: float, low: int, high: int) -> int:
    """The power of two nearest ``value`` in log terms, within ``[low, high]``."""
    return int(min(high, max(low, 2 ** round(math.log2(max(value, 1))))))


def _image(rows: int, cols: int, n_classes: int) -> tuple[dict, str]:
    if rows == 1 or cols == 1:
        length = max(rows, cols)
        half, quarter = max(1, length // 2), max(1, length // 4)
        return ({**MEASURED_TRAINER,
                 "layers": f"1x{length}x48,1x{half}x48,1x{quarter}x{24 * n_classes}",
                 "lut_inputs": 6, "radius": None, "thermometer_bits": 8, "augment_shift": 4,
                 "epochs": 50, "patience": 12},
                f"a signal of length {length}: the MNIST-1D recipe (K=6, global wiring, "
                f"8 thresholds, shifts of up to 4)")
    if max(rows, cols) <= 8:
        return {}, (f"an image of {rows}x{cols} pixels: the digits defaults (quarter-pixel "
                    f"shifts, all training data for 120 epochs, the last kept)")
    r2, c2, r4, c4 = -(-rows // 2), -(-cols // 2), -(-rows // 4), -(-cols // 4)
    return ({**MEASURED_TRAINER,
             "layers": f"{r2}x{c2}x24,{r4}x{c4}x48,4x4x{16 * n_classes}", "radius": 3,
             "thermometer_bits": 8, "augment_shift": 1, "epochs": 16},
            f"an image of {rows}x{cols} pixels: local layers halving the grid twice, "
            f"then 4x4 voters, radius 3, 8 thresholds, one-pixel shifts (the Fashion-MNIST "
            f"recipe)")


def _table(n_rows: int, n_features: int, n_classes: int) -> tuple[dict, str]:
    hidden = _pow2(n_rows / TABLE_ROWS_PER_NODE, TABLE_MIN_HIDDEN, 2048)
    voters = max(TABLE_VOTERS_PER_CLASS * n_classes, TABLE_MIN_VOTERS)
    long = n_rows >= TABLE_LONG_TRAINING_ROWS
    trainer = DIGITS_TRAINER if long else MEASURED_TRAINER
    return ({**trainer, "layers": f"1x{hidden},1x{voters}", "radius": None},
            f"a table ({n_rows} rows, {n_features} features, {n_classes} classes): global "
            f"wiring (column order carries no locality), {hidden} hidden nodes "
            f"(~{TABLE_ROWS_PER_NODE} rows each), {voters} voters"
            + (", the digits trainer (8 candidates, up to 120 epochs)" if long else ""))


def shape_defaults(dataset) -> tuple[dict, str]:
    """``(options, reason)``: the training options this data set's shape calls for."""
    if dataset.image_shape is not None:
        return _image(*dataset.image_shape, dataset.n_classes)
    return _table(len(dataset.X_train), dataset.n_features, dataset.n_classes)
