"""Encoder and LutLayerStage alone, in Amaranth's simulator, against the golden model."""

import numpy as np
import pytest

from lutmesh.hdl.stages import Encoder, LutLayerStage
from lutmesh.samples import random_inputs
from lutmesh.testing import random_netlist

from hdl_bench import run_simulation


def _as_int(bits) -> int:
    return int(sum(int(b) << k for k, b in enumerate(bits)))


def _run(dut, vectors, registered: bool):
    """Outputs for each input vector; a registered stage answers one clock later."""
    got = []

    async def bench(ctx):
        for v in vectors:
            ctx.set(dut.i, v)
            if registered:
                await ctx.tick()
            got.append(ctx.get(dut.o))

    run_simulation(dut, bench, clock=registered)
    return got


@pytest.mark.parametrize("seed, registered", [(0, True), (3, False), (5, True)])
def test_encoder_bits_equal_the_thermometer(seed, registered):
    net = random_netlist(seed)
    q = random_inputs(net, 40, seed=seed)
    offsets = np.concatenate([[0], np.cumsum(net.quantizer.bits)[:-1]])
    vectors = [sum(int(v) << int(o) for v, o in zip(row, offsets)) for row in q]
    dut = Encoder(net.encoder, net.quantizer.bits, registered=registered)
    want = [_as_int(row) for row in net.encode(q)]
    assert _run(dut, vectors, registered) == want


@pytest.mark.parametrize("seed, registered", [(1, True), (2, False)])
def test_every_layer_equals_its_tables(seed, registered):
    net = random_netlist(seed)
    bits = net.encode(random_inputs(net, 40, seed=seed))
    outs = net.forward(bits)
    prev = bits
    for idx, layer in enumerate(net.layers):
        dut = LutLayerStage(layer, idx, prev.shape[1], registered=registered)
        got = _run(dut, [_as_int(row) for row in prev], registered)
        assert got == [_as_int(row) for row in outs[idx]], f"layer {idx}, seed {seed}"
        prev = outs[idx]


def test_an_unregistered_stage_has_no_flip_flops():
    from amaranth.back import rtlil

    net = random_netlist(4)
    comb = LutLayerStage(net.layers[0], 0, net.encoder.n_bits, registered=False)
    assert "$dff" not in rtlil.convert(comb)
    assert "$dff" in rtlil.convert(LutLayerStage(net.layers[0], 0, net.encoder.n_bits))
