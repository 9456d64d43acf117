"""Bitstreams with the YoWASP tools: the fit check first, then real builds."""

import json

import pytest

from lutmesh.boards.build import estimate_luts
from lutmesh.boards.platforms import get_board
from lutmesh.cli import main
from lutmesh.testing import random_netlist


def test_build_refuses_a_model_too_big_for_the_part_before_pnr(tmp_path, capsys):
    net = random_netlist(1, features=12, layers=2, nodes_per_layer=900, k=6, classes=4)
    model = net.save(tmp_path / "big.npz")
    assert estimate_luts(net) > get_board("icestick").capacity_luts
    assert main(["build", str(model), "--board", "icestick", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "does not fit icestick" in err and "1,280 available" in err
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
@pytest.mark.parametrize("board, suffix", [("icebreaker", "bin"), ("ulx3s-85f", "bit")])
def test_lutmesh_build_writes_a_bitstream(board, suffix, tmp_path, capsys):
    net = random_netlist(3, features=6, classes=4)
    model = net.save(tmp_path / "m.npz")
    out = tmp_path / board
    assert main(["build", str(model), "--board", board, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "logic cells" in text and "Fmax" in text
    bitstream = out / f"{board}.{suffix}"
    assert bitstream.stat().st_size > 50_000
    record = json.loads((out / "build.json").read_text())
    assert record["netlist_hash"] == net.content_hash()
    assert record["fmax_mhz"] > record["clock_mhz"]
    # no board is attached here: programming must fail with one clear message
    from lutmesh.boards.program import program_bitstream
    from lutmesh.errors import ToolError

    with pytest.raises(ToolError, match="apt-get install|could not program"):
        program_bitstream(get_board(board), bitstream)
