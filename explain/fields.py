"""Receptive fields: which input features each node depends on, through used inputs."""

import numpy as np

from ..netlist import Netlist

__all__ = ["receptive_fields", "field_summary"]


def receptive_fields(net: Netlist) -> list[np.ndarray]:
    """Per layer, a (nodes, features) bool matrix: node depends on feature."""
    enc = net.encoder
    prev = np.zeros((enc.n_bits, net.n_features), dtype=bool)
    prev[np.arange(enc.n_bits), enc.bit_feature] = True
    fields = []
    for layer in net.layers:
        cur = np.zeros((layer.n_nodes, net.n_features), dtype=bool)
        for slot in range(layer.k):
            src = layer.inputs[:, slot]
            used = src >= 0
            cur[used] |= prev[src[used]]
        fields.append(cur)
        prev = cur
    return fields


def field_summary(net: Netlist) -> list[dict]:
    """Mean and max receptive-field size (features) per layer."""
    out = []
    for i, f in enumerate(receptive_fields(net)):
        sizes = f.sum(axis=1)
        out.append({"layer": i, "nodes": int(f.shape[0]), "mean": float(sizes.mean()),
                    "max": int(sizes.max()) if sizes.size else 0})
    return out
