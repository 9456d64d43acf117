"""The netlist: the one contract between training, hardware, verification and explanation.

A netlist is a feed-forward network of 1-bit nodes, each a K-input look-up table,
laid out on 2-D grids. Everything downstream of training reads only this file, so
its definitions here are *the* definitions: :meth:`Netlist.predict` is the bit-exact
golden model that the Verilog, the Verilator run and the boards must reproduce.

Bit-exact definitions
---------------------
quantize
    ``q[f] = clip(floor((x[f] - offset[f]) * scale[f] + 0.5), 0, 2**bits[f] - 1)``
    computed in float64. Hardware never sees raw values: it receives ``q``.
encode
    For every feature ``f`` (in order) and each of its sorted thresholds ``t`` (in
    order): one bit ``q[f] >= t``. The encoded bits are the concatenation.
layers
    Node ``n`` of layer ``l`` reads ``inputs[n, k]`` (an index into the previous
    layer's outputs; the encoded bits for layer 0) as bit ``k`` of its pattern index
    ``a = sum_k bit_k << k``; its output is ``tables[n, a]``. An input of ``-1`` is
    unused: it reads as 0 and the table must not depend on that bit.
readout
    Class ``c``'s score is the popcount of the last-layer nodes in its group; the
    prediction is the class with the highest score, the lowest index on a tie.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import NetlistError
from .files import atomic_write_bytes

__all__ = [
    "FORMAT_VERSION",
    "MAX_K",
    "NetlistError",
    "Quantizer",
    "ThermometerEncoder",
    "LutLayer",
    "Readout",
    "Netlist",
]

#: Version of the on-disk format; bumped on any incompatible change.
FORMAT_VERSION = 1
#: Largest LUT size a node may have (2**8 = 256 table entries).
MAX_K = 8
#: Widest quantised feature accepted (hardware comparators stay small).
MAX_FEATURE_BITS = 16




# ---------------------------------------------------------------------------
# helpers for validation


def _as_int_array(name: str, value: Any, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":  # empty lists default to float
            arr = arr.astype(np.int64)
        else:
            raise NetlistError(f"{name}: expected an integer array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise NetlistError(f"{name}: expected {ndim} dimension(s), got shape {arr.shape}")
    return arr.astype(np.int64)


def _as_float_array(name: str, value: Any, length: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise NetlistError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.shape != (length,):
        raise NetlistError(f"{name}: expected shape ({length},), got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise NetlistError(f"{name}[{bad[0]}] = {arr[bad[0]]} is not finite")
    return arr


def _grid_shape(name: str, value: Any) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError):
        raise NetlistError(f"{name}: expected (rows, cols), got {value!r}") from None
    if h < 1 or w < 1:
        raise NetlistError(f"{name} = ({h}, {w}): rows and cols must be >= 1")
    return h, w


def _check_positions(name: str, positions: np.ndarray, shape: tuple[int, int], count: int) -> None:
    if positions.shape != (count, 2):
        raise NetlistError(f"{name}: expected shape ({count}, 2), got {positions.shape}")
    for axis, limit in enumerate(shape):
        bad = np.flatnonzero((positions[:, axis] < 0) | (positions[:, axis] >= limit))
        if bad.size:
            i = bad[0]
            raise NetlistError(
                f"{name}[{i}] = {tuple(int(v) for v in positions[i])} lies outside the grid {shape}"
            )


def projected_centre(positions: np.ndarray, shape: tuple[int, int],
                     prev_shape: tuple[int, int]) -> np.ndarray:
    """The cell of the previous grid that contains each node's centre.

    Integer arithmetic only, so that locality is decided identically everywhere:
    ``centre = ((2 * pos + 1) * prev_size) // (2 * size)`` per axis.
    """
    pos = np.asarray(positions, dtype=np.int64)
    size = np.asarray(shape, dtype=np.int64)
    prev = np.asarray(prev_shape, dtype=np.int64)
    return ((2 * pos + 1) * prev) // (2 * size)


def _split_ragged(arrays: dict, counts_name: str, values_name: str) -> tuple:
    """Rebuild a list of variable-length arrays stored as counts plus concatenation."""
    for name in (counts_name, values_name):
        if name not in arrays:
            raise NetlistError(f"missing array '{name}'")
    counts = _as_int_array(counts_name, arrays[counts_name], 1)
    values = _as_int_array(values_name, arrays[values_name], 1)
    if (counts < 0).any() or counts.sum() != values.size:
        raise NetlistError(f"{counts_name}: sum {counts.sum()} does not match the "
                           f"{values.size} entries of {values_name}")
    return tuple(np.split(values, np.cumsum(counts)[:-1])) if counts.size else ()


def grid_positions(grid: tuple[int, int], channels: int = 1) -> np.ndarray:
    """Positions of ``rows * cols * channels`` nodes filling a grid, channels innermost."""
    rows, cols = grid
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return np.repeat(np.stack([rr.ravel(), cc.ravel()], axis=1), channels, axis=0)


def centre_distances(positions: np.ndarray, grid: tuple[int, int], prev_positions: np.ndarray,
                     prev_grid: tuple[int, int]) -> np.ndarray:
    """Chebyshev distance (N, P) from each node's projected centre to every previous source."""
    centre = projected_centre(positions, grid, prev_grid)
    return np.abs(np.asarray(prev_positions)[None, :, :] - centre[:, None, :]).max(axis=2)


# ---------------------------------------------------------------------------
# the parts of a netlist


@dataclass(frozen=True, eq=False)
class Quantizer:
    """Per-feature affine map from raw values to unsigned integers.

    Parameters
    ----------
    bits : array of int, shape (F,)
        Width of each quantised feature (1..16). Also the hardware port width.
    scale, offset : array of float, shape (F,)
        ``q = clip(floor((x - offset) * scale + 0.5), 0, 2**bits - 1)``.
    """

    bits: np.ndarray
    scale: np.ndarray
    offset: np.ndarray

    def __post_init__(self) -> None:
        bits = _as_int_array("quantizer.bits", self.bits, 1)
        if bits.size == 0:
            raise NetlistError("quantizer.bits: a netlist needs at least one feature")
        bad = np.flatnonzero((bits < 1) | (bits > MAX_FEATURE_BITS))
        if bad.size:
            raise NetlistError(
                f"quantizer.bits[{bad[0]}] = {bits[bad[0]]} is outside 1..{MAX_FEATURE_BITS}")
        scale = _as_float_array("quantizer.scale", self.scale, bits.size)
        bad = np.flatnonzero(scale <= 0)
        if bad.size:
            raise NetlistError(f"quantizer.scale[{bad[0]}] = {scale[bad[0]]} must be > 0")
        offset = _as_float_array("quantizer.offset", self.offset, bits.size)
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "offset", offset)

    @property
    def n_features(self) -> int:
        return int(self.bits.size)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise NetlistError(
                f"input data: expected shape (samples, {self.n_features}), got {X.shape}")
        if not np.all(np.isfinite(X)):
            r, c = np.argwhere(~np.isfinite(X))[0]
            raise NetlistError(f"input data: sample {r}, feature {c} is {X[r, c]} (not finite)")
        q = np.floor((X - self.offset) * self.scale + 0.5)
        return np.clip(q, 0, (1 << self.bits) - 1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ThermometerEncoder:
    """Per-feature sorted thresholds turning a quantised integer into bits.

    Parameters
    ----------
    thresholds : sequence of int arrays, one per feature
        Strictly increasing, each in ``1 .. 2**bits - 1`` (a threshold of 0 would be a
        constant bit). A feature may have no thresholds (it is then unused).
    positions : int array, shape (F, 2)
        Each feature's (row, col) on the input grid; its bits share that position.
    grid : (rows, cols)
        Shape of the input grid: an image's pixel geometry, or one row for tabular data.
    """

    thresholds: tuple
    positions: np.ndarray
    grid: tuple

    def __post_init__(self) -> None:
        ths = tuple(_as_int_array(f"encoder.thresholds[{f}]", t, 1)
                    for f, t in enumerate(self.thresholds))
        grid = _grid_shape("encoder.grid", self.grid)
        positions = _as_int_array("encoder.positions", self.positions, 2)
        _check_positions("encoder.positions", positions, grid, len(ths))
        object.__setattr__(self, "thresholds", ths)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "grid", grid)

    def check_against(self, quantizer: Quantizer) -> None:
        if len(self.thresholds) != quantizer.n_features:
            raise NetlistError(
                f"encoder.thresholds: {len(self.thresholds)} features, "
                f"but the quantizer has {quantizer.n_features}")
        for f, t in enumerate(self.thresholds):
            top = (1 << int(quantizer.bits[f])) - 1
            if t.size and (t[0] < 1 or t[-1] > top):
                bad = t[0] if t[0] < 1 else t[-1]
                raise NetlistError(
                    f"encoder.thresholds[{f}] contains {bad}, outside 1..{top} "
                    f"for a {quantizer.bits[f]}-bit feature")
            steps = np.flatnonzero(np.diff(t) <= 0)
            if steps.size:
                j = steps[0]
                raise NetlistError(
                    f"encoder.thresholds[{f}] is not strictly increasing: "
                    f"{t[j]} then {t[j + 1]} at position {j + 1}")
        if self.n_bits == 0:
            raise NetlistError("encoder.thresholds: no feature has a threshold (0 encoded bits)")

    @property
    def counts(self) -> np.ndarray:
        return np.array([t.size for t in self.thresholds], dtype=np.int64)

    @property
    def n_bits(self) -> int:
        return int(sum(t.size for t in self.thresholds))

    @property
    def bit_feature(self) -> np.ndarray:
        """Feature index of every encoded bit."""
        return np.repeat(np.arange(len(self.thresholds)), self.counts)

    @property
    def bit_threshold(self) -> np.ndarray:
        """Threshold value of every encoded bit."""
        if not self.thresholds:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(self.thresholds).astype(np.int64)

    @property
    def bit_positions(self) -> np.ndarray:
        """Grid position of every encoded bit (that of its feature)."""
        return self.positions[self.bit_feature]

    def __call__(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.int64)
        return (q[:, self.bit_feature] >= self.bit_threshold).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class LutLayer:
    """One grid of K-input LUT nodes; one pipeline stage in hardware.

    Parameters
    ----------
    grid : (rows, cols)
        Shape of this layer's grid.
    positions : int array, shape (N, 2)
        Each node's (row, col). Several nodes may share a cell (channels).
    inputs : int array, shape (N, K)
        Indices into the previous layer's outputs; ``-1`` marks an unused input.
    tables : uint8 array, shape (N, 2**K)
        Output bit for every input pattern; bit k of the pattern index is input k.
    radius : int or None
        Chebyshev radius every input must lie within (None: unconstrained).
    """

    grid: tuple
    positions: np.ndarray
    inputs: np.ndarray
    tables: np.ndarray
    radius: int | None = None

    def __post_init__(self) -> None:
        grid = _grid_shape("layer.grid", self.grid)
        inputs = _as_int_array("layer.inputs", self.inputs, 2)
        n, k = inputs.shape
        if n < 1:
            raise NetlistError("layer.inputs: a layer needs at least one node")
        if not 1 <= k <= MAX_K:
            raise NetlistError(f"layer.inputs: K = {k} is outside 1..{MAX_K}")
        positions = _as_int_array("layer.positions", self.positions, 2)
        _check_positions("layer.positions", positions, grid, n)
        tables = np.asarray(self.tables)
        if tables.dtype.kind not in "iub":
            raise NetlistError(f"layer.tables: expected an integer array, got dtype {tables.dtype}")
        if tables.shape != (n, 1 << k):
            raise NetlistError(f"layer.tables: expected shape ({n}, {1 << k}) for K = {k}, "
                               f"got {tables.shape}")
        bad = np.argwhere((tables != 0) & (tables != 1))
        if bad.size:
            i, j = bad[0]
            raise NetlistError(f"layer.tables[{i}, {j}] = {tables[i, j]} is not a bit (0 or 1)")
        radius = self.radius
        if radius is not None:
            if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
                raise NetlistError(f"layer.radius = {radius!r}: expected an integer >= 0 or None")
            radius = int(radius)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "tables", tables.astype(np.uint8))
        object.__setattr__(self, "radius", radius)

    @property
    def n_nodes(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def k(self) -> int:
        return int(self.inputs.shape[1])

    def arity(self) -> np.ndarray:
        """Inputs each node really uses (its LUT size after pruning)."""
        return (self.inputs >= 0).sum(axis=1)

    def check_against(self, index: int, n_prev: int, prev_positions: np.ndarray,
                      prev_grid: tuple[int, int]) -> None:
        name = f"layers[{index}]"
        bad = np.argwhere((self.inputs < -1) | (self.inputs >= n_prev))
        if bad.size:
            i, j = bad[0]
            raise NetlistError(f"{name}.inputs[{i}, {j}] = {self.inputs[i, j]} is out of range "
                               f"-1..{n_prev - 1}")
        # A table must not depend on an unused input: entries differing only in bit k agree.
        patterns = np.arange(1 << self.k)
        for k in range(self.k):
            unused = np.flatnonzero(self.inputs[:, k] < 0)
            if unused.size == 0:
                continue
            lo = patterns[(patterns >> k) & 1 == 0]
            differs = self.tables[np.ix_(unused, lo)] != self.tables[np.ix_(unused, lo | (1 << k))]
            rows = np.flatnonzero(differs.any(axis=1))
            if rows.size:
                raise NetlistError(f"{name}.tables[{unused[rows[0]]}] depends on input {k}, "
                                   f"which is unused (-1)")
        if self.radius is not None:
            centre = projected_centre(self.positions, self.grid, prev_grid)
            src = prev_positions[np.where(self.inputs >= 0, self.inputs, 0)]  # (N, K, 2)
            dist = np.abs(src - centre[:, None, :]).max(axis=2)
            far = np.argwhere((dist > self.radius) & (self.inputs >= 0))
            if far.size:
                i, j = far[0]
                raise NetlistError(
                    f"{name}.inputs[{i}, {j}] = {self.inputs[i, j]} breaks locality: "
                    f"source at {tuple(int(v) for v in src[i, j])} is {dist[i, j]} cells from "
                    f"node {i}'s centre {tuple(int(v) for v in centre[i])} (radius {self.radius})")

    def patterns(self, prev: np.ndarray, nodes: np.ndarray | None = None) -> np.ndarray:
        """Each node's input pattern (its table index) for a batch of previous-layer bits.

        Shape (S, N), or (S, len(nodes)) for a subset of nodes; bit k of a pattern is
        input slot k, and an unused slot (-1) reads 0.
        """
        inputs = self.inputs if nodes is None else self.inputs[nodes]
        padded = np.concatenate([prev, np.zeros((prev.shape[0], 1), dtype=np.uint8)], axis=1)
        # one (S, N) gather per input slot, OR-ed into a narrow integer: about 4x faster
        # than gathering (S, N, K) and summing in int64 (bulk verification checks
        # every simulated class against this)
        out = np.zeros((prev.shape[0], len(inputs)), dtype=np.uint16 if self.k <= 16 else np.int64)
        for slot in range(self.k):
            out |= padded[:, inputs[:, slot]].astype(out.dtype) << slot  # -1: the zero column
        return out

    def __call__(self, prev: np.ndarray) -> np.ndarray:
        """Outputs of every node for a batch of previous-layer bits, shape (S, N)."""
        flat = (np.arange(self.n_nodes, dtype=np.int64) << self.k) + self.patterns(prev)
        return self.tables.ravel().take(flat)


@dataclass(frozen=True, eq=False)
class Readout:
    """Which last-layer nodes vote for which class.

    Parameters
    ----------
    groups : sequence of int arrays, one per class
        Last-layer node indices; non-empty and pairwise disjoint.
    """

    groups: tuple

    def __post_init__(self) -> None:
        groups = tuple(_as_int_array(f"readout.groups[{c}]", g, 1)
                       for c, g in enumerate(self.groups))
        if len(groups) < 2:
            raise NetlistError(f"readout.groups: {len(groups)} class(es); at least 2 are needed")
        for c, g in enumerate(groups):
            if g.size == 0:
                raise NetlistError(f"readout.groups[{c}] is empty")
        object.__setattr__(self, "groups", groups)

    @property
    def n_classes(self) -> int:
        return len(self.groups)

    def check_against(self, n_last: int) -> None:
        owner: dict[int, int] = {}
        for c, g in enumerate(self.groups):
            bad = g[(g < 0) | (g >= n_last)]
            if bad.size:
                raise NetlistError(f"readout.groups[{c}] contains {bad[0]}, outside "
                                   f"0..{n_last - 1}")
            for node in g.tolist():
                if node in owner:
                    raise NetlistError(f"readout.groups[{c}] contains node {node}, which "
                                       f"already belongs to readout.groups[{owner[node]}]")
                owner[node] = c

    def __call__(self, last: np.ndarray) -> np.ndarray:
        return np.stack([last[:, g].sum(axis=1, dtype=np.int64) for g in self.groups], axis=1)


# ---------------------------------------------------------------------------
# the netlist


_ARRAY_META_KEYS = ("format_version", "layers", "class_names", "feature_names",
                    "input_grid", "dataset")


@dataclass(frozen=True, eq=False)
class Netlist:
    """A trained, hardened LUT network: the single source of truth for every stage.

    Parameters
    ----------
    quantizer, encoder, layers, readout
        The parts described in the module docstring.
    class_names : sequence of str
        One name per readout group.
    feature_names : sequence of str, optional
        One per feature; defaults to ``f0, f1, ...``.
    meta : dict
        Free-form JSON-serialisable facts (dataset, seed, training figures). Not part
        of the function the netlist computes, and not part of :meth:`content_hash`.

    Raises
    ------
    NetlistError
        If any part is malformed or the parts disagree.
    """

    quantizer: Quantizer
    encoder: ThermometerEncoder
    layers: tuple
    readout: Readout
    class_names: tuple = ()
    feature_names: tuple = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise NetlistError("layers: a netlist needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, LutLayer):
                raise NetlistError(f"layers[{i}]: expected a LutLayer, got {type(layer).__name__}")
        self.encoder.check_against(self.quantizer)
        prev_n, prev_pos, prev_grid = (self.encoder.n_bits, self.encoder.bit_positions,
                                       self.encoder.grid)
        for i, layer in enumerate(layers):
            layer.check_against(i, prev_n, prev_pos, prev_grid)
            prev_n, prev_pos, prev_grid = layer.n_nodes, layer.positions, layer.grid
        self.readout.check_against(prev_n)
        class_names = tuple(str(c) for c in self.class_names) or tuple(
            str(c) for c in range(self.readout.n_classes))
        if len(class_names) != self.readout.n_classes:
            raise NetlistError(f"class_names: {len(class_names)} names for "
                               f"{self.readout.n_classes} readout groups")
        feature_names = tuple(str(f) for f in self.feature_names) or tuple(
            f"f{i}" for i in range(self.quantizer.n_features))
        if len(feature_names) != self.quantizer.n_features:
            raise NetlistError(f"feature_names: {len(feature_names)} names for "
                               f"{self.quantizer.n_features} features")
        try:
            meta = json.loads(json.dumps(dict(self.meta)))
        except (TypeError, ValueError) as exc:
            raise NetlistError(f"meta: not JSON-serialisable ({exc})") from None
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "class_names", class_names)
        object.__setattr__(self, "feature_names", feature_names)
        object.__setattr__(self, "meta", meta)

    # -- sizes --------------------------------------------------------------

    @property
    def n_features(self) -> int:
        return self.quantizer.n_features

    @property
    def n_classes(self) -> int:
        return self.readout.n_classes

    @property
    def n_nodes(self) -> int:
        return sum(layer.n_nodes for layer in self.layers)

    # -- the golden model ---------------------------------------------------

    def quantize(self, X_raw: np.ndarray) -> np.ndarray:
        """Raw features (S, F) to unsigned integers (S, F): what hardware receives."""
        return self.quantizer(X_raw)

    def encode(self, q: np.ndarray) -> np.ndarray:
        """Quantised integers (S, F) to thermometer bits (S, n_bits) as uint8."""
        q = np.asarray(q)
        if q.ndim != 2 or q.shape[1] != self.n_features:
            raise NetlistError(
                f"quantised data: expected shape (samples, {self.n_features}), got {q.shape}")
        return self.encoder(q)

    def forward(self, bits: np.ndarray) -> list[np.ndarray]:
        """Encoded bits (S, n_bits) to every layer's outputs, a list of (S, N_l) uint8."""
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.ndim != 2 or bits.shape[1] != self.encoder.n_bits:
            raise NetlistError(
                f"encoded bits: expected shape (samples, {self.encoder.n_bits}), got {bits.shape}")
        outs = []
        for layer in self.layers:
            bits = layer(bits)
            outs.append(bits)
        return outs

    def scores(self, bits: np.ndarray) -> np.ndarray:
        """Per-class popcounts (S, C) from encoded bits."""
        return self.readout(self.forward(bits)[-1])

    def predict_quantized(self, q: np.ndarray) -> np.ndarray:
        """Class ids from quantised integers: exactly what the hardware computes."""
        return np.argmax(self.scores(self.encode(q)), axis=1)

    def predict(self, X_raw: np.ndarray) -> np.ndarray:
        """Class ids from raw features (argmax of scores, lowest index on ties)."""
        return self.predict_quantized(self.quantize(X_raw))

    # -- identity -----------------------------------------------------------

    def content_hash(self) -> str:
        """SHA-256 of everything that defines the computed function and its names.

        Training figures in ``meta`` are excluded, so retraining to an identical
        circuit keeps the hash, and caches keyed on it stay valid.
        """
        arrays, meta = self._to_arrays()
        h = hashlib.sha256()
        structural = {k: meta[k] for k in _ARRAY_META_KEYS if k in meta}
        h.update(json.dumps(structural, sort_keys=True).encode())
        for name in sorted(arrays):
            a = np.ascontiguousarray(arrays[name])
            h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()

    # -- storage ------------------------------------------------------------

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays: dict[str, np.ndarray] = {
            "quantizer_bits": self.quantizer.bits.astype(np.int64),
            "quantizer_scale": self.quantizer.scale.astype(np.float64),
            "quantizer_offset": self.quantizer.offset.astype(np.float64),
            "encoder_counts": self.encoder.counts,
            "encoder_thresholds": self.encoder.bit_threshold,
            "encoder_positions": self.encoder.positions,
            "readout_counts": np.array([g.size for g in self.readout.groups], dtype=np.int64),
            "readout_nodes": np.concatenate(self.readout.groups).astype(np.int64),
        }
        layer_meta = []
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}_positions"] = layer.positions
            arrays[f"layer{i}_inputs"] = layer.inputs
            arrays[f"layer{i}_tables"] = layer.tables
            layer_meta.append({"grid": list(layer.grid), "radius": layer.radius})
        meta = {
            "format_version": FORMAT_VERSION,
            "layers": layer_meta,
            "class_names": list(self.class_names),
            "feature_names": list(self.feature_names),
            "input_grid": list(self.encoder.grid),
            "info": self.meta,
        }
        return arrays, meta

    def save(self, path: str | os.PathLike) -> Path:
        """Write the netlist as one ``.npz``, atomically and byte-for-byte reproducibly.

        The archive is written to a temporary file beside ``path`` and renamed over
        it, so a crash never leaves a half-written netlist; zip timestamps are fixed
        so that the same netlist always gives the same bytes.
        """
        path = Path(path)
        arrays, meta = self._to_arrays()
        arrays["meta"] = np.frombuffer(
            json.dumps(meta, sort_keys=True, indent=1).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(arrays):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                npy = io.BytesIO()
                np.lib.format.write_array(npy, np.ascontiguousarray(arrays[name]),
                                          allow_pickle=False)
                zf.writestr(info, npy.getvalue())
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Netlist":
        """Read and validate a netlist file; any problem raises :class:`NetlistError`."""
        path = Path(path)
        if not path.is_file():
            raise NetlistError(f"{path}: no such file")
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head != b"PK\x03\x04":
            what = "the file is empty" if not head else "it is not an .npz (zip) archive"
            raise NetlistError(f"{path}: not a valid netlist file ({what})")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "pickle" in reason.lower():
                reason = "it contains pickled objects, which are refused"
            raise NetlistError(f"{path}: not a valid netlist file ({reason})") from None
        except Exception as exc:  # zlib.error and friends from a damaged archive
            raise NetlistError(f"{path}: not a valid netlist file ({type(exc).__name__}: "
                               f"{exc})") from None
        try:
            return cls._from_arrays(arrays)
        except NetlistError as exc:
            raise NetlistError(f"{path}: {exc}") from None

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Netlist":
        def need(name: str) -> np.ndarray:
            if name not in arrays:
                raise NetlistError(f"missing array '{name}'")
            return arrays[name]

        raw = need("meta")
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise NetlistError(f"meta: expected a 1-D uint8 array of JSON, got {raw.dtype} "
                               f"{raw.shape}")
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NetlistError(f"meta: not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise NetlistError("meta: expected a JSON object")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise NetlistError(f"format_version = {version!r} is not supported "
                               f"(this lutmesh reads version {FORMAT_VERSION})")
        for key, kind in (("layers", list), ("class_names", list), ("feature_names", list),
                          ("input_grid", list), ("info", dict)):
            if not isinstance(meta.get(key), kind):
                raise NetlistError(f"meta.{key}: expected a {kind.__name__}, "
                                   f"got {meta.get(key)!r}")

        quantizer = Quantizer(need("quantizer_bits"), need("quantizer_scale"),
                              need("quantizer_offset"))
        thresholds = _split_ragged(arrays, "encoder_counts", "encoder_thresholds")
        encoder = ThermometerEncoder(thresholds, need("encoder_positions"), meta["input_grid"])

        layers = []
        for i, lm in enumerate(meta["layers"]):
            if not isinstance(lm, dict) or "grid" not in lm:
                raise NetlistError(f"meta.layers[{i}]: expected an object with 'grid'")
            layers.append(LutLayer(lm["grid"], need(f"layer{i}_positions"),
                                   need(f"layer{i}_inputs"), need(f"layer{i}_tables"),
                                   lm.get("radius")))
        groups = _split_ragged(arrays, "readout_counts", "readout_nodes")
        return cls(quantizer, encoder, tuple(layers), Readout(groups),
                   tuple(meta["class_names"]), tuple(meta["feature_names"]), meta["info"])

    # -- conveniences ---------------------------------------------------------

    def replace(self, **changes: Any) -> "Netlist":
        """A copy with some parts replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> dict:
        """Plain facts for ``lutmesh info`` and reports."""
        return {
            "features": self.n_features,
            "encoded_bits": self.encoder.n_bits,
            "input_grid": list(self.encoder.grid),
            "layers": [{"grid": list(l.grid), "nodes": l.n_nodes, "k": l.k, "radius": l.radius,
                        "mean_arity": round(float(l.arity().mean()), 3)} for l in self.layers],
            "nodes": self.n_nodes,
            "classes": list(self.class_names),
            "hash": self.content_hash(),
        }
