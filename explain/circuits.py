"""Class circuits: the fewest nodes that keep a class's decisions, found by ablation.

A node outside a circuit is *mean-ablated*: replaced by the constant it outputs
most often on the training data. For class ``c`` the circuit is a set of nodes such
that, with every other node ablated, both the one-vs-rest accuracy for ``c`` and
the overall accuracy stay within ``tolerance`` of the full model's on the data
given (the training split by default).

Search (documented, deterministic):

1. rank nodes by how much ablating each one *alone* moves class ``c``'s score
   margin (mean absolute change of score[c] − max other score) — least first;
2. ablate the longest prefix of that ranking that keeps the tolerance (binary
   search over the prefix length);
3. then try every remaining node once more, in ranking order, ablating it if the
   tolerance still holds (greedy backward elimination with re-checking);
4. finally drop nodes that no kept node or readout group can reach (their value
   cannot matter), and check the tolerance on the final set.

The exported circuit is a real netlist: ablated nodes become constant nodes, and
:func:`lutmesh.train.prune.simplify` folds the constants away exactly.
"""

from dataclasses import dataclass, field

import numpy as np

from ..netlist import LutLayer, Netlist

__all__ = ["AblatedModel", "ClassCircuit", "find_class_circuit", "circuit_netlist"]


class AblatedModel:
    """Forward passes of ``net`` on fixed data with any set of nodes held constant."""

    def __init__(self, net: Netlist, bits: np.ndarray, labels: np.ndarray, constants=None):
        """``constants``: the ablation values (default: each node's majority value on
        ``bits``); pass the training model's to evaluate a circuit on other data."""
        self.net, self.bits, self.labels = net, bits, np.asarray(labels)
        outs = net.forward(bits)
        self.constants = constants if constants is not None else [
            (o.mean(axis=0) >= 0.5).astype(np.uint8) for o in outs]
        self.sizes = [layer.n_nodes for layer in net.layers]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.full_pred = np.argmax(net.readout(outs[-1]), axis=1)

    @property
    def n_nodes(self) -> int:
        return int(self.offsets[-1])

    def locate(self, node: int) -> tuple[int, int]:
        layer = int(np.searchsorted(self.offsets, node, side="right") - 1)
        return layer, int(node - self.offsets[layer])

    def scores(self, keep: np.ndarray) -> np.ndarray:
        """Class scores with nodes where ``keep`` is False ablated (keep: all nodes, flat)."""
        return self.net.readout(self.outputs(keep)[-1])

    def predict(self, keep: np.ndarray) -> np.ndarray:
        return np.argmax(self.scores(keep), axis=1)

    def outputs(self, keep: np.ndarray) -> list[np.ndarray]:
        x, outs = self.bits, []
        for i, layer in enumerate(self.net.layers):
            x = layer(x)
            k = keep[self.offsets[i]:self.offsets[i + 1]]
            x = x.copy()
            x[:, ~k] = self.constants[i][~k]
            outs.append(x)
        return outs


class IncrementalAblation:
    """Ablate one more node and re-evaluate only what it can change.

    Holds every layer's outputs for the current set of kept nodes; ``try_ablate``
    recomputes just the nodes downstream of the ablated one (its fan-out cone),
    which is what makes a greedy pass over a thousand nodes affordable.
    """

    def __init__(self, model: AblatedModel, keep: np.ndarray):
        self.model, self.keep = model, keep.copy()
        net = model.net
        self.outs = model.outputs(self.keep)
        self.score = net.readout(self.outs[-1])
        self.group_of = np.full(net.layers[-1].n_nodes, -1)
        for c, g in enumerate(net.readout.groups):
            self.group_of[g] = c
        self.fanout = []
        for i in range(1, len(net.layers)):
            ins = net.layers[i].inputs
            fan = [[] for _ in range(net.layers[i - 1].n_nodes)]
            for n, row in enumerate(ins):
                for src in set(int(v) for v in row if v >= 0):
                    fan[src].append(n)
            self.fanout.append([np.array(f, dtype=np.int64) for f in fan])
        self._pending = None

    def _columns(self, i: int, cols: np.ndarray, prev: np.ndarray) -> np.ndarray:
        layer = self.model.net.layers[i]
        return layer.tables[cols, layer.patterns(prev, cols)]

    def try_ablate(self, node: int) -> np.ndarray:
        """Class scores if ``node`` were ablated too (nothing is changed until commit)."""
        model = self.model
        i, j = model.locate(node)
        changes = {i: (np.array([j]), model.constants[i][[j]][None, :].repeat(
            self.outs[i].shape[0], axis=0))}
        cols, vals = changes[i]
        for nxt in range(i + 1, len(model.sizes)):
            hit = np.unique(np.concatenate([self.fanout[nxt - 1][c] for c in cols]))
            off = model.offsets[nxt]
            hit = hit[self.keep[off + hit]] if hit.size else hit
            if hit.size == 0:
                cols = np.zeros(0, dtype=np.int64)
                break
            prev = self.outs[nxt - 1].copy()
            prev[:, cols] = vals
            new = self._columns(nxt, hit, prev)
            differs = (new != self.outs[nxt][:, hit]).any(axis=0)
            cols, vals = hit[differs], new[:, differs]
            changes[nxt] = (cols, vals)
            if cols.size == 0:
                break
        score = self.score
        last = len(model.sizes) - 1
        if last in changes and changes[last][0].size:
            cols, vals = changes[last]
            delta = vals.astype(np.int64) - self.outs[last][:, cols]
            score = score.copy()
            for c in np.unique(self.group_of[cols]):
                if c >= 0:
                    score[:, c] += delta[:, self.group_of[cols] == c].sum(axis=1)
        self._pending = (node, changes, score)
        return score

    def commit(self) -> None:
        node, changes, score = self._pending
        self.keep[node] = False
        for i, (cols, vals) in changes.items():
            self.outs[i][:, cols] = vals
        self.score = score
        self._pending = None


def one_vs_rest(pred: np.ndarray, labels: np.ndarray, c: int) -> float:
    return float(((pred == c) == (labels == c)).mean())


@dataclass
class ClassCircuit:
    cls: int
    nodes: list[int]  # flat node indices (layer offsets as in AblatedModel)
    edges: int
    accuracy: float
    one_vs_rest: float
    full_accuracy: float
    full_one_vs_rest: float
    evaluations: int
    per_layer: list[int] = field(default_factory=list)

    def to_json(self, names: list[str]) -> dict:
        return {"class": self.cls, "nodes": len(self.nodes), "edges": self.edges,
                "per_layer": self.per_layer, "node_names": [names[n] for n in self.nodes],
                "accuracy": self.accuracy, "one_vs_rest": self.one_vs_rest,
                "full_accuracy": self.full_accuracy, "full_one_vs_rest": self.full_one_vs_rest,
                "evaluations": self.evaluations}


def reachable(net: Netlist, keep: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Nodes of ``keep`` whose value can reach the readout through kept nodes."""
    live = np.zeros_like(keep)
    last = len(net.layers) - 1
    groups = np.concatenate(net.readout.groups)
    need = np.zeros(net.layers[last].n_nodes, dtype=bool)
    need[groups] = True
    for i in range(last, -1, -1):
        layer = net.layers[i]
        k = keep[offsets[i]:offsets[i + 1]] & need
        live[offsets[i]:offsets[i + 1]] = k
        if i > 0:
            need = np.zeros(net.layers[i - 1].n_nodes, dtype=bool)
            src = layer.inputs[k]
            need[src[src >= 0]] = True
    return live


def count_edges(net: Netlist, keep: np.ndarray, offsets: np.ndarray) -> int:
    """Links into kept nodes from kept nodes (or from encoder bits, for layer 0)."""
    edges = 0
    for i, layer in enumerate(net.layers):
        k = keep[offsets[i]:offsets[i + 1]]
        src = layer.inputs[k]
        if i == 0:
            edges += int((src >= 0).sum())
        else:
            prev = keep[offsets[i - 1]:offsets[i]]
            edges += int(prev[src[src >= 0]].sum())
    return edges


def find_class_circuit(model: AblatedModel, c: int, tolerance: float = 0.01) -> ClassCircuit:
    labels = model.labels
    full_pred = model.full_pred
    full_acc = float((full_pred == labels).mean())
    full_ovr = one_vs_rest(full_pred, labels, c)
    evaluations = 0

    def holds_pred(pred: np.ndarray) -> bool:
        nonlocal evaluations
        evaluations += 1
        return (float((pred == labels).mean()) >= full_acc - tolerance - 1e-12
                and one_vs_rest(pred, labels, c) >= full_ovr - tolerance - 1e-12)

    n = model.n_nodes
    full = np.ones(n, dtype=bool)

    def margin(s):
        return s[:, c] - np.delete(s, c, axis=1).max(axis=1)

    probe = IncrementalAblation(model, full)
    base_margin = margin(probe.score)
    impact = np.array([np.abs(margin(probe.try_ablate(node)) - base_margin).mean()
                       for node in range(n)])
    order = np.argsort(impact, kind="stable")

    lo, hi = 0, n  # the longest ablatable prefix of the ranking
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = full.copy()
        keep[order[:mid]] = False
        if holds_pred(model.predict(keep)):
            lo = mid
        else:
            hi = mid - 1
    keep = full.copy()
    keep[order[:lo]] = False
    state = IncrementalAblation(model, keep)
    for node in order[lo:]:
        if holds_pred(np.argmax(state.try_ablate(int(node)), axis=1)):
            state.commit()
    keep = state.keep
    keep = reachable(model.net, keep, model.offsets)
    pred = model.predict(keep)
    acc = float((pred == labels).mean())
    ovr = one_vs_rest(pred, labels, c)
    nodes = [int(v) for v in np.flatnonzero(keep)]
    per_layer = [int(keep[model.offsets[i]:model.offsets[i + 1]].sum())
                 for i in range(len(model.sizes))]
    return ClassCircuit(c, nodes, count_edges(model.net, keep, model.offsets), acc, ovr,
                        full_acc, full_ovr, evaluations, per_layer)


def circuit_netlist(model: AblatedModel, circuit: ClassCircuit) -> Netlist:
    """The circuit as a netlist: other nodes constant, then exactly simplified."""
    from ..prune import simplify

    net = model.net
    keep = np.zeros(model.n_nodes, dtype=bool)
    keep[circuit.nodes] = True
    layers = []
    for i, layer in enumerate(net.layers):
        k = keep[model.offsets[i]:model.offsets[i + 1]]
        inputs, tables = layer.inputs.copy(), layer.tables.copy()
        inputs[~k] = -1
        tables[~k] = model.constants[i][~k][:, None]
        layers.append(LutLayer(layer.grid, layer.positions, inputs, tables, layer.radius))
    meta = dict(net.meta)
    meta["explain"] = {"class_circuit": circuit.cls, "nodes": len(circuit.nodes),
                       "source_hash": net.content_hash()}
    meta.pop("accuracy", None)
    return simplify(net.replace(layers=tuple(layers), meta=meta))
