"""lutmesh report: real Yosys and nextpnr counts (slow), the emitted design measured,
one-line errors."""

import json

import pytest

from lutmesh.cli import main
from lutmesh.report.report import make_report
from lutmesh.report.targets import TARGETS, get_target
from lutmesh.testing import random_netlist

ACTIVITY = {"stages": {"encoder": {"toggle_rate": 0.2}, "layer0": {"toggle_rate": 0.3},
                       "readout": {"toggle_rate": 0.1}, "control": {"toggle_rate": 0.05}}}


def test_report_errors_are_one_line(tmp_path, capsys):
    net = random_netlist(1, features=3, layers=1, nodes_per_layer=4, classes=2)
    model = tmp_path / "m.npz"
    net.save(model)
    other = tmp_path / "act.json"
    other.write_text(json.dumps({"stages": {}, "netlist_hash": "0" * 64}))
    for extra, message in [(["--target", "ice41"], "unknown target"),
                           (["--freq", "0"], "--freq"),
                           (["--seeds", "0"], "--seeds 0"),
                           (["--placement", "diag"], "--placement diag"),
                           (["--placement", "grid", "--target", "ecp5-85k"], "not available"),
                           (["--activity", str(other)], "not this model")]:
        assert main(["report", str(model), "--out", str(tmp_path / "r")] + extra) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("target", list(TARGETS))
def test_report_counts_are_yosys_and_fmax_is_nextpnr(small, small_rtl, target, tmp_path):
    t = get_target(target)
    r = make_report(small, small_rtl, t, tmp_path, activity=ACTIVITY, log=lambda *_: None)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved == json.loads(json.dumps(r))
    for key in ("target", "luts", "ffs", "carries", "brams", "luts_by_stage", "fmax_mhz",
                "latency_cycles", "latency_ns", "throughput_inferences_per_s",
                "energy_pj_per_inference", "accuracy_test", "nodes", "tool_versions",
                "netlist_hash", "verilog_sha256", "emit_options"):
        assert key in r
    manifest = json.loads((small_rtl / "manifest.json").read_text())
    assert r["verilog_sha256"] == manifest["verilog_sha256"]
    assert r["latency_cycles"] == manifest["latency_cycles"]
    # the model's LUTs plus the harness's are exactly the flat design's LUT cells
    hier = json.loads((tmp_path / "work" / "stat_hier.json").read_text())
    flat = json.loads((tmp_path / "work" / "stat_flat.json").read_text())
    flat_luts = sum(n for c, n in flat["design"]["num_cells_by_type"].items()
                    if t.classify(c) == "luts")
    assert r["luts"] + r["cells_by_stage"]["harness"]["luts"] == flat_luts
    assert sum(r["luts_by_stage"].values()) == r["luts"]
    layer_luts = [r["luts_by_stage"][f"layer{i}"] for i in range(len(small.layers))]
    assert all(0 < n <= 1.2 * layer.n_nodes for n, layer in zip(layer_luts, small.layers))
    assert any("layer0" in m for m in hier["modules"])
    assert (tmp_path / "report.md").read_text().startswith(f"# {target}")
    assert (tmp_path / "resources.png").read_bytes()[:4] == b"\x89PNG"
    if t.pnr_tool:
        pnr = json.loads((tmp_path / "work" / "pnr.json").read_text())
        assert r["fmax_mhz"] == round(min(v["achieved"] for v in pnr["fmax"].values()), 2)
        e = r["energy_pj_per_inference"]
        assert e["total"] > 0 and e["constants"] and e["source"] and e["label"] == "estimate"
        assert (tmp_path / "energy.png").exists()
        assert r["latency_ns"] == pytest.approx(r["latency_cycles"] * 1000 / r["fmax_mhz"],
                                                abs=0.01)
        # the wire counter agrees with an independent count of nextpnr's routed design:
        # every PIP it bound is one non-empty middle field of a ROUTING triple
        design = json.loads((tmp_path / "work" / "routed.json").read_text())
        (module,) = design["modules"].values()
        pips = {name: [f for f in n["attributes"]["ROUTING"].split(";")[1::3] if f]
                for name, n in module["netnames"].items()
                if n["attributes"].get("ROUTING", "").strip()}
        g = r["routing"]
        assert g["wires_total"] + g["by_stage"]["clock"]["wires"] == sum(map(len, pips.values()))
        assert g["nets"] + g["by_stage"]["clock"]["nets"] == len(pips)
        assert g["wires_per_node_mean"] > 0 and g["by_stage"]["layer0"]["wires"] > 0
        assert e["interconnect"] > 0 and e["total"] > e["total_without_interconnect"]
        assert (tmp_path / "placement.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert r["fmax_mhz"] is None and r["energy_pj_per_inference"]["total"] is None


@pytest.mark.slow
def test_report_measures_the_emitted_design_not_a_rebuild(tmp_path, capsys):
    """`emit --layers-per-stage 2` then `report --rtl`: that design's latency and hash."""
    net = random_netlist(3, features=5, k=3, layers=3, nodes_per_layer=24, classes=3)
    model = tmp_path / "m.npz"
    net.save(model)
    rtl, out = tmp_path / "rtl2", tmp_path / "rep"
    assert main(["emit", str(model), "--layers-per-stage", "2", "--out", str(rtl)]) == 0
    assert main(["report", str(model), "--rtl", str(rtl), "--target", "xilinx",
                 "--out", str(out)]) == 0
    manifest = json.loads((rtl / "manifest.json").read_text())
    r = json.loads((out / "xilinx" / "report.json").read_text())
    assert r["latency_cycles"] == manifest["latency_cycles"]
    assert r["verilog_sha256"] == manifest["verilog_sha256"]
    assert r["emit_options"]["layers_per_stage"] == 2
    # the default design (a register after every layer) is a different circuit
    assert main(["report", str(model), "--target", "xilinx", "--out", str(tmp_path / "d")]) == 0
    default = json.loads((tmp_path / "d" / "xilinx" / "report.json").read_text())
    assert default["latency_cycles"] == r["latency_cycles"] + 1
    assert default["verilog_sha256"] != r["verilog_sha256"]
    capsys.readouterr()
