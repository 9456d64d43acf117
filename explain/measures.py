"""How big a class circuit is, in the units a reader pays for.

- ``field``: input features (pixels) the circuit reads, through the encoder bits
  its layer-0 nodes depend on;
- ``literals``: total literals of the circuit's node formulas, minimised with the
  patterns the *circuit* sees on the training data as don't-cares (an input held
  constant by ablation drops out of its reader's formula): its description length;
- ``wire_length``: sum over its edges of the Chebyshev length in grid cells, from
  the source's position to the node's centre projected onto the source's grid
  (the convention of :func:`lutmesh.netlist.centre_distances`);
- per-pixel ablation impact: how far holding one feature's bits at their training
  majority moves the class score, the shading of the "pixels it reads" picture.

Edges and field count only inputs a node's table depends on, from kept sources.
"""

import numpy as np

from ..netlist import Netlist, projected_centre
from .circuits import (AblatedModel, IncrementalAblation, balanced_accuracy, depends,
                       find_class_circuit)
from .formulas import NodeFormula, layer_patterns, node_formula

__all__ = ["depends", "circuit_links", "circuit_measures", "circuit_formulas", "pixel_impact",
           "describe_circuit"]


def circuit_links(net: Netlist, keep: np.ndarray, offsets: np.ndarray,
                  held_features=()) -> list[np.ndarray]:
    """Per layer, the (node, source) pairs of the circuit's edges (source: an encoder
    bit for layer 0, a node of the layer below otherwise); bits of the features the
    circuit holds constant are not read."""
    links = []
    for i, layer in enumerate(net.layers):
        k = keep[offsets[i]:offsets[i + 1]]
        ok = depends(layer.tables, layer.k) & (layer.inputs >= 0) & k[:, None]
        if i == 0 and len(held_features):
            ok &= ~np.isin(net.encoder.bit_feature, held_features)[np.maximum(layer.inputs, 0)]
        if i > 0:
            prev = keep[offsets[i - 1]:offsets[i]]
            ok &= prev[np.maximum(layer.inputs, 0)]
        rows, slots = np.nonzero(ok)
        links.append(np.stack([rows, layer.inputs[rows, slots]], axis=1))
    return links


def _source_grid(net: Netlist, i: int):
    if i == 0:
        return np.asarray(net.encoder.bit_positions), net.encoder.grid
    return np.asarray(net.layers[i - 1].positions), net.layers[i - 1].grid


def circuit_measures(net: Netlist, keep: np.ndarray, offsets: np.ndarray,
                     formulas: list[tuple[int, int, NodeFormula]], held_features=()) -> dict:
    """``edges``, ``field``, ``literals`` and ``wire_length`` of one circuit."""
    links = circuit_links(net, keep, offsets, held_features)
    length = 0
    for i, (layer, pairs) in enumerate(zip(net.layers, links)):
        if not len(pairs):
            continue
        src_pos, src_grid = _source_grid(net, i)
        centre = projected_centre(np.asarray(layer.positions)[pairs[:, 0]], layer.grid, src_grid)
        length += int(np.abs(src_pos[pairs[:, 1]] - centre).max(axis=1).sum())
    features = np.unique(net.encoder.bit_feature[links[0][:, 1]]) if len(links[0]) else []
    return {"edges": int(sum(len(p) for p in links)), "field": int(len(features)),
            "field_features": [int(f) for f in features],
            "literals": int(sum(len(t) for _, _, f in formulas for t in f.terms)),
            "wire_length": length}


def circuit_formulas(model: AblatedModel, keep: np.ndarray, names: list[list[str]],
                     bit_labels: list[str]) -> list[tuple[int, int, NodeFormula]]:
    """(layer, node, formula) of every kept node, as the circuit computes it: the
    input patterns it sees with the others ablated (training data) are the cares."""
    outs = model.outputs(keep)
    prevs = [model.bits] + outs[:-1]
    result = []
    for i, layer in enumerate(model.net.layers):
        kept = np.flatnonzero(keep[model.offsets[i]:model.offsets[i + 1]])
        if not kept.size:
            continue
        seen = layer_patterns(layer, prevs[i])
        src = bit_labels if i == 0 else names[i - 1]
        result += [(i, int(n), node_formula(layer.tables[n], layer.inputs[n], src, seen[n]))
                   for n in kept]
    return result


def pixel_impact(model: AblatedModel, keep: np.ndarray, c: int,
                 features: list[int]) -> np.ndarray:
    """Per feature: mean |change of score[c]| when its bits are held at their
    training majority too, the circuit's other nodes ablated as usual."""
    state = IncrementalAblation(model, keep)
    base = state.score[:, c].astype(float)
    impact = np.zeros(model.net.n_features)
    for f in features:
        impact[f] = np.abs(state.try_hold(int(f))[:, c] - base).mean()
    return impact


def describe_circuit(model: AblatedModel, test_model: AblatedModel, c: int, tolerance: float,
                     bound: str, names: list[list[str]], bit_labels: list[str],
                     hold_inputs: bool = True, parts: int = 1) -> tuple:
    """Find class ``c``'s circuit and measure it: (circuit, keep mask, circuits.json
    entry, its formulas, its measures). ``test_model``: the test split, ablated with
    the training constants (nodes and bits)."""
    circ = find_class_circuit(model, c, tolerance, bound, hold_inputs, parts)
    keep = np.zeros(model.n_nodes, dtype=bool)
    keep[circ.nodes] = True
    held = model.holding(circ.held_features)
    scores = test_model.holding(circ.held_features).scores(keep)
    full = test_model.scores(np.ones_like(keep))
    positive = test_model.labels == c
    formulas = circuit_formulas(held, keep, names, bit_labels)
    measures = circuit_measures(model.net, keep, model.offsets, formulas, circ.held_features)
    entry = circ.to_json([n for layer in names for n in layer])
    entry.update({k: v for k, v in measures.items() if k != "field_features"})
    entry["balanced_accuracy_test"] = balanced_accuracy(scores[:, c] >= circ.threshold, positive)
    entry["full_balanced_accuracy_test"] = balanced_accuracy(full[:, c] >= circ.threshold,
                                                             positive)
    pred = np.argmax(scores, axis=1)
    entry["test_accuracy"] = float((pred == test_model.labels).mean())
    entry["test_one_vs_rest"] = float(((pred == c) == positive).mean())
    return circ, keep, entry, formulas, measures
