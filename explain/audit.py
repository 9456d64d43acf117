"""The audit trail of one prediction: from the class back to the deciding inputs.

Starting from the predicted class's voters that fired and belong to its class
circuit, each node is shown with its formula and the product term that held on
this input; the walk continues through the kept nodes those terms read, down to
encoder bits, whose features are the inputs that decided the sample.
"""

import numpy as np

from ..netlist import Netlist
from .formulas import NodeFormula

__all__ = ["audit_sample"]


def audit_sample(net: Netlist, q_row: np.ndarray, formulas: list[list[NodeFormula]],
                 names: list[list[str]], bit_labels: list[str], keep: np.ndarray | None,
                 offsets: np.ndarray, held_features=()) -> dict:
    """JSON-ready trail for one quantised sample (``keep``: the class circuit, or None;
    ``held_features``: the inputs that circuit holds constant, never deciding)."""
    held = set(int(f) for f in held_features)
    bits = net.encode(np.asarray(q_row)[None, :])
    outs = net.forward(bits)
    values = [bits[0]] + [o[0] for o in outs]
    scores = net.readout(outs[-1])[0]
    cls = int(np.argmax(scores))
    last = len(net.layers) - 1

    def kept(layer: int, n: int) -> bool:
        return keep is None or bool(keep[offsets[layer] + n])

    frontier = {(last, int(n)) for n in net.readout.groups[cls]
                if values[last + 1][n] and kept(last, int(n))}
    voters = sorted(n for _, n in frontier)
    steps, decisive_bits = [], set()
    seen = set()
    while frontier:
        nxt = set()
        for layer, n in sorted(frontier, reverse=True):
            if (layer, n) in seen:
                continue
            seen.add((layer, n))
            f = formulas[layer][n]
            ins = net.layers[layer].inputs[n]
            slot_values = {s: int(values[layer][ins[s]]) for s in f.used}
            matched = next((t for t in f.terms if all(slot_values[s] == p for s, p in t)), None)
            step = {"node": names[layer][n], "layer": layer, "value": int(values[layer + 1][n]),
                    "formula": f.text,
                    "matched_term": None if matched is None else
                    [[(bit_labels if layer == 0 else names[layer - 1])[int(ins[s])], p]
                     for s, p in matched]}
            steps.append(step)
            # follow the literals that made this node's value: the matched term if
            # it fired, else every used input
            slots = [s for s, _ in matched] if matched is not None else f.used
            for s in slots:
                src = int(ins[s])
                if layer == 0:
                    if int(net.encoder.bit_feature[src]) not in held:
                        decisive_bits.add(src)
                elif kept(layer - 1, src):
                    nxt.add((layer - 1, src))
        frontier = nxt
    features = sorted({int(net.encoder.bit_feature[b]) for b in decisive_bits})
    return {"predicted_class": cls, "class_name": str(net.class_names[cls]),
            "scores": [int(s) for s in scores],
            "fired_voters": [names[last][n] for n in voters], "steps": steps,
            "decisive_bits": [bit_labels[b] for b in sorted(decisive_bits)],
            "decisive_features": features,
            "decisive_feature_names": [str(net.feature_names[f]) for f in features]}
