"""What to feed a model: its data set's test split, or seeded random inputs.

``lutmesh verify``, ``report`` (for switching activity) and ``run`` (a board) all
stream samples through a model; they take them from here, so "the model's own test
split" means the same samples everywhere.
"""

from __future__ import annotations

import numpy as np

from .datasets import load_dataset
from .errors import DataError
from .netlist import Netlist

__all__ = ["random_inputs", "random_raw_inputs", "labelled_samples", "verification_samples"]


def random_inputs(net: Netlist, samples: int, seed: int = 0) -> np.ndarray:
    """Random quantised feature vectors (S, F) covering each feature's full range."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << net.quantizer.bits, size=(samples, net.n_features))


def random_raw_inputs(net: Netlist, samples: int, seed: int = 0) -> np.ndarray:
    """Raw features whose quantisation is :func:`random_inputs` (every code reachable).

    ``offset + q / scale`` lands on the centre of code ``q``'s interval, so the
    quantiser gives back exactly ``q``: verification then sees the full input range.
    """
    q = random_inputs(net, samples, seed)
    return net.quantizer.offset + q / net.quantizer.scale


def labelled_samples(net: Netlist, dataset: str | None, count: int | None, seed: int, *,
                     data_dir=None, label_column=None):
    """Raw test-split features, their labels (None for random data) and where they came from.

    ``dataset`` None means the model's own; 'random' (or a model that records no
    dataset) gives ``count`` (default 1000) seeded random samples covering every code.
    """
    name = dataset or net.meta.get("dataset")
    if name is None or name == "random":
        n = count or 1000
        return random_raw_inputs(net, n, seed=seed), None, f"random ({n} samples, seed {seed})"
    ds = load_dataset(name, data_dir=data_dir, label_column=label_column)
    X, y = np.asarray(ds.X_test, dtype=np.float64), np.asarray(ds.y_test)
    if X.shape[1] != net.n_features:
        raise DataError(f"{name}: {X.shape[1]} features, the model expects {net.n_features}")
    if count is not None:
        X, y = X[:count], y[:count]
    return X, y, f"{ds.name} test split ({len(X)} samples)"


def verification_samples(net: Netlist, dataset: str | None, count: int | None, seed: int, *,
                         data_dir=None, label_column=None):
    """Raw test-split features to verify on (and a label saying where they came from)."""
    X, _, source = labelled_samples(net, dataset, count, seed, data_dir=data_dir,
                                    label_column=label_column)
    return X, source
