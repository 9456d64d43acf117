"""The emitted RTL on the real Verilator (cocotb 2.x), against the golden model."""

import json
import shutil

import numpy as np
import pytest

from lutmesh.cli import main
from lutmesh.hdl.emit import emit_verilog
from lutmesh.errors import ConfigError, NetlistError
from lutmesh.netlist import LutLayer
from lutmesh.sim.verify import verify
from lutmesh.testing import random_netlist, random_raw_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def net():
    # several layers, unused inputs, shared cells, ragged thresholds
    return random_netlist(11, features=9, k=4, layers=3, nodes_per_layer=40, classes=4,
                          radius=2, p_unused=0.15)


def flip_one_bit_that_matters(net, X):
    """A copy of ``net`` with one table bit flipped that changes some prediction."""
    base = net.predict(X)
    for li in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[li]
        for n in range(layer.n_nodes):
            for e in range(layer.tables.shape[1]):
                tables = layer.tables.copy()
                tables[n, e] ^= 1
                new = LutLayer(layer.grid, layer.positions, layer.inputs, tables, layer.radius)
                try:
                    flipped = net.replace(layers=net.layers[:li] + (new,) + net.layers[li + 1:])
                except NetlistError:  # the bit lies where an unused input would be 1
                    continue
                changed = np.flatnonzero(flipped.predict(X) != base)
                if changed.size:
                    return flipped, changed
    raise AssertionError("no single-bit flip changes a prediction")


def test_every_scenario_passes_on_a_generated_netlist(net, tmp_path):
    X = random_raw_inputs(net, 400, seed=3)
    result = verify(net, X, tmp_path, seed=1, log=lambda *_: None)
    assert result["passed"], [c["problems"] for c in result["scenarios"]]
    by_name = {c["scenario"]: c for c in result["scenarios"]}
    assert set(by_name) == {"full_rate", "input_gaps", "output_stalls", "gaps_and_stalls",
                            "reset_mid_stream", "reset_then_stalls"}
    assert all(c["samples_per_second"] > 0 for c in by_name.values())
    assert {n: c["path"] for n, c in by_name.items() if c["path"] != "cocotb"} == {
        "full_rate": "bulk"}
    assert by_name["reset_then_stalls"]["checked"] == 400
    full = by_name["full_rate"]
    assert full["checked"] == 400 and full["throughput_per_cycle"] == 1
    assert full["latency_min"] == full["latency_max"] == result["latency_cycles"]
    for name in ("input_gaps", "output_stalls", "gaps_and_stalls"):
        assert by_name[name]["checked"] == 400
        assert by_name[name]["throughput_per_cycle"] < 0.9  # the gaps/stalls really happened
    assert by_name["output_stalls"]["latency_max"] > result["latency_cycles"]
    reset = by_name["reset_mid_stream"]
    # in flight at the reset: flushed (nothing is accepted while it is held)
    assert reset["resets"] == 1 and 0 < 400 - reset["checked"] <= result["latency_cycles"]
    saved = json.loads((tmp_path / "verify.json").read_text())
    assert saved["passed"] and saved["mismatches"] == 0
    activity = json.loads((tmp_path / "activity.json").read_text())
    assert activity["samples"] == 400
    assert set(activity["stages"]) >= {"input", "encoder", "layer0", "layer1", "layer2",
                                       "readout"}
    assert activity["stages"]["layer0"]["bits"] == net.layers[0].n_nodes
    assert 0 < activity["stages"]["layer1"]["toggle_rate"] < 1


def test_a_flipped_table_bit_in_the_rtl_is_caught(net, tmp_path, capsys):
    X = random_raw_inputs(net, 300, seed=4)
    flipped, changed = flip_one_bit_that_matters(net, X)
    emit_verilog(flipped, tmp_path / "bad_rtl")
    model = tmp_path / "model.npz"
    net.save(model)
    code = main(["verify", str(model), "--rtl", str(tmp_path / "bad_rtl"), "--no-activity",
                 "--dataset", "random", "--samples", "300", "--seed", "4",
                 "--out", str(tmp_path / "v")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "first mismatch: sample" in out
    result = json.loads((tmp_path / "v" / "verify.json").read_text())
    assert result["mismatches"] >= len(changed)  # every scenario sees the changed samples
    assert result["first_mismatch"]["sample"] in set(changed.tolist())
    # and the same RTL emitted from the right netlist passes
    code = main(["verify", str(model), "--no-activity", "--dataset", "random",
                 "--samples", "300", "--seed", "4", "--out", str(tmp_path / "v2")])
    assert code == 0, capsys.readouterr().out


def test_waves_are_written_on_request_to_a_relative_out_dir(tmp_path, monkeypatch):
    """``lutmesh flow --out build`` gives relative paths; the simulator runs elsewhere."""
    monkeypatch.chdir(tmp_path)
    net = random_netlist(2, features=4, k=3, layers=1, nodes_per_layer=6, classes=2)
    result = verify(net, random_raw_inputs(net, 20, seed=0), "out", waves=True, activity=False,
                    log=lambda *_: None)
    assert result["passed"]
    head = (tmp_path / "out" / "waves.vcd").read_text()[:2000]
    assert "$timescale" in head and "i__payload" in (tmp_path / "out" / "waves.vcd").read_text()


needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                                  reason="Icarus Verilog (apt-get install iverilog) missing")


@needs_icarus
def test_icarus_passes_every_scenario_and_catches_a_flipped_bit(net, tmp_path, capsys):
    X = random_raw_inputs(net, 150, seed=6)
    result = verify(net, X, tmp_path / "ok", simulator="icarus", seed=2, log=lambda *_: None)
    assert result["passed"], [c["problems"] for c in result["scenarios"]]
    assert result["simulator"] == "icarus" and "activity" not in result
    assert all(c["checked"] == 150 for c in result["scenarios"] if not c["resets"]
               or c["scenario"] == "reset_then_stalls")
    flipped, changed = flip_one_bit_that_matters(net, X)
    emit_verilog(flipped, tmp_path / "bad_rtl")
    model = tmp_path / "model.npz"
    net.save(model)
    code = main(["verify", str(model), "--simulator", "icarus", "--rtl", str(tmp_path / "bad_rtl"),
                 "--dataset", "random", "--samples", "150", "--seed", "6",
                 "--out", str(tmp_path / "bad")])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL" in out and "Icarus" in out
    bad = json.loads((tmp_path / "bad" / "verify.json").read_text())
    assert bad["first_mismatch"]["sample"] in set(changed.tolist())


def test_an_unknown_simulator_is_a_one_line_config_error(net, tmp_path, capsys):
    model = tmp_path / "model.npz"
    net.save(model)
    code = main(["verify", str(model), "--simulator", "modelsim", "--out", str(tmp_path / "v")])
    err = capsys.readouterr().err
    assert code == 2 and err == ("lutmesh verify: error: --simulator 'modelsim': expected one "
                                 "of verilator, icarus\n")
    with pytest.raises(ConfigError, match="waves and switching activity need --simulator verilator"):
        verify(net, random_raw_inputs(net, 5, seed=0), tmp_path / "w", simulator="icarus",
               waves=True, log=lambda *_: None)
