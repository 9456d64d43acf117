"""lutmesh explain end to end: every file it writes, an exported detector circuit that
verifies, and --compare (two models side by side, the ratios from both files)."""

import json

import numpy as np
import pytest

from lutmesh.cli import main


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
    assert main(["explain", str(model), "--parts", "0", "--out", str(out)]) == 2


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
                 "--keep-inputs", "--out", str(out)]) == 0
    this = json.loads((out / "circuits.json").read_text())["circuits"]
    other = json.loads((out / "compare" / "circuits.json").read_text())["circuits"]
    summary = json.loads((out / "compare.json").read_text())
    assert summary["models"] == ["radius 1", "global"]
    for path in (out / "circuits.json", out / "compare" / "circuits.json"):
        assert json.loads(path.read_text())["inputs_held"] is False  # --keep-inputs
    assert all(c["held_features"] == [] for c in this + other)
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
