"""explain.circuits: a planted circuit is found exactly, the tolerance holds where it
is claimed; the detector bound: the greedy circuit keeps the bound where it claims to,
brute force finds nothing the greedy search calls invalid, the threshold is the
balanced-accuracy optimum, and circuits.json carries the reader's measures."""

import itertools
import json
from types import SimpleNamespace

import numpy as np
import pytest

from lutmesh.errors import ConfigError
from lutmesh.explain.circuits import (AblatedModel, balanced_accuracy, detector_threshold,
                                      circuit_netlist, find_class_circuit)
from lutmesh.explain.explain import explain
from lutmesh.explain.fields import receptive_fields
from lutmesh.netlist import LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder
from lutmesh.testing import random_inputs, random_netlist


def planted_netlist():
    """y = f0 ∧ f1; layer 0 computes AND and NAND, plus two noise wires of f2, f3."""
    quant = Quantizer(np.ones(4, np.int64), np.ones(4), np.zeros(4))
    enc = ThermometerEncoder(tuple(np.array([1]) for _ in range(4)),
                             np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), (2, 2))
    and_t = np.array([0, 0, 0, 1], np.uint8)
    wire = np.array([0, 1, 0, 1], np.uint8)  # slot 0 passed through, slot 1 unused
    l0 = LutLayer((2, 2), np.array([[0, 0], [0, 1], [1, 0], [1, 1]]),
                  np.array([[0, 1], [0, 1], [2, -1], [3, -1]]),
                  np.stack([and_t, 1 - and_t, wire, wire]), 2)
    l1 = LutLayer((2, 2), np.array([[0, 0], [0, 1], [1, 0], [1, 1]]),
                  np.array([[0, -1], [1, -1], [2, -1], [3, -1]]), np.stack([wire] * 4), 2)
    readout = Readout((np.array([1, 3]), np.array([0, 2])))  # class 0: NAND, f3; class 1: AND, f2
    return Netlist(quant, enc, (l0, l1), readout, ("no", "yes"), ("f0", "f1", "f2", "f3"),
                   {"dataset": "planted"})


def planted_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = np.stack([rng.integers(0, 2, n), rng.integers(0, 2, n),
                  rng.random(n) < 0.2, rng.random(n) < 0.2], axis=1).astype(float)
    return X, (X[:, 0] * X[:, 1]).astype(int)


@pytest.mark.parametrize("cls", [0, 1])
def test_planted_circuit_is_recovered_exactly(cls):
    net = planted_netlist()
    X, y = planted_data()
    model = AblatedModel(net, net.encode(net.quantize(X)), y)
    circ = find_class_circuit(model, cls, tolerance=0.01)
    # layer 0 nodes 0 (AND), 1 (NAND); layer 1 nodes 0, 1 (their voters): flat 0, 1, 4, 5
    assert circ.nodes == [0, 1, 4, 5]
    assert circ.accuracy == 1.0 and circ.one_vs_rest == 1.0
    assert circ.edges == 2 * 2 + 2
    fields = receptive_fields(net)
    assert fields[1][0].tolist() == [True, True, False, False]


def test_tolerance_holds_on_the_data_it_claims():
    net = random_netlist(4, features=8, layers=2, nodes_per_layer=40, classes=4, k=4)
    q = random_inputs(net, 500, seed=1)
    bits = net.encode(q)
    labels = net.predict_quantized(q).copy()
    flip = np.random.default_rng(2).random(len(labels)) < 0.15
    labels[flip] = (labels[flip] + 1) % 4
    model = AblatedModel(net, bits, labels)
    full = model.full_pred
    held = 0
    for c in range(4):
        circ = find_class_circuit(model, c, tolerance=0.02)
        keep = np.zeros(model.n_nodes, bool)
        keep[circ.nodes] = True
        held += len(circ.held_features)
        # recomputed from scratch (inputs held, nodes ablated), not the search's numbers
        pred = model.holding(circ.held_features).predict(keep)
        assert (pred == labels).mean() >= (full == labels).mean() - 0.02 - 1e-12
        ovr = ((pred == c) == (labels == c)).mean()
        assert ovr >= ((full == c) == (labels == c)).mean() - 0.02 - 1e-12
        assert circ.accuracy == pytest.approx((pred == labels).mean())
        assert len(circ.nodes) < model.n_nodes
        exported = circuit_netlist(model, circ)  # held inputs folded into its tables
        assert exported.predict_quantized(q).tolist() == pred.tolist()
    assert held > 0  # the inputs step did hold some: the checks above covered folding


def test_balanced_accuracy_weighs_both_sides_equally():
    positive = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    assert balanced_accuracy(np.zeros(10, bool), positive) == 0.5  # plain accuracy: 90%
    assert balanced_accuracy(positive, positive) == 1.0
    assert balanced_accuracy(np.ones(10, bool), positive) == 0.5
    assert balanced_accuracy(np.zeros(3, bool), np.zeros(3, bool)) == 1.0


def tiny_problem(seed):
    net = random_netlist(seed, features=4, layers=2, nodes_per_layer=4, classes=2, k=2,
                         radius=None)
    q = random_inputs(net, 300, seed=seed)
    labels = net.predict_quantized(q).copy()
    flip = np.random.default_rng(seed + 100).random(len(labels)) < 0.1
    labels[flip] = 1 - labels[flip]
    return net, AblatedModel(net, net.encode(q), labels)


def detector_holds(model, keep, c, threshold, tolerance):
    full = model.scores(np.ones(model.n_nodes, bool))[:, c] >= threshold
    got = model.scores(keep)[:, c] >= threshold
    positive = model.labels == c
    return balanced_accuracy(got, positive) >= balanced_accuracy(full, positive) - tolerance - 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_detector_circuit_against_brute_force_on_a_tiny_netlist(seed):
    net, model = tiny_problem(seed)
    n = model.n_nodes
    assert n <= 10, f"seed {seed}: {n} nodes, too many to enumerate"
    for c in range(2):
        tol = 0.02
        circ = find_class_circuit(model, c, tol, bound="detector", hold_inputs=False)
        score = model.scores(np.ones(n, bool))[:, c]
        best = max(balanced_accuracy(score >= t, model.labels == c)
                   for t in range(int(score.max()) + 2))
        assert balanced_accuracy(score >= circ.threshold, model.labels == c) == best
        assert circ.threshold == detector_threshold(score, model.labels, c)
        keep = np.zeros(n, bool)
        keep[circ.nodes] = True
        assert detector_holds(model, keep, c, circ.threshold, tol), f"seed {seed} class {c}"
        valid = []
        for mask in itertools.product([False, True], repeat=n):
            m = np.array(mask)
            if detector_holds(model, m, c, circ.threshold, tol):
                valid.append(m)
        assert any((v == keep).all() for v in valid)  # brute force agrees it is valid
        smallest = min(int(v.sum()) for v in valid)
        assert smallest <= len(circ.nodes)


@pytest.mark.parametrize("seed", [2, 6])
def test_held_inputs_keep_the_bound_and_brute_force_finds_no_larger_valid_set(seed):
    net, model = tiny_problem(seed)
    held = 0
    for c in range(2):
        circ = find_class_circuit(model, c, 0.02, bound="detector")
        keep = np.zeros(model.n_nodes, bool)
        keep[circ.nodes] = True
        full = balanced_accuracy(model.scores(np.ones_like(keep))[:, c] >= circ.threshold,
                                 model.labels == c)

        def holds(features):
            got = model.holding(features).scores(keep)[:, c] >= circ.threshold
            return balanced_accuracy(got, model.labels == c) >= full - 0.02 - 1e-12

        assert holds(circ.held_features)
        assert circ.balanced_accuracy == balanced_accuracy(
            model.holding(circ.held_features).scores(keep)[:, c] >= circ.threshold,
            model.labels == c)
        read = set(range(net.n_features))
        largest = max(len(s) for r in range(len(read) + 1)
                      for s in itertools.combinations(sorted(read), r) if holds(list(s)))
        assert len(circ.held_features) <= largest
        # exported, the held inputs are folded away: the netlist reads none of their bits
        exported = circuit_netlist(model, circ)
        first = exported.layers[0].inputs
        read_features = set(exported.encoder.bit_feature[first[first >= 0]].tolist())
        assert not read_features & set(circ.held_features)
        held += len(circ.held_features)
    assert held, "no seed held an input: the test would not cover it"


def planted_dataset():
    X, y = planted_data(400, seed=0)
    Xt, yt = planted_data(200, seed=1)
    return SimpleNamespace(X_train=X, y_train=y, X_test=Xt, y_test=yt, image_shape=None)


def test_circuits_json_schema_and_exact_measures_on_the_planted_netlist(tmp_path):
    net = planted_netlist()
    explain(net, planted_dataset(), tmp_path, sample=None, log=lambda *a: None)
    data = json.loads((tmp_path / "circuits.json").read_text())
    assert data["bound"] == "detector" and data["inputs_held"] is True and data["parts"] == 1
    types = {"held_features": list, "nodes": int, "edges": int, "field": int, "literals": int,
             "wire_length": int, "threshold": int, "balanced_accuracy_train": float,
             "balanced_accuracy_test": float, "full_balanced_accuracy_train": float,
             "full_balanced_accuracy_test": float}
    for entry in data["circuits"]:
        for key, kind in types.items():
            assert isinstance(entry[key], kind), (key, entry[key])
        assert entry["bound"] == "detector"
        assert set(entry["l1_logistic"]) >= {"field", "balanced_accuracy_test"}
    # class 1 votes with AND(f0, f1) and a noise wire of f2: the detector keeps only
    # the AND and its voter (2 + 1 literals, 2 + 1 edges, one cell of wire)
    one = data["circuits"][1]
    assert one["node_names"] == ["l0_r0_c0", "l1_r0_c0"]
    assert (one["nodes"], one["edges"], one["field"], one["literals"], one["wire_length"]) \
        == (2, 3, 2, 3, 1)
    assert one["held_features"] == []  # both inputs of the AND decide
    assert one["threshold"] == 1 and one["balanced_accuracy_train"] == 1.0
    assert one["full_balanced_accuracy_train"] < 1.0  # f2 fires for negatives too
    assert (tmp_path / "circuit_1.png").stat().st_size > 0
    html = (tmp_path / "explain.html").read_text()
    assert "Bound <b>detector</b>" in html and "node formulas" in html


def test_overall_bound_keeps_every_voter_group_and_bad_bound_is_refused(tmp_path):
    net = planted_netlist()
    explain(net, planted_dataset(), tmp_path, bound="overall", sample=None,
            log=lambda *a: None)
    data = json.loads((tmp_path / "circuits.json").read_text())
    assert data["bound"] == "overall"
    assert all(c["nodes"] == 4 for c in data["circuits"])
    with pytest.raises(ConfigError, match="--bound nope"):
        explain(net, planted_dataset(), tmp_path, bound="nope", log=lambda *a: None)


def test_an_audit_through_a_circuit_never_names_an_input_it_holds():
    from lutmesh.explain.audit import audit_sample
    from lutmesh.explain.explain import all_formulas
    from lutmesh.names import bit_names, layer_names

    net = planted_netlist()
    X, y = planted_data()
    bits = net.encode(net.quantize(X))
    formulas = all_formulas(net, bits, net.forward(bits))
    offsets = np.array([0, 4, 8])
    q = net.quantize(np.array([[1.0, 1.0, 0.0, 0.0]]))[0]  # AND fires: class 1
    args = (net, q, formulas, layer_names(net), bit_names(net), None, offsets)
    assert audit_sample(*args)["decisive_features"] == [0, 1]
    assert audit_sample(*args, held_features=[0])["decisive_features"] == [1]


def test_with_parts_the_detector_bound_holds_on_every_part_and_the_whole():
    net = random_netlist(4, features=8, layers=2, nodes_per_layer=40, classes=4, k=4)
    q = random_inputs(net, 600, seed=1)
    labels = net.predict_quantized(q).copy()
    flip = np.random.default_rng(2).random(len(labels)) < 0.15
    labels[flip] = (labels[flip] + 1) % 4
    model = AblatedModel(net, net.encode(q), labels)
    part = np.random.default_rng(0).integers(0, 3, len(labels))  # the bound's own parts
    sizes = []
    for parts in (1, 3):
        total = 0
        for c in range(4):
            circ = find_class_circuit(model, c, 0.02, bound="detector", parts=parts)
            keep = np.zeros(model.n_nodes, bool)
            keep[circ.nodes] = True
            got = model.holding(circ.held_features).scores(keep)[:, c] >= circ.threshold
            full = model.scores(np.ones_like(keep))[:, c] >= circ.threshold
            masks = [np.ones(len(labels), bool)] + ([part == p for p in range(3)]
                                                     if parts == 3 else [])
            for m in masks:
                pos = labels[m] == c
                assert balanced_accuracy(got[m], pos) >= balanced_accuracy(full[m], pos) - 0.02 \
                    - 1e-12
            total += len(circ.nodes)
        sizes.append(total)
    assert sizes[1] >= sizes[0]  # a stricter bound keeps at least as many nodes here
    with pytest.raises(ValueError, match="parts"):
        find_class_circuit(model, 0, 0.02, bound="detector", parts=0)


def test_incremental_holds_and_ablations_equal_a_forward_pass_from_scratch():
    from lutmesh.explain.circuits import IncrementalAblation

    net = random_netlist(4, features=10, layers=2, nodes_per_layer=60, classes=3, k=4)
    q = random_inputs(net, 300, seed=4)
    model = AblatedModel(net, net.encode(q), net.predict_quantized(q))
    keep = np.ones(model.n_nodes, bool)
    keep[::7] = False
    state = IncrementalAblation(model, keep)
    held, steps = [], [("input", 3), ("node", 40), ("input", 0), ("input", 7), ("node", 5)]
    moved = 0
    for kind, what in steps:
        before = state.score.copy()
        if kind == "input":
            got = state.try_hold(what)
            want = model.holding(held + [what]).scores(state.keep)
            held.append(what)
        else:
            got = state.try_ablate(what)
            k = state.keep.copy()
            k[what] = False
            want = model.holding(held).scores(k)
        np.testing.assert_array_equal(got, want)
        moved += kind == "input" and not np.array_equal(got, before)
        state.commit()
    assert moved >= 2  # the holds did change scores, so the equality above means something
    assert state.held == [3, 0, 7]
    np.testing.assert_array_equal(state.score, model.holding(held).scores(state.keep))


def test_ablated_scores_equal_a_plain_forward_pass():
    """The bit-sliced ablated pass against byte-per-node layers written out here: 300
    samples (not a multiple of 64), K = 3, constants of both values."""
    net = random_netlist(5, features=9, layers=3, nodes_per_layer=40, classes=4, k=3)
    q = random_inputs(net, 300, seed=5)
    bits = net.encode(q)
    model = AblatedModel(net, bits, net.predict_quantized(q))
    keep = np.random.default_rng(0).random(model.n_nodes) < 0.6
    x, consts_seen = bits, set()
    for i, layer in enumerate(net.layers):
        x = layer(x).copy()
        off = ~keep[model.offsets[i]:model.offsets[i + 1]]
        x[:, off] = model.constants[i][off]
        consts_seen |= set(model.constants[i][off].tolist())
        np.testing.assert_array_equal(model.outputs(keep)[i], x)
    assert consts_seen == {0, 1}
    np.testing.assert_array_equal(model.scores(keep), net.readout(x))
    want = [(layer_out.mean(axis=0) >= 0.5).astype(np.uint8) for layer_out in net.forward(bits)]
    for got, w in zip(model.constants, want):
        np.testing.assert_array_equal(got, w)
