"""Shared Amaranth-simulator harness for the hdl tests."""

import numpy as np
from amaranth.sim import Simulator

from lutmesh.hdl.emit import feature_fields
from lutmesh.sim.verify import pack_payloads
from lutmesh.hdl.inference import Inference
from lutmesh.hdl.streams import stream_get, stream_put


CLOCK_PERIOD = 1e-8


def run_simulation(dut, *testbenches, until: float | None = None, clock: bool = True) -> None:
    """Amaranth's simulator with one clock (none for purely combinational designs) and
    the given async testbenches, run to the end (every testbench returned) or ``until``
    seconds: the one set-up every hdl test shares, as Glasgow's ``simulation_test`` is."""
    sim = Simulator(dut)
    if clock:
        sim.add_clock(CLOCK_PERIOD)
    for bench in testbenches:
        sim.add_testbench(bench)
    if until is None:
        sim.run()
    else:
        sim.run_until(until)


def simulate_stream(net, q, *, seed=0, p_gap=0.0, p_stall=0.0, with_scores=False,
                    layers_per_stage=1, readout_stages=None):
    """Stream quantised samples ``q`` through the Inference top; return outputs and stats."""
    dut = Inference(net, layers_per_stage=layers_per_stage, readout_stages=readout_stages,
                    with_scores=with_scores)
    payloads = pack_payloads(feature_fields(net), q)
    rng_in, rng_out = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    got, scores = [], []

    async def producer(ctx):
        for p in payloads:
            while rng_in.random() < p_gap:
                await ctx.tick()
            await stream_put(ctx, dut.i, p)

    async def consumer(ctx):
        cycle = 0
        while len(got) < len(payloads):
            while rng_out.random() < p_stall:
                await ctx.tick()
                cycle += 1
            out = await stream_get(ctx, dut.o)
            got.append(int(out.cls))
            if with_scores:
                scores.append([int(s) for s in out.scores])

    run_simulation(dut, producer, consumer,
                   until=CLOCK_PERIOD * (len(payloads) * 50 + 200 + 20 * dut.latency))
    return np.array(got), np.array(scores), dut
