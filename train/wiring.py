"""Local wiring: which previous-layer sources each node may read.

Locality is a hard constraint: a node's candidates all lie within the layer's
Chebyshev radius of its centre projected onto the previous grid (the same integer
rule the netlist validator uses). Within that window, sources are handed out
least-used first, so that every source feeds some node: random wiring otherwise
leaves nodes with no consumers, which pruning would then throw away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..netlist import centre_distances, grid_positions

__all__ = ["LayerSpec", "parse_layers", "layer_positions", "Wiring", "wire_layer"]


@dataclass(frozen=True)
class LayerSpec:
    """A grid of ``rows x cols`` cells with ``channels`` nodes per cell."""

    rows: int
    cols: int
    channels: int = 1

    @property
    def n_nodes(self) -> int:
        return self.rows * self.cols * self.channels

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}" + (f"x{self.channels}" if self.channels != 1 else "")


def parse_layers(text: str) -> tuple[LayerSpec, ...]:
    """``"8x8x6,4x4x30"`` -> layer specs (rows x cols [x channels])."""
    specs = []
    for part in str(text).split(","):
        try:
            dims = [int(v) for v in part.strip().lower().split("x")]
        except ValueError:
            dims = []
        if len(dims) not in (2, 3) or min(dims) < 1:
            raise ConfigError(f"layers: '{part.strip()}' is not ROWSxCOLS or ROWSxCOLSxCHANNELS "
                              f"with positive sizes (e.g. 8x8x6,4x4x30)")
        specs.append(LayerSpec(*dims))
    return tuple(specs)


def layer_positions(spec: LayerSpec) -> np.ndarray:
    """Positions of a layer's nodes, channels innermost (node = (r*cols + c)*ch + k)."""
    return grid_positions((spec.rows, spec.cols), spec.channels)


@dataclass(frozen=True)
class Wiring:
    """Candidate sources per input slot: ``candidates[n, k, m]`` and their distances."""

    candidates: np.ndarray  # (N, K, M) int64
    distance: np.ndarray    # (N, K, M) int64, Chebyshev cells from the node's centre

    def radius(self, asked: int | None) -> int | None:
        """The radius the layer's netlist records: ``asked``, or the farthest candidate
        where a node had nothing within ``asked`` and read its nearest sources."""
        if asked is None:
            return None
        return max(asked, int(self.distance.max(initial=0)))


def wire_layer(positions: np.ndarray, grid: tuple, prev_positions: np.ndarray, prev_grid: tuple,
               k: int, m: int, radius: int | None, rng: np.random.Generator) -> Wiring:
    """Choose ``k * m`` distinct local candidates per node, spreading use evenly.

    A node with no source within ``radius`` reads the sources of its nearest source
    cell instead (the first, in source order, where several are as near): radius
    0 on the first layer of an image (each node reads one pixel's thermometer bits)
    meets pixels that never vary and so have no bits (5 of the 64 digits pixels);
    their nodes read the nearest pixel that has bits.
    """
    dist = centre_distances(positions, grid, prev_positions, prev_grid)  # (N, P)
    n_prev = len(prev_positions)
    usage = np.zeros(n_prev)
    need = k * m
    cands = np.empty((len(positions), need), dtype=np.int64)
    for n in rng.permutation(len(positions)):
        window = np.flatnonzero(dist[n] <= radius) if radius is not None else np.arange(n_prev)
        if window.size == 0:  # the sources of one nearest cell (the first such source's)
            nearest = np.flatnonzero(dist[n] == dist[n].min())
            window = nearest[(prev_positions[nearest] == prev_positions[nearest[0]]).all(axis=1)]
        # least used first, then nearer first, then at random
        key = usage[window] * 4 * (n_prev + 1) + dist[n, window] + rng.random(window.size)
        order = window[np.argsort(key, kind="stable")]
        picked = np.resize(order, need)  # repeats only when the window is smaller than need
        cands[n] = rng.permutation(picked)
        np.add.at(usage, picked, 1)
    cands = cands.reshape(len(positions), k, m)
    return Wiring(cands, dist[np.arange(len(positions))[:, None, None], cands])
