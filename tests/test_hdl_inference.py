import numpy as np
import pytest

from lutmesh.hdl.emit import feature_fields
from lutmesh.sim.verify import pack_payloads
from lutmesh.hdl.inference import Inference
from lutmesh.testing import random_inputs, random_netlist

from hdl_bench import run_simulation, simulate_stream


@pytest.mark.parametrize("seed", range(12))
def test_stream_equals_golden_model_with_gaps_and_stalls(seed):
    net = random_netlist(seed)
    q = random_inputs(net, 60, seed)
    got, _, _ = simulate_stream(net, q, seed=seed, p_gap=0.3, p_stall=0.3)
    expected = net.predict_quantized(q)
    assert len(got) == len(q), f"seed {seed}: {len(got)} outputs for {len(q)} inputs"
    np.testing.assert_array_equal(got, expected, err_msg=f"seed {seed}")


@pytest.mark.parametrize("seed", [3, 8])
def test_scores_output_equals_golden_scores(seed):
    net = random_netlist(seed)
    q = random_inputs(net, 40, seed)
    got, scores, _ = simulate_stream(net, q, seed=seed, p_gap=0.2, p_stall=0.2,
                                     with_scores=True)
    np.testing.assert_array_equal(scores, net.scores(net.encode(q)))
    np.testing.assert_array_equal(got, net.predict_quantized(q))


@pytest.mark.parametrize("layers_per_stage, readout_stages", [(2, 1), (3, None), (1, "max")])
def test_pipeline_depth_options_keep_function(layers_per_stage, readout_stages):
    net = random_netlist(11, layers=3, classes=5)
    from lutmesh.hdl.readout import readout_levels
    if readout_stages == "max":
        readout_stages = sum(readout_levels(net.readout))
    q = random_inputs(net, 40, 1)
    got, _, dut = simulate_stream(net, q, seed=2, p_gap=0.2, p_stall=0.2,
                                  layers_per_stage=layers_per_stage,
                                  readout_stages=readout_stages)
    np.testing.assert_array_equal(got, net.predict_quantized(q))
    expected_latency = 1 + sum(1 for i in range(3) if (i + 1) % layers_per_stage == 0 or i == 2) \
        + (readout_stages or dut.readout.latency)
    assert dut.pipeline_latency == expected_latency
    assert dut.latency == expected_latency + 2  # the output buffer


def test_full_rate_throughput_and_exact_latency():
    """With valid and ready always high, one result per cycle after exactly `latency`."""
    net = random_netlist(5)
    q = random_inputs(net, 30, 5)
    dut = Inference(net)
    payloads = pack_payloads(feature_fields(net), q)
    seen = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for cycle in range(len(payloads) + dut.latency + 3):
            if cycle < len(payloads):
                ctx.set(dut.i.valid, 1)
                ctx.set(dut.i.payload.as_value(), payloads[cycle])
            else:
                ctx.set(dut.i.valid, 0)
            assert ctx.get(dut.i.ready) == 1
            _, _, valid, cls = await ctx.tick().sample(dut.o.valid, dut.o.payload.cls)
            if valid:
                seen.append((cycle, int(cls)))

    run_simulation(dut, bench)
    # the sample accepted at edge c is visible `latency` edges later, i.e. sampled at
    # the edge ending cycle c + latency
    assert [c for c, _ in seen] == list(range(dut.latency, dut.latency + len(q)))
    np.testing.assert_array_equal([v for _, v in seen], net.predict_quantized(q))


def test_nothing_valid_after_reset_until_input():
    net = random_netlist(6)
    dut = Inference(net)

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for _ in range(dut.latency + 5):
            assert ctx.get(dut.o.valid) == 0
            await ctx.tick()

    run_simulation(dut, bench)


def test_backpressure_holds_pipeline():
    """Ready low: input stalls once the credits are used up, and the first result stays."""
    net = random_netlist(9)
    q = random_inputs(net, 4, 9)
    dut = Inference(net)
    payloads = pack_payloads(feature_fields(net), q)
    expected = net.predict_quantized(q)

    async def bench(ctx):
        ctx.set(dut.o.ready, 0)
        ctx.set(dut.i.valid, 1)
        accepted = 0
        for _ in range(dut.latency + 10):
            ctx.set(dut.i.payload.as_value(), payloads[min(accepted, len(payloads) - 1)])
            _, _, ready = await ctx.tick().sample(dut.i.ready)
            accepted += int(ready)
        assert ctx.get(dut.o.valid) == 1
        assert int(ctx.get(dut.o.payload.cls)) == expected[0]
        assert ctx.get(dut.i.ready) == 0
        assert accepted == dut.capacity  # credits: exactly what the output buffer holds

    run_simulation(dut, bench)


def flip_one_table_bit(net, q, start_seed=0):
    """A copy of ``net`` with one table bit flipped that changes some prediction on ``q``."""
    from lutmesh import LutLayer
    rng = np.random.default_rng(start_seed)
    expected = net.predict_quantized(q)
    for _ in range(500):
        li = int(rng.integers(len(net.layers)))
        layer = net.layers[li]
        n = int(rng.integers(layer.n_nodes))
        if (layer.inputs[n] < 0).all():
            continue
        # flip a pattern together with its twins over unused inputs, keeping validity
        used = sum(1 << k for k in range(layer.k) if layer.inputs[n, k] >= 0)
        a = int(rng.integers(1 << layer.k)) & used
        tables = layer.tables.copy()
        twins = [p for p in range(1 << layer.k) if p & used == a]
        tables[n, twins] ^= 1
        layers = list(net.layers)
        layers[li] = LutLayer(layer.grid, layer.positions, layer.inputs, tables, layer.radius)
        mutant = net.replace(layers=tuple(layers))
        if (mutant.predict_quantized(q) != expected).any():
            return mutant
    raise AssertionError("no single flip changes a prediction")


def test_bench_catches_a_flipped_table_bit():
    net = random_netlist(4)
    q = random_inputs(net, 60, 4)
    mutant = flip_one_table_bit(net, q)
    got, _, _ = simulate_stream(mutant, q, seed=4, p_gap=0.2, p_stall=0.2)
    assert (got != net.predict_quantized(q)).any()
    np.testing.assert_array_equal(got, mutant.predict_quantized(q))


@pytest.mark.slow
def test_trained_digits_model_on_whole_test_split():
    """A real trained netlist, all 360 test samples, through the simulated RTL."""
    from lutmesh.datasets import load_dataset
    from lutmesh.train import TrainConfig, train

    data = load_dataset("digits")
    net = train(data, TrainConfig(layers="4x4x4,2x2x20", epochs=3, progress=False))
    q = net.quantize(data.X_test)
    got, _, _ = simulate_stream(net, q, seed=0, p_gap=0.1, p_stall=0.1)
    np.testing.assert_array_equal(got, net.predict(data.X_test))


def test_ready_low_and_nothing_valid_while_reset_is_held():
    """A sample offered during reset is refused (it would vanish with the pipeline), and
    the stream resumes exactly after it: the first sample offered is the first result."""
    from amaranth import ClockDomain, Module

    net = random_netlist(7)
    q = random_inputs(net, 20, 7)
    payloads = pack_payloads(feature_fields(net), q)
    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.dut = dut = Inference(net)
    got = []

    async def bench(ctx):
        ctx.set(cd.rst, 1)
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload.as_value(), payloads[0])
        for _ in range(5):
            assert ctx.get(dut.i.ready) == 0
            await ctx.tick()
            assert ctx.get(dut.o.valid) == 0
        ctx.set(cd.rst, 0)
        sent = 0
        for _ in range(len(q) + dut.latency + 5):
            ctx.set(dut.i.valid, sent < len(q))
            ctx.set(dut.i.payload.as_value(), payloads[min(sent, len(q) - 1)])
            _, _, ready, valid, cls = await ctx.tick().sample(dut.i.ready, dut.o.valid,
                                                              dut.o.payload.cls)
            sent += int(ready and sent < len(q))
            if valid:
                got.append(int(cls))

    run_simulation(top, bench)
    np.testing.assert_array_equal(got, net.predict_quantized(q))
