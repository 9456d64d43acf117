"""Class circuits: the fewest nodes that keep a class's decisions, found by ablation.

A node outside a circuit is *mean-ablated*: replaced by the constant it outputs
most often on the training data. What a circuit must keep is its *bound*:

- ``detector`` (the default of ``lutmesh explain``): class ``c``'s own detector,
  ``score_c >= t_c``, with ``t_c`` the threshold that maximises the full model's
  balanced one-vs-rest accuracy on the training data. The circuit keeps that
  balanced accuracy within ``tolerance``. Balanced, because 90% of digits samples
  are negatives: a plain-accuracy bound lets a circuit drop positives. Only class
  ``c``'s voters matter, so the other classes' machinery can go: on the default
  digits model circuits shrink from 477-583 nodes (overall bound) to 73-129.
  What holds them there: an ablated voter is held at its majority value, 0 for a
  class that is 10% of the data, so a circuit keeps at least about ``t_c`` voters
  for its positives to reach the threshold (class 0: t = 38, 41 voters kept; class
  1: t = 44, 58 kept, of 64). Fewer voters per class is the lever on circuit size.
- ``overall``: the argmax decision; both the one-vs-rest and the overall
  accuracy stay within ``tolerance`` of the full model's. Such a circuit must keep
  every class's voters, which is why it is large.

Search (documented, deterministic):

1. rank nodes by how much ablating each one *alone* moves what the bound watches
   (detector: mean absolute change of score[c], positives and negatives weighted
   equally, as the balanced bound weighs them; overall: of score[c] − max other
   score) — least first;
2. ablate the longest prefix of that ranking that keeps the bound (binary search
   over the prefix length);
3. then try every remaining node once more, in ranking order, ablating it if the
   bound still holds (greedy backward elimination with re-checking);
4. finally drop nodes that no kept node or watched readout group can reach (their
   value cannot matter), and check the bound on the final set;
5. then the inputs: hold each input feature the circuit still reads at its
   training majority (its encoded bits' majority values, a valid thermometer code),
   least impact first, greedily, while the bound holds (measured against the *full*
   model, so nodes and inputs share one tolerance). A node-only circuit of the
   digits models reads 39-46 of the 64 pixels because each voter's cone reaches 16
   encoded bits, yet most of them do not move the class's decision: held, the
   circuits of ``8x8x6,4x4x20`` (seed 0) read 22.3 pixels instead of 38.7 at the
   same balanced test accuracy (95.4%), fewer than the L1 logistic reference (22.7).

The exported circuit is a real netlist: ablated nodes become constant nodes, and
:func:`lutmesh.prune.simplify` folds the constants away exactly.
"""

from dataclasses import dataclass, field

import numpy as np

from ..netlist import LutLayer, Netlist
from .ablation import AblatedModel, IncrementalAblation

__all__ = ["AblatedModel", "IncrementalAblation", "ClassCircuit", "find_class_circuit",
           "circuit_netlist", "read_features", "depends", "balanced_accuracy",
           "detector_threshold", "BOUNDS"]

BOUNDS = ("detector", "overall")


def one_vs_rest(pred: np.ndarray, labels: np.ndarray, c: int) -> float:
    return float(((pred == c) == (labels == c)).mean())


def balanced_accuracy(says: np.ndarray, positive: np.ndarray) -> float:
    """Mean of the true-positive and true-negative rates (a side with no samples is
    left out), so that dropping the 10% positives of a class costs ~50 points."""
    says, positive = np.asarray(says, bool), np.asarray(positive, bool)
    n_pos = int(np.count_nonzero(positive))
    n_neg = positive.size - n_pos
    hits = int(np.count_nonzero(says & positive))
    rates = ([hits / n_pos] if n_pos else []) + (
        [(n_neg - (int(np.count_nonzero(says)) - hits)) / n_neg] if n_neg else [])
    return float(np.mean(rates)) if rates else 1.0


def detector_threshold(score: np.ndarray, labels: np.ndarray, c: int) -> int:
    """The ``t`` maximising the balanced accuracy of ``score >= t`` (smallest on a tie)."""
    positive = np.asarray(labels) == c
    candidates = np.arange(int(score.max()) + 2)
    accs = [balanced_accuracy(score >= t, positive) for t in candidates]
    return int(candidates[int(np.argmax(accs))])


class _Bound:
    """What a circuit of class ``c`` must keep, on ``model``'s data.

    With ``parts`` > 1 the bound must also hold on each of that many random parts of
    the data (seeded, so deterministic), not only on the whole: a circuit that keeps
    its detector on every part is less fitted to the particular samples. Measured on
    the explainable preset, seeds 0-4: 2 parts give circuits of 59.6 nodes at 95.30%
    balanced test accuracy, against 58.5 nodes at 94.88% with the whole alone.
    """

    def __init__(self, model: AblatedModel, c: int, kind: str, tolerance: float,
                 parts: int = 1):
        if kind not in BOUNDS:
            raise ValueError(f"bound {kind!r}: expected one of {', '.join(BOUNDS)}")
        if parts < 1:
            raise ValueError(f"parts = {parts}: expected 1 or more")
        self.c, self.kind, self.tolerance, self.labels = c, kind, tolerance, model.labels
        self.positive = positive = model.labels == c
        share = min(max(positive.mean(), 1e-12), 1 - 1e-12) if positive.size else 0.5
        self.weights = np.where(positive, 0.5 / share, 0.5 / (1 - share))
        full = model.scores(np.ones(model.n_nodes, dtype=bool))
        self.threshold = detector_threshold(full[:, c], model.labels, c)
        part = np.random.default_rng(0).integers(0, parts, len(model.labels))
        self.masks = [None] + ([part == p for p in range(parts)] if parts > 1 else [])
        self.full = self.measure(full)
        self.full_parts = [self.measure(full, m) for m in self.masks]
        self.evaluations = 0

    def _balanced(self, scores: np.ndarray, mask: np.ndarray | None) -> float:
        """The detector's balanced accuracy (on the samples of ``mask``, or all)."""
        says, positive = scores[:, self.c] >= self.threshold, self.positive
        if mask is not None:
            says, positive = says[mask], positive[mask]
        return balanced_accuracy(says, positive)

    def measure(self, scores: np.ndarray, mask: np.ndarray | None = None) -> dict:
        pred = np.argmax(scores, axis=1)
        labels = self.labels
        if mask is not None:
            pred, labels = pred[mask], labels[mask]
        return {"accuracy": float((pred == labels).mean()),
                "one_vs_rest": one_vs_rest(pred, labels, self.c),
                "balanced_accuracy": self._balanced(scores, mask)}

    def holds(self, scores: np.ndarray) -> bool:
        self.evaluations += 1
        floor = -self.tolerance - 1e-12
        for mask, full in zip(self.masks, self.full_parts):
            if self.kind == "detector":  # no argmax needed: only the balanced accuracy
                if self._balanced(scores, mask) - full["balanced_accuracy"] < floor:
                    return False
                continue
            got = self.measure(scores, mask)
            if any(got[k] - full[k] < floor for k in ("accuracy", "one_vs_rest")):
                return False
        return True

    def watched(self, scores: np.ndarray) -> np.ndarray:
        """The per-sample quantity whose mean absolute change under ablation ranks the
        nodes. For the detector, score[c] with positives and negatives weighted so
        that each side counts half, as in the balanced bound: unweighted, the 90%
        negatives decide the ranking. Measured on the explainable preset, seeds 0-4:
        circuits of 57.2 nodes at 94.99% balanced test accuracy, against 58.5 at
        94.88% unweighted (fewer nodes on 4 of the 5 seeds)."""
        if self.kind == "detector":
            return scores[:, self.c] * self.weights
        return scores[:, self.c] - np.delete(scores, self.c, axis=1).max(axis=1)

    @property
    def groups(self) -> list[int] | None:
        return [self.c] if self.kind == "detector" else None


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
    bound: str = "overall"
    threshold: int = 0
    balanced_accuracy: float = 0.0
    full_balanced_accuracy: float = 0.0
    held_features: list[int] = field(default_factory=list)  # inputs held constant

    def to_json(self, names: list[str]) -> dict:
        return {"class": self.cls, "bound": self.bound, "nodes": len(self.nodes),
                "edges": self.edges, "per_layer": self.per_layer,
                "node_names": [names[n] for n in self.nodes], "threshold": self.threshold,
                "balanced_accuracy_train": self.balanced_accuracy,
                "full_balanced_accuracy_train": self.full_balanced_accuracy,
                "accuracy": self.accuracy, "one_vs_rest": self.one_vs_rest,
                "full_accuracy": self.full_accuracy, "full_one_vs_rest": self.full_one_vs_rest,
                "held_features": list(self.held_features), "evaluations": self.evaluations}


def reachable(net: Netlist, keep: np.ndarray, offsets: np.ndarray,
              groups: list[int] | None = None) -> np.ndarray:
    """Nodes of ``keep`` whose value can reach the readout groups (default: all)
    through kept nodes."""
    live = np.zeros_like(keep)
    last = len(net.layers) - 1
    chosen = range(len(net.readout.groups)) if groups is None else groups
    need = np.zeros(net.layers[last].n_nodes, dtype=bool)
    for g in chosen:
        need[net.readout.groups[g]] = True
    for i in range(last, -1, -1):
        layer = net.layers[i]
        k = keep[offsets[i]:offsets[i + 1]] & need
        live[offsets[i]:offsets[i + 1]] = k
        if i > 0:
            need = np.zeros(net.layers[i - 1].n_nodes, dtype=bool)
            src = layer.inputs[k]
            need[src[src >= 0]] = True
    return live


def count_edges(net: Netlist, keep: np.ndarray, offsets: np.ndarray,
                held_features=()) -> int:
    """Links into kept nodes from kept nodes (or from encoder bits not held, for
    layer 0)."""
    held_bits = np.append(np.isin(net.encoder.bit_feature, held_features), False)
    edges = 0
    for i, layer in enumerate(net.layers):
        k = keep[offsets[i]:offsets[i + 1]]
        src = layer.inputs[k]
        if i == 0:
            edges += int(((src >= 0) & ~held_bits[src]).sum())  # -1 reads the False pad
        else:
            prev = keep[offsets[i - 1]:offsets[i]]
            edges += int(prev[src[src >= 0]].sum())
    return edges


def _prune(model: AblatedModel, bound: _Bound) -> np.ndarray:
    """Steps 1-3 of the module docstring: the kept-node mask after greedy ablation."""
    n = model.n_nodes
    full = np.ones(n, dtype=bool)
    probe = IncrementalAblation(model, full)
    base = bound.watched(probe.score)
    impact = np.array([np.abs(bound.watched(probe.try_ablate(node)) - base).mean()
                       for node in range(n)])
    order = np.argsort(impact, kind="stable")
    lo, hi = 0, n  # the longest ablatable prefix of the ranking
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = full.copy()
        keep[order[:mid]] = False
        if bound.holds(model.scores(keep)):
            lo = mid
        else:
            hi = mid - 1
    keep = full.copy()
    keep[order[:lo]] = False
    state = IncrementalAblation(model, keep)
    for node in order[lo:]:
        if bound.holds(state.try_ablate(int(node))):
            state.commit()
    return state.keep


def depends(tables: np.ndarray, k: int) -> np.ndarray:
    """(N, K) bool: the node's table changes when slot k flips."""
    idx = np.arange(tables.shape[1])
    return np.stack([(tables != tables[:, idx ^ (1 << s)]).any(axis=1) for s in range(k)], axis=1)


def read_features(net: Netlist, keep: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Input features whose encoded bits some kept layer-0 node's table depends on."""
    layer = net.layers[0]
    used = (depends(layer.tables, layer.k) & (layer.inputs >= 0)
            & keep[offsets[0]:offsets[1]][:, None])
    return np.unique(net.encoder.bit_feature[layer.inputs[used]])


def _hold_inputs(model: AblatedModel, keep: np.ndarray,
                 bound: _Bound) -> tuple[list[int], np.ndarray]:
    """Step 5 of the module docstring: the input features held, sorted, and the class
    scores with them held."""
    read = read_features(model.net, keep, model.offsets)
    state = IncrementalAblation(model, keep)
    base = bound.watched(state.score)
    impact = [np.abs(bound.watched(state.try_hold(int(f))) - base).mean() for f in read]
    for f in read[np.argsort(impact, kind="stable")]:
        if bound.holds(state.try_hold(int(f))):
            state.commit()
    return sorted(state.held), state.score


def find_class_circuit(model: AblatedModel, c: int, tolerance: float = 0.01,
                       bound: str = "overall", hold_inputs: bool = True,
                       parts: int = 1) -> ClassCircuit:
    """Class ``c``'s circuit under ``bound`` ("detector" or "overall"; see the module
    docstring), within ``tolerance`` (a fraction, 0.01 = 1 point) on ``model``'s data
    (and on each of ``parts`` random parts of it, when more than 1); with
    ``hold_inputs``, also the inputs it can do without (step 5), held constant in
    ``held_features``."""
    rule = _Bound(model, c, bound, tolerance, parts)
    keep = reachable(model.net, _prune(model, rule), model.offsets, rule.groups)
    held, scores = _hold_inputs(model, keep, rule) if hold_inputs else ([], model.scores(keep))
    got = rule.measure(scores)
    per_layer = [int(keep[model.offsets[i]:model.offsets[i + 1]].sum())
                 for i in range(len(model.sizes))]
    return ClassCircuit(c, [int(v) for v in np.flatnonzero(keep)],
                        count_edges(model.net, keep, model.offsets, held), got["accuracy"],
                        got["one_vs_rest"], rule.full["accuracy"], rule.full["one_vs_rest"],
                        rule.evaluations, per_layer, bound, rule.threshold,
                        got["balanced_accuracy"], rule.full["balanced_accuracy"], held)


def circuit_netlist(model: AblatedModel, circuit: ClassCircuit) -> Netlist:
    """The circuit as a netlist: other nodes constant, held inputs folded into the
    layer-0 tables that read them, then exactly simplified."""
    from ..prune import simplify

    net = model.net
    keep = np.zeros(model.n_nodes, dtype=bool)
    keep[circuit.nodes] = True
    held_bits = np.isin(net.encoder.bit_feature, circuit.held_features)
    layers = []
    for i, layer in enumerate(net.layers):
        k = keep[model.offsets[i]:model.offsets[i + 1]]
        inputs, tables = layer.inputs.copy(), layer.tables.copy()
        if i == 0:
            inputs, tables = _fold_bits(inputs, tables, held_bits, model.bit_constants)
        inputs[~k] = -1
        tables[~k] = model.constants[i][~k][:, None]
        layers.append(LutLayer(layer.grid, layer.positions, inputs, tables, layer.radius))
    meta = dict(net.meta)
    meta["explain"] = {"class_circuit": circuit.cls, "nodes": len(circuit.nodes),
                       "source_hash": net.content_hash()}
    meta.pop("accuracy", None)
    return simplify(net.replace(layers=tuple(layers), meta=meta))


def _fold_bits(inputs: np.ndarray, tables: np.ndarray, held: np.ndarray,
               values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer-0 inputs and tables with every input slot that reads a held bit fixed at
    the bit's value: each table entry takes the entry with that slot's bit set to the
    value, and the slot becomes unused (-1, which reads 0, so the new table no
    longer depends on it)."""
    inputs, tables = inputs.copy(), tables.copy()
    idx = np.arange(tables.shape[1])
    for node, slot in zip(*np.nonzero((inputs >= 0) & held[np.maximum(inputs, 0)])):
        bit = int(values[inputs[node, slot]])
        tables[node] = tables[node, (idx & ~(1 << slot)) | (bit << slot)]
        inputs[node, slot] = -1
    return inputs, tables
