"""The emitted core in Icarus Verilog (4-state), under a plain Verilog testbench that
holds reset from time 0 and stalls the output on ~40% of cycles (``verilog/stream_tb.v``)."""

import shutil

import pytest

from lutmesh.hdl.emit import emit_verilog
from lutmesh.testing import random_netlist, random_raw_inputs

from icarus_bench import run_stream_tb
from test_hdl_inference import flip_one_table_bit

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("iverilog") is None,
                                 reason="Icarus Verilog (apt-get install iverilog) missing")]


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    net = random_netlist(11, features=9, k=4, layers=3, nodes_per_layer=40, classes=4,
                         radius=2, p_unused=0.15)
    rtl = tmp_path_factory.mktemp("rtl")
    emit_verilog(net, rtl)
    q = net.quantize(random_raw_inputs(net, 400, seed=5))
    return net, rtl, q


# -g2012 is cocotb's Icarus default and the one where the time-0 race showed
@pytest.mark.parametrize("generation", ["2012", "2005"])
@pytest.mark.parametrize("stall", [0, 40])
def test_reset_from_time_zero_with_stalls_passes(core, tmp_path, generation, stall):
    net, rtl, q = core
    res = run_stream_tb(rtl, q, net.predict_quantized(q), tmp_path, stall=stall,
                        generation=generation)
    assert res["checked"] == len(q), res
    assert res["mismatches"] == res["lost"] == res["dup"] == 0, res
    assert res["x_cycles"] == 0, res  # no x on i__ready / o__valid, ever
    assert res["ready_in_reset"] == 0 and res["valid_in_reset"] == 0, res
    if stall:
        assert res["cycles"] > 1.3 * len(q)  # the stalls really happened


def test_a_flipped_table_bit_is_caught_by_the_plain_testbench(core, tmp_path):
    net, _, q = core
    mutant = flip_one_table_bit(net, q)
    emit_verilog(mutant, tmp_path / "rtl")
    res = run_stream_tb(tmp_path / "rtl", q, net.predict_quantized(q), tmp_path / "tb")
    want = int((mutant.predict_quantized(q) != net.predict_quantized(q)).sum())
    assert res["checked"] == len(q) and res["mismatches"] == want > 0, res
