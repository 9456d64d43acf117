"""Forward passes of a netlist with nodes held constant (mean ablation), whole and
incremental, bit-sliced: the engine under the circuit search.

Every layer's outputs are kept as rows of 64-sample words
(:mod:`lutmesh.bitsliced`), not one byte per (sample, node). Why: on a
Fashion-MNIST model (8,497 nodes, 54,000 training samples) one byte-per-node forward
pass took ~20 s and the layer outputs 460 MB, which made the circuit search
(a dozen full passes and thousands of incremental ones per class) unaffordable;
the bit-sliced pass is the one the bulk verifier uses, and it is checked against
:meth:`Netlist.forward <lutmesh.netlist.Netlist.forward>` by the tests.
"""

import copy

import numpy as np

from ..bitsliced import (ONES, layer_packed, nodes_packed, pack_rows, row_ones, scores_packed,
                         unpack_rows)
from ..netlist import LutLayer, Netlist

__all__ = ["AblatedModel", "IncrementalAblation"]


def _constant_rows(values: np.ndarray, width: int) -> np.ndarray:
    """Rows (len(values), width) of all-0 or all-1 words."""
    return np.repeat((np.asarray(values, dtype=np.uint64) * ONES)[:, None], width, axis=1)


class AblatedModel:
    """Forward passes of ``net`` on fixed data with any set of nodes held constant."""

    def __init__(self, net: Netlist, bits: np.ndarray, labels: np.ndarray, constants=None,
                 bit_constants=None):
        """``constants``: the ablation values (default: each node's majority value on
        ``bits``), ``bit_constants`` those of the encoded bits (for held inputs); pass
        the training model's to evaluate a circuit on other data."""
        self.net, self.bits, self.labels = net, np.asarray(bits, np.uint8), np.asarray(labels)
        self.samples = len(self.bits)
        self.sizes = [layer.n_nodes for layer in net.layers]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self._packed = None
        rows = self.rows(np.ones(self.n_nodes, dtype=bool))  # nothing ablated: no constants yet
        self.constants = constants if constants is not None else [
            (2 * row_ones(r, self.samples) >= self.samples).astype(np.uint8) for r in rows]
        self.bit_constants = bit_constants if bit_constants is not None else (
            self.bits.mean(axis=0) >= 0.5).astype(np.uint8)
        self.full_pred = np.argmax(self._scores(rows[-1]), axis=1)
        self.held_features: list[int] = []

    def holding(self, features) -> "AblatedModel":
        """The same model with the bits of ``features`` held at their ablation values
        (``full_pred`` stays the unheld model's)."""
        held = copy.copy(self)
        held.held_features = sorted(int(f) for f in features)
        cols = np.isin(self.net.encoder.bit_feature, held.held_features)
        held.bits = self.bits.copy()
        held.bits[:, cols] = self.bit_constants[cols]
        held._packed = None
        return held

    @property
    def n_nodes(self) -> int:
        return int(self.offsets[-1])

    @property
    def packed_bits(self) -> np.ndarray:
        """The encoded bits as rows of words (n_bits, W)."""
        if self._packed is None:
            self._packed = pack_rows(self.bits)
        return self._packed

    def locate(self, node: int) -> tuple[int, int]:
        layer = int(np.searchsorted(self.offsets, node, side="right") - 1)
        return layer, int(node - self.offsets[layer])

    def rows(self, keep: np.ndarray) -> list[np.ndarray]:
        """Every layer's output rows (N_l, W) with the nodes where ``keep`` is False
        held at their constants."""
        x, out = self.packed_bits, []
        for i, layer in enumerate(self.net.layers):
            x = layer_packed(layer, x)
            off = ~keep[self.offsets[i]:self.offsets[i + 1]]
            if off.any():
                x[off] = _constant_rows(self.constants[i][off], x.shape[1])
            out.append(x)
        return out

    def _scores(self, last_rows: np.ndarray) -> np.ndarray:
        return scores_packed(self.net, last_rows, self.samples).T.astype(np.int64)

    def scores(self, keep: np.ndarray) -> np.ndarray:
        """Class scores (S, C) with nodes where ``keep`` is False ablated (keep: all
        nodes, flat)."""
        return self._scores(self.rows(keep)[-1])

    def predict(self, keep: np.ndarray) -> np.ndarray:
        return np.argmax(self.scores(keep), axis=1)

    def outputs(self, keep: np.ndarray) -> list[np.ndarray]:
        """Every layer's outputs (S, N_l) uint8 with the unkept nodes ablated."""
        return [np.ascontiguousarray(unpack_rows(r, self.samples).T) for r in self.rows(keep)]


def _gather(layer: LutLayer, nodes: np.ndarray, prev: np.ndarray, cols: np.ndarray,
            vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``nodes`` read, with ``prev``'s rows ``cols`` replaced by ``vals``, and
    the nodes' sources indexed into them (-1 reads the last, all-zero row). Only those
    rows are copied: a copy of all of ``prev`` per step cost more than the step."""
    ins = layer.inputs[nodes]
    used = np.unique(ins[ins >= 0])
    sub = np.zeros((used.size + 1, prev.shape[1]), dtype=np.uint64)
    sub[:used.size] = prev[used]
    if used.size and len(cols):
        where = np.minimum(np.searchsorted(used, cols), used.size - 1)
        hit = used[where] == cols
        sub[where[hit]] = vals[hit]
    return sub, np.where(ins >= 0, np.searchsorted(used, ins), used.size)


def node_rows(layer: LutLayer, nodes: np.ndarray, prev: np.ndarray, cols: np.ndarray,
              vals: np.ndarray) -> np.ndarray:
    """Output rows of ``nodes`` of ``layer`` on ``prev`` (the previous layer's rows,
    or the encoded bits') with rows ``cols`` replaced by ``vals``."""
    sub, sources = _gather(layer, nodes, prev, cols, vals)
    return nodes_packed(layer, nodes, sub, sources)


def _fanout(inputs: np.ndarray, n_sources: int) -> list[np.ndarray]:
    """Per source, the nodes that read it."""
    fan = [[] for _ in range(n_sources)]
    for n, row in enumerate(inputs):
        for src in set(int(v) for v in row if v >= 0):
            fan[src].append(n)
    return [np.array(f, dtype=np.int64) for f in fan]


class IncrementalAblation:
    """Ablate one more node, or hold one more input, and re-evaluate only what it can
    change.

    Holds every layer's output rows for the current set of kept nodes and held
    inputs; ``try_ablate`` and ``try_hold`` recompute just the nodes downstream of
    the change (its fan-out cone), which is what makes a greedy pass over thousands
    of nodes affordable.
    """

    def __init__(self, model: AblatedModel, keep: np.ndarray):
        self.model, self.keep = model, keep.copy()
        net = model.net
        self.bits = model.packed_bits  # copied before the first held input is written
        self.outs = model.rows(self.keep)
        # class-major (C, S): a class's scores are one contiguous row to update
        self._score = np.ascontiguousarray(model._scores(self.outs[-1]).T)
        self.group_of = np.full(net.layers[-1].n_nodes, -1)
        for c, g in enumerate(net.readout.groups):
            self.group_of[g] = c
        sizes = [net.encoder.n_bits] + [layer.n_nodes for layer in net.layers]
        self.fanout = [_fanout(layer.inputs, n) for layer, n in zip(net.layers, sizes)]
        self.held: list[int] = []
        self._pending = None

    def _propagate(self, changes: dict) -> np.ndarray:
        """Carry the changed rows of the lowest changed layer up through the kept nodes
        (``changes``: layer -> (columns, rows), updated in place); the class scores
        that result."""
        model = self.model
        first = min(changes)
        cols, vals = changes[first]
        for nxt in range(first + 1, len(model.sizes)):
            if cols.size == 0:
                break
            hit = np.unique(np.concatenate([self.fanout[nxt][c] for c in cols]))
            hit = hit[self.keep[model.offsets[nxt] + hit]] if hit.size else hit
            if hit.size == 0:
                break
            new = node_rows(model.net.layers[nxt], hit, self.outs[nxt - 1], cols, vals)
            differs = (new != self.outs[nxt][hit]).any(axis=1)
            cols, vals = hit[differs], new[differs]
            changes[nxt] = (cols, vals)
        last = len(model.sizes) - 1
        if last not in changes or not changes[last][0].size:
            return self._score
        cols, vals = changes[last]
        new, old = unpack_rows(vals, model.samples), unpack_rows(self.outs[last][cols],
                                                                 model.samples)
        score = self._score.copy()
        groups = self.group_of[cols]
        for c in np.unique(groups):
            if c >= 0:
                mine = groups == c
                score[c] += (new[mine].sum(axis=0, dtype=np.int32)
                             - old[mine].sum(axis=0, dtype=np.int32))
        return score

    def try_ablate(self, node: int) -> np.ndarray:
        """Class scores if ``node`` were ablated too (nothing is changed until commit)."""
        model = self.model
        i, j = model.locate(node)
        row = _constant_rows(model.constants[i][[j]], self.outs[i].shape[1])
        changes = {i: (np.array([j]), row)}
        score = self._propagate(changes)
        self._pending = ("node", node, changes, score)
        return score.T

    def try_hold(self, feature: int) -> np.ndarray:
        """Class scores if the bits of input ``feature`` were held at their ablation
        values too (nothing is changed until commit)."""
        model = self.model
        bit_cols = np.flatnonzero(model.net.encoder.bit_feature == feature)
        values = _constant_rows(model.bit_constants[bit_cols], self.bits.shape[1])
        hit = np.unique(np.concatenate([self.fanout[0][b] for b in bit_cols] +
                                       [np.zeros(0, dtype=np.int64)]))
        hit = hit[self.keep[hit]]
        changes = {0: (np.zeros(0, dtype=np.int64), np.zeros((0, self.bits.shape[1]), np.uint64))}
        if hit.size:
            new = node_rows(model.net.layers[0], hit, self.bits, bit_cols, values)
            differs = (new != self.outs[0][hit]).any(axis=1)
            changes[0] = (hit[differs], new[differs])
        score = self._propagate(changes)
        self._pending = ("input", (feature, bit_cols, values), changes, score)
        return score.T

    def commit(self) -> None:
        kind, what, changes, score = self._pending
        if kind == "node":
            self.keep[what] = False
        else:
            feature, bit_cols, values = what
            if self.bits is self.model.packed_bits:
                self.bits = self.bits.copy()
            self.bits[bit_cols] = values
            self.held.append(feature)
        for i, (cols, vals) in changes.items():
            self.outs[i][cols] = vals
        self._score = score
        self._pending = None

    @property
    def score(self) -> np.ndarray:
        """Class scores (S, C) of the current state (a view: copy to keep it)."""
        return self._score.T
