import json

import numpy as np
import pytest

from lutmesh import Netlist
from lutmesh.hdl.emit import EmitOptions, emit_verilog
from lutmesh.hdl.stages import LutLayerStage, node_names
from lutmesh.testing import random_netlist
from lutmesh.tools import run_tool, verilator_bin_dir

# Waived Verilator lint classes, and why (see README, "hdl"):
#   WIDTHEXPAND/WIDTHTRUNC: Amaranth's Verilog backend relies on Verilog's implicit
#     zero-extension and truncation, which is exactly Amaranth's defined semantics;
#   DECLFILENAME: submodules live in the top's file as `top.sub`;
#   PROCASSINIT: registers carry their reset value as an initialiser;
#   UNUSEDSIGNAL: input bits of features without thresholds and internal wires.
LINT_WAIVERS = ["-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-DECLFILENAME", "-Wno-PROCASSINIT",
                "-Wno-UNUSEDSIGNAL"]


def test_emit_is_byte_identical(tmp_path):
    net = random_netlist(21)
    a, _ = emit_verilog(net, tmp_path / "a")
    b, _ = emit_verilog(Netlist.load(net.save(tmp_path / "m.npz")), tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a/manifest.json").read_bytes() == (tmp_path / "b/manifest.json").read_bytes()


def test_no_reset_value_waits_for_an_always_block(tmp_path):
    """Reset values computed in ``always @*`` blocks were never computed in Icarus
    (``-g2012``) with reset held from time 0 (see ``lutmesh.hdl.reset``): every reset
    must be a multiplexer in a continuous assignment."""
    verilog, _ = emit_verilog(random_netlist(23), tmp_path)
    text = verilog.read_text()
    assert "rst ?" in text
    assert "if (rst)" not in text


def test_manifest_describes_ports_and_latency(tmp_path):
    net = random_netlist(22)
    _, manifest = emit_verilog(net, tmp_path, EmitOptions(top="dut", with_scores=True))
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["top"] == "dut" and (tmp_path / "dut.v").exists()
    assert manifest["netlist_hash"] == net.content_hash()
    widths = [f["width"] for f in manifest["features"]]
    assert widths == net.quantizer.bits.tolist()
    payload = next(p for p in manifest["ports"] if p["name"] == "i__payload")
    assert payload["width"] == sum(widths)
    assert manifest["class_names"] == list(net.class_names)
    assert manifest["latency_cycles"] >= 3
    text = (tmp_path / "dut.v").read_text()
    for port in manifest["ports"]:
        assert port["name"] in text


def test_signal_names_carry_layer_and_position(tmp_path):
    net = random_netlist(23)
    path, _ = emit_verilog(net, tmp_path)
    text = path.read_text()
    for i, layer in enumerate(net.layers):
        for name in node_names(layer, i)[:5]:
            assert name in text


def test_reduced_table_drops_unused_inputs():
    inputs = np.array([5, -1, 7])
    table = np.zeros(8, dtype=np.uint8)
    table[[1, 3]] = 1  # output = input 0 and not input 2 (input 1 ignored)
    sources, value = LutLayerStage.reduced_table(inputs, table)
    assert sources == [5, 7] and value == 0b0010


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_verilog_passes_verilator_lint(tmp_path, seed):
    path, _ = emit_verilog(random_netlist(seed), tmp_path)
    run_tool([str(verilator_bin_dir() / "verilator"), "--lint-only", "-Wall", *LINT_WAIVERS,
              str(path)])
