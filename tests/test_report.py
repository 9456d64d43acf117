"""Reports: real Yosys and nextpnr (slow), and the pure parts (fast)."""

import json

import pytest

from lutmesh.cli import main
from lutmesh.errors import ConfigError
from lutmesh.hdl.emit import emit_verilog
from lutmesh.names import layer_names
from lutmesh.report.energy import ENERGY, estimate_energy
from lutmesh.report.placement import DIES, grid_bels
from lutmesh.report.report import make_report
from lutmesh.report.routing import node_sites, pips_in, routing_summary, stage_of_net
from lutmesh.report.synth import stage_of_module
from lutmesh.report.targets import TARGETS, get_target
from lutmesh.testing import random_netlist

ACTIVITY = {"stages": {"encoder": {"toggle_rate": 0.2}, "layer0": {"toggle_rate": 0.3},
                       "readout": {"toggle_rate": 0.1}, "control": {"toggle_rate": 0.05}}}


def test_cells_are_classified_per_family():
    assert get_target("ice40-up5k").classify("SB_DFFESR") == "ffs"
    assert get_target("ice40-up5k").classify("SB_CARRY") == "carries"
    assert get_target("ecp5-85k").classify("LUT4") == "luts"
    assert get_target("xilinx").classify("LUT6") == "luts"
    assert get_target("xilinx").classify("FDRE") == "ffs"
    with pytest.raises(ConfigError, match="unknown target 'ice41'"):
        get_target("ice41")


def test_modules_map_to_stages():
    assert stage_of_module("\\lutmesh_harness") == "harness"
    assert stage_of_module("lutmesh_top") == "control"
    assert stage_of_module("\\lutmesh_top.layer3") == "layer3"
    assert stage_of_module("\\lutmesh_top.output_buffer.lut_level") == "output_buffer"
    assert stage_of_module("\\core2.readout", core="core2") == "readout"


def test_energy_is_the_documented_sum():
    cells = {"encoder": {"luts": 10, "carries": 0}, "layer0": {"luts": 100, "carries": 0},
             "readout": {"luts": 50, "carries": 20}, "control": {"luts": 2, "carries": 0}}
    e = estimate_energy("ice40", ACTIVITY, cells, ffs=200, freq_mhz=50.0)
    c = ENERGY["ice40"]
    dyn = (10 * 0.2 + 100 * 0.3 + 70 * 0.1 + 2 * 0.05) * c.e_toggle_pj
    assert e["dynamic"] == pytest.approx(dyn, abs=0.01)
    assert e["clock"] == pytest.approx(c.e_clock_base_pj + 200 * c.e_ff_pj, abs=0.01)
    assert e["static"] == pytest.approx(c.p_static_uw / 50.0, abs=0.01)
    assert e["total"] == pytest.approx(e["dynamic"] + e["clock"] + e["static"], abs=0.02)
    assert e["label"] == "estimate" and "ice40_power" in e["source"]
    none = estimate_energy("xilinx", ACTIVITY, cells, ffs=200, freq_mhz=None)
    assert none["total"] is None and none["method"].startswith("not estimated")


def test_interconnect_energy_is_wires_times_rate_times_e_wire():
    cells = {"layer0": {"luts": 100, "carries": 0}}
    wires = {"layer0": 1000, "encoder": 200, "harness": 500, "clock": 80}
    e = estimate_energy("ice40", ACTIVITY, cells, ffs=0, freq_mhz=50.0, wires_by_stage=wires)
    c = ENERGY["ice40"]
    assert e["interconnect"] == pytest.approx((1000 * 0.3 + 200 * 0.2) * c.e_wire_pj, abs=0.01)
    assert set(e["interconnect_by_stage"]) == {"layer0", "encoder"}  # no harness, no clock
    assert e["total"] == pytest.approx(e["total_without_interconnect"] + e["interconnect"],
                                       abs=0.02)
    # the split keeps the calibration: logic + its 7.92 PIPs per net = the measured toggle
    assert c.e_toggle_pj + 1599 / 202 * c.e_wire_pj == pytest.approx(35.7 / 90)
    no_wires = estimate_energy("ice40", ACTIVITY, cells, ffs=0, freq_mhz=50.0)
    assert no_wires["interconnect"] is None and no_wires["total"] == e["total_without_interconnect"]


def test_routing_strings_are_counted_as_pips():
    # nextpnr's ROUTING attribute: wire;pip;strength triples, the driver's wire first
    routing = ("X4/Y22/lutff_3:cout;;1;X4/Y22/lutff_4:in_3;X4/Y22/4.22.lutff_3:cout.->."
               "4.22.lutff_4:in_3;1;X4/Y22/lutff_4:in_3_lut;X4/Y22/4.22.lutff_4:in_3.->."
               "4.22.lutff_4:in_3_lut;1")
    assert pips_in(routing) == 2
    assert pips_in("X10/Y20/lutff_0:cout;;1") == 0 and pips_in(" ") == 0
    assert stage_of_net("core.layer0.l0_r2_c0_1") == "layer0"
    assert stage_of_net("core.output_buffer.tail[1]") == "output_buffer"
    assert stage_of_net("core.valid_1") == "control"
    assert stage_of_net("clk$SB_IO_IN_$glb_clk") == "clock"
    assert stage_of_net("pin_o_ready_0") == "harness" and stage_of_net("shift[3]") == "harness"
    assert stage_of_net("$PACKER_VCC_NET") == "other"
    s = routing_summary({"core.layer0.a": 10, "core.layer1.b": 4, "core.readout.c": 30,
                         "clk": 99}, nodes=2)
    assert s["wires_total"] == 44 and s["nets"] == 3 and s["wires_per_node_mean"] == 7.0
    assert s["longest_net"] == "core.readout.c" and s["by_stage"]["clock"]["wires"] == 99


def test_grid_placement_keeps_neighbours_near(small):
    ffs = {(i, n): f"ff_{i}_{n}" for i, layer in enumerate(small.layers)
           for n in range(layer.n_nodes)}
    bels = grid_bels(small, ffs, "ice40-up5k")
    assert len(set(bels.values())) == len(bels) == len(ffs)  # one cell each
    assert bels == grid_bels(small, ffs, "ice40-up5k")  # deterministic
    xy = {k: tuple(int(p[1:]) for p in b.split("/")[:2]) for k, b in bels.items()}
    die = DIES["ice40-up5k"]
    assert all(x in die["xs"] and y in die["ys"] for x, y in xy.values())
    layer = small.layers[0]
    key = layer.positions.sum(axis=1)
    corner = [n for n in range(layer.n_nodes) if key[n] == key.min()]
    far = [n for n in range(layer.n_nodes) if key[n] == key.max()]

    def manhattan(a, b):
        return abs(xy[a][0] - xy[b][0]) + abs(xy[a][1] - xy[b][1])

    near = [manhattan(f"ff_0_{a}", f"ff_0_{b}") for a in corner for b in corner]
    dist = [manhattan(f"ff_0_{a}", f"ff_0_{b}") for a in corner for b in far]
    assert max(near) < min(dist)
    with pytest.raises(ConfigError, match="not available for ecp5-85k"):
        grid_bels(small, ffs, "ecp5-85k")


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


@pytest.fixture(scope="module")
def small():
    return random_netlist(7, features=8, k=4, layers=2, nodes_per_layer=60, classes=4, radius=2)


@pytest.fixture(scope="module")
def small_rtl(small, tmp_path_factory):
    rtl = tmp_path_factory.mktemp("rtl")
    emit_verilog(small, rtl)
    return rtl


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


@pytest.mark.slow
def test_grid_placement_is_honoured_by_nextpnr(small, small_rtl, tmp_path):
    """Every pinned node register sits, locked, at its BEL; both seeds are reported."""
    from lutmesh.report.placement import node_flip_flops
    from lutmesh.report.synth import TOP

    r = make_report(small, small_rtl, get_target("ice40-up5k"), tmp_path, activity=ACTIVITY,
                    seeds=2, seed=3, placement="grid", log=lambda *_: None)
    assert r["placement"] == "grid" and r["seed"] == 3 and r["seeds"] == [3, 4]
    assert len(r["fmax_mhz_seeds"]) == 2 and r["fmax_mhz"] == r["fmax_mhz_seeds"][0]
    assert (tmp_path / "work" / "pnr_seed4.json").exists()
    synthesised = json.loads((tmp_path / "work" / "netlist.json").read_text())
    ffs = node_flip_flops(synthesised, small, TOP)
    assert len(ffs) > 0.8 * small.n_nodes
    wanted = grid_bels(small, ffs, "ice40-up5k")
    sites = node_sites(tmp_path / "work" / "routed.json", layer_names(small))
    user = 0b110  # nextpnr's STRENGTH_USER: placed by a constraint, never moved
    assert set(sites) == set(ffs)
    for node, cell in ffs.items():
        assert sites[node] == {"bel": wanted[cell], "strength": user}
    assert (tmp_path / "placement.png").read_bytes()[:4] == b"\x89PNG"
