"""explain: formulas equal their tables, a planted circuit is found exactly, the
tolerance holds where it is claimed, and an exported circuit is a working netlist."""

import json

import numpy as np
import pytest

from lutmesh.cli import main
from lutmesh.explain.circuits import AblatedModel, circuit_netlist, find_class_circuit
from lutmesh.explain.fields import receptive_fields
from lutmesh.explain.formulas import evaluate_terms, node_formula
from lutmesh.netlist import LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder
from lutmesh.testing import random_inputs, random_netlist


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_exact_formula_equals_table_on_every_pattern(k):
    rng = np.random.default_rng(k)
    names = [f"s{i}" for i in range(k)]
    for _ in range(40):
        table = rng.integers(0, 2, 1 << k).astype(np.uint8)
        inputs = np.arange(k)
        f = node_formula(table, inputs, names)
        patterns = (np.arange(1 << k)[:, None] >> np.arange(k)) & 1
        assert evaluate_terms(f.terms, patterns).tolist() == table.tolist(), f.text


def test_formula_with_dont_cares_equals_table_on_seen_patterns_and_names_inputs():
    rng = np.random.default_rng(0)
    for _ in range(40):
        table = rng.integers(0, 2, 16).astype(np.uint8)
        seen = rng.random(16) < 0.5
        f = node_formula(table, np.array([3, 1, 0, 2]), ["a ≥ 1", "b ≥ 2", "c", "d"], seen)
        patterns = (np.arange(16)[:, None] >> np.arange(4)) & 1
        got = evaluate_terms(f.terms, patterns)
        assert (got[seen] == table[seen]).all()
    const = node_formula(np.array([0, 0, 0, 0], np.uint8), np.array([0, -1]), ["a ≥ 1"])
    assert (const.kind, const.text) == ("constant", "0")
    inv = node_formula(np.array([1, 0, 1, 0], np.uint8), np.array([0, -1]), ["a ≥ 1"])
    assert (inv.kind, inv.text) == ("inverter", "a < 1")
    wire = node_formula(np.array([0, 0, 1, 1], np.uint8), np.array([-1, 0]), ["l0_r0_c0"])
    assert (wire.kind, wire.text) == ("wire", "l0_r0_c0")


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
    for c in range(4):
        circ = find_class_circuit(model, c, tolerance=0.02)
        keep = np.zeros(model.n_nodes, bool)
        keep[circ.nodes] = True
        pred = model.predict(keep)  # recomputed from scratch, not the search's own numbers
        assert (pred == labels).mean() >= (full == labels).mean() - 0.02 - 1e-12
        ovr = ((pred == c) == (labels == c)).mean()
        assert ovr >= ((full == c) == (labels == c)).mean() - 0.02 - 1e-12
        assert circ.accuracy == pytest.approx((pred == labels).mean())
        assert len(circ.nodes) < model.n_nodes
        exported = circuit_netlist(model, circ)
        assert exported.predict_quantized(q).tolist() == pred.tolist()


@pytest.mark.slow
def test_explain_cli_on_a_trained_model_and_the_exported_detector_circuit_verifies(tmp_path, capsys):
    model = tmp_path / "iris.npz"
    assert main(["train", "--dataset", "iris", "--layers", "4x4x4,2x2x6", "--epochs", "6",
                 "--out", str(model)]) == 0
    out = tmp_path / "ex"
    assert main(["explain", str(model), "--class", "1", "--sample", "0", "--export-circuit",
                 "--out", str(out)]) == 0
    for name in ("explain.html", "explain.json", "formulas.txt", "formulas.json", "fields.json",
                 "circuits.json", "fields.png", "activation.png", "circuit_1.png",
                 "circuit_1.npz", "audit_0.json", "audit_0.png"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "explain.html").read_text()
    assert "data:image/png;base64," in html and "Class circuits" in html
    data = json.loads((out / "circuits.json").read_text())
    assert data["bound"] == "detector"  # the default: the exported circuit is a detector's
    circuits = data["circuits"]
    assert [c["class"] for c in circuits] == [1]
    audit = json.loads((out / "audit_0.json").read_text())
    assert audit["steps"] and audit["decisive_feature_names"]
    from lutmesh.netlist import Netlist
    from lutmesh.datasets import load_dataset

    ds = load_dataset("iris")
    circuit = Netlist.load(out / "circuit_1.npz")
    measured = (circuit.predict(ds.X_test) == ds.y_test).mean()
    assert measured == pytest.approx(circuits[0]["test_accuracy"])
    assert circuit.meta["accuracy"]["train"] == pytest.approx(circuits[0]["accuracy"])
    capsys.readouterr()
    assert main(["verify", str(out / "circuit_1.npz"), "--no-activity",
                 "--out", str(tmp_path / "v")]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["explain", str(model), "--class", "nope", "--out", str(out)]) == 2


def test_compare_summary_ratios_and_their_spread():
    from lutmesh.explain.explain import compare_summary

    def circ(c, nodes):
        return {"class": c, "nodes": nodes, "edges": 2 * nodes, "field": 3, "literals": nodes,
                "wire_length": 10, "balanced_accuracy_test": 0.9}

    s = compare_summary([circ(0, 10), circ(1, 30)], [circ(1, 15), circ(0, 40)], ("a", "b"))
    nodes = s["metrics"]["nodes"]
    assert (nodes["this"], nodes["other"]) == (20, 27.5)
    assert nodes["ratio"] == pytest.approx(27.5 / 20, abs=1e-3)
    assert (nodes["ratio_min"], nodes["ratio_max"]) == (0.5, 4.0)  # classes paired by id
    assert s["metrics"]["field"]["ratio"] == 1.0 and s["models"] == ["a", "b"]


def test_explain_compare_draws_two_models_side_by_side(tmp_path, capsys):
    """--compare: the second model's circuits under compare/, the ratios in
    compare.json computed from both circuits.json files, both in one page."""
    models = {}
    for radius in ("1", "global"):
        models[radius] = tmp_path / f"iris_{radius}.npz"
        assert main(["train", "--dataset", "iris", "--layers", "4x4x4,2x2x6", "--epochs", "3",
                     "--radius", radius, "--quiet", "--out", str(models[radius])]) == 0
    out = tmp_path / "ex"
    assert main(["explain", str(models["1"]), "--compare", str(models["global"]),
                 "--out", str(out)]) == 0
    this = json.loads((out / "circuits.json").read_text())["circuits"]
    other = json.loads((out / "compare" / "circuits.json").read_text())["circuits"]
    summary = json.loads((out / "compare.json").read_text())
    assert summary["models"] == ["radius 1", "global"]
    for key, m in summary["metrics"].items():
        a, b = np.mean([c[key] for c in this]), np.mean([c[key] for c in other])
        assert m["ratio"] == pytest.approx(b / max(a, 1e-12), abs=1e-3), key
    for c in range(3):
        assert (out / "compare" / f"circuit_{c}.png").stat().st_size > 0
    page = (out / "explain.html").read_text()
    assert page.count("<table class='side'>") == 3 and "radius 1 beside global" in page
    wine = tmp_path / "wine.npz"
    assert main(["train", "--dataset", "wine", "--layers", "2x2x4,2x2x3", "--epochs", "1",
                 "--quiet", "--out", str(wine)]) == 0
    capsys.readouterr()
    assert main(["explain", str(models["1"]), "--compare", str(wine), "--out",
                 str(tmp_path / "bad")]) == 2
    assert "--compare" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # refused before anything is written
