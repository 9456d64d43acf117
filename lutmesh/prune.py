"""Shrinking a hardened netlist without changing what it computes.

Each rule is exact (the pruned netlist predicts the same class for every input):

* an input the table ignores is marked unused (-1): a smaller LUT for that node;
* an input read twice by one node is read once;
* a constant node is folded into every table that reads it;
* a node that reaches no readout, and an encoded bit no node reads, are removed.

The rules feed each other (folding a constant can make a consumer constant), so
they run to a fixed point.
"""

from __future__ import annotations

import numpy as np

from .netlist import LutLayer, Netlist, Readout, ThermometerEncoder

__all__ = ["simplify", "restrict_table"]


def restrict_table(tables: np.ndarray, k: int, value: np.ndarray) -> np.ndarray:
    """Tables with input ``k`` forced to ``value`` (per row), still over all 2**K patterns."""
    patterns = np.arange(tables.shape[1])
    forced = (patterns & ~(1 << k))[None, :] | (np.asarray(value)[:, None].astype(np.int64) << k)
    return np.take_along_axis(tables, forced, axis=1)


def _ignored_inputs(tables: np.ndarray, k_total: int) -> np.ndarray:
    """(N, K) True where the table does not depend on input k."""
    patterns = np.arange(tables.shape[1])
    out = np.zeros((tables.shape[0], k_total), dtype=bool)
    for k in range(k_total):
        lo = patterns[(patterns >> k) & 1 == 0]
        out[:, k] = (tables[:, lo] == tables[:, lo | (1 << k)]).all(axis=1)
    return out


def _merge_duplicates(inputs: np.ndarray, tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where slots j < k read the same source, force bit k = bit j and drop slot k."""
    inputs, tables = inputs.copy(), tables.copy()
    patterns = np.arange(tables.shape[1])
    K = inputs.shape[1]
    for j in range(K):
        for k in range(j + 1, K):
            rows = np.flatnonzero((inputs[:, j] == inputs[:, k]) & (inputs[:, k] >= 0))
            if rows.size == 0:
                continue
            # pattern a reads bit k from bit j
            bitj = (patterns >> j) & 1
            forced = (patterns & ~(1 << k)) | (bitj << k)
            tables[rows] = tables[rows][:, forced]
            inputs[rows, k] = -1
    return inputs, tables


def simplify(net: Netlist) -> Netlist:
    """The smallest equivalent netlist these rules reach (see the module docstring)."""
    enc = net.encoder
    bit_feature, bit_threshold = enc.bit_feature, enc.bit_threshold
    layers = [dict(grid=l.grid, positions=l.positions.copy(), inputs=l.inputs.copy(),
                   tables=l.tables.copy(), radius=l.radius) for l in net.layers]
    groups = [g.copy() for g in net.readout.groups]
    keep_bits = np.arange(enc.n_bits)

    changed = True
    while changed:
        changed = False
        for layer in layers:
            ins, tab = _merge_duplicates(layer["inputs"], layer["tables"])
            ignored = _ignored_inputs(tab, ins.shape[1]) & (ins >= 0)
            if ignored.any() or not np.array_equal(ins, layer["inputs"]):
                ins[ignored] = -1
                changed = True
            layer["inputs"], layer["tables"] = ins, tab
        # fold constant nodes into their consumers
        for li in range(len(layers) - 1):
            src, dst = layers[li], layers[li + 1]
            const = (src["tables"] == src["tables"][:, :1]).all(axis=1)
            value = src["tables"][:, 0]
            for k in range(dst["inputs"].shape[1]):
                col = dst["inputs"][:, k]
                rows = np.flatnonzero((col >= 0) & const[np.maximum(col, 0)])
                if rows.size:
                    dst["tables"][rows] = restrict_table(dst["tables"][rows], k, value[col[rows]])
                    dst["inputs"][rows, k] = -1
                    changed = True
        # remove nodes that reach no readout, last layer first
        used_last = np.zeros(layers[-1]["inputs"].shape[0], dtype=bool)
        used_last[np.concatenate(groups)] = True
        needed = used_last
        for li in range(len(layers) - 1, -1, -1):
            layer = layers[li]
            if not needed.any():
                # nothing downstream reads this layer: the network computes constants.
                # Keep one constant node so that the netlist stays well-formed.
                needed[0] = True
                layer["inputs"][0] = -1
                layer["tables"][0] = 0
            if not needed.all():
                remap = np.cumsum(needed) - 1
                for key in ("positions", "inputs", "tables"):
                    layer[key] = layer[key][needed]
                if li == len(layers) - 1:
                    groups = [remap[g] for g in groups]
                else:
                    nxt = layers[li + 1]["inputs"]
                    layers[li + 1]["inputs"] = np.where(nxt >= 0, remap[np.maximum(nxt, 0)], -1)
                changed = True
            n_prev = len(keep_bits) if li == 0 else layers[li - 1]["inputs"].shape[0]
            needed = np.zeros(n_prev, dtype=bool)
            needed[layer["inputs"][layer["inputs"] >= 0]] = True
        # encoded bits no first-layer node reads (one is kept so the encoder stays valid)
        if not needed.any():
            needed[0] = True
        if not needed.all():
            remap = np.cumsum(needed) - 1
            ins = layers[0]["inputs"]
            layers[0]["inputs"] = np.where(ins >= 0, remap[np.maximum(ins, 0)], -1)
            keep_bits = keep_bits[needed]
            changed = True

    thresholds = tuple(bit_threshold[keep_bits][bit_feature[keep_bits] == f]
                       for f in range(net.n_features))
    encoder = ThermometerEncoder(thresholds, enc.positions, enc.grid)
    return net.replace(encoder=encoder, layers=tuple(LutLayer(**l) for l in layers),
                       readout=Readout(tuple(groups)))
