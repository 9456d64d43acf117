"""Random *valid* netlists, for tests and benchmarks of every downstream stage.

Hardware and verification must be right for any netlist the contract allows, not
only for the ones today's trainer happens to produce: unused inputs, constant
nodes, ragged thresholds, several nodes per grid cell, global layers, unused last
layer nodes. This generator exercises all of them, seeded.
"""

from __future__ import annotations

import numpy as np

from .samples import random_inputs, random_raw_inputs  # re-exported for tests
from .netlist import (LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder,
                      centre_distances, grid_positions)

__all__ = ["random_netlist", "random_inputs", "random_raw_inputs", "grid_positions",
           "local_candidates"]


def local_candidates(positions: np.ndarray, grid: tuple[int, int], prev_positions: np.ndarray,
                     prev_grid: tuple[int, int], radius: int | None) -> list[np.ndarray]:
    """For each node, the indices of previous-layer sources within ``radius``."""
    if radius is None:
        every = np.arange(len(prev_positions))
        return [every for _ in range(len(positions))]
    dist = centre_distances(positions, grid, prev_positions, prev_grid)
    return [np.flatnonzero(row <= radius) for row in dist]


def _random_table(rng: np.random.Generator, k: int, used: np.ndarray) -> np.ndarray:
    """A random table over 2**k patterns that ignores the inputs not in ``used``."""
    patterns = np.arange(1 << k)
    mask = sum(1 << int(j) for j in np.flatnonzero(used))
    base = rng.integers(0, 2, size=1 << k, dtype=np.uint8)
    return base[patterns & mask]


def random_netlist(seed: int = 0, *, features: int | None = None, k: int | None = None,
                   layers: int | None = None, nodes_per_layer: int | None = None,
                   classes: int | None = None, radius: int | None | str = "random",
                   p_unused: float = 0.1) -> Netlist:
    """A random valid netlist; every argument left out is drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    n_feat = features or int(rng.integers(2, 13))
    in_cols = int(np.ceil(np.sqrt(n_feat)))
    in_grid = (int(np.ceil(n_feat / in_cols)), in_cols)
    bits = rng.integers(1, 7, size=n_feat)
    thresholds = []
    for b in bits:
        top = (1 << int(b)) - 1
        t = np.sort(rng.choice(np.arange(1, top + 1), size=int(rng.integers(0, min(top, 4) + 1)),
                               replace=False)) if top >= 1 else np.zeros(0, int)
        thresholds.append(t.astype(np.int64))
    if sum(t.size for t in thresholds) == 0:
        thresholds[0] = np.array([1], dtype=np.int64)
    quantizer = Quantizer(bits, rng.uniform(0.5, 4.0, n_feat), rng.uniform(-2, 2, n_feat))
    feat_pos = grid_positions(in_grid, 1)[:n_feat]
    encoder = ThermometerEncoder(tuple(thresholds), feat_pos, in_grid)

    n_layers = layers or int(rng.integers(1, 4))
    n_classes = classes or int(rng.integers(2, 6))
    prev_pos, prev_grid, prev_n = encoder.bit_positions, encoder.grid, encoder.n_bits
    built = []
    for li in range(n_layers):
        kk = k or int(rng.integers(2, 7))
        grid = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        if nodes_per_layer:
            channels = max(1, int(np.ceil(nodes_per_layer / (grid[0] * grid[1]))))
        else:
            channels = int(rng.integers(1, 4))
        last = li == n_layers - 1
        if last:
            channels = max(channels, int(np.ceil(n_classes / (grid[0] * grid[1]))))
        pos = grid_positions(grid, channels)
        if nodes_per_layer:
            pos = pos[:max(nodes_per_layer, n_classes if last else 1)]
        r = radius if radius != "random" else (None if rng.random() < 0.25
                                               else int(rng.integers(0, 3)))
        cands = local_candidates(pos, grid, prev_pos, prev_grid, r)
        inputs = np.full((len(pos), kk), -1, dtype=np.int64)
        tables = np.zeros((len(pos), 1 << kk), dtype=np.uint8)
        for n, cand in enumerate(cands):
            if cand.size == 0:  # radius too small to reach anything: a constant node
                used = np.zeros(kk, bool)
            else:
                inputs[n] = rng.choice(cand, size=kk, replace=cand.size < kk)
                used = rng.random(kk) >= p_unused
                inputs[n, ~used] = -1
            tables[n] = _random_table(rng, kk, used)
        layer = LutLayer(grid, pos, inputs, tables, r)
        built.append(layer)
        prev_pos, prev_grid, prev_n = layer.positions, layer.grid, layer.n_nodes

    order = rng.permutation(prev_n)
    n_used = int(rng.integers(n_classes, prev_n + 1))
    cuts = np.sort(rng.choice(np.arange(1, n_used), size=n_classes - 1, replace=False))
    groups = tuple(np.sort(g) for g in np.split(order[:n_used], cuts))
    return Netlist(quantizer, encoder, tuple(built), Readout(groups),
                   tuple(f"class{c}" for c in range(n_classes)),
                   tuple(f"x{f}" for f in range(n_feat)),
                   {"dataset": "random", "seed": seed})
