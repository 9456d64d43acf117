"""CreditCounter alone: ``i_ready`` says exactly whether one more sample fits."""

import numpy as np
import pytest

from lutmesh.hdl.credits import CreditCounter

from hdl_bench import run_simulation


def run_counter(capacity, valid_p, take_p, seed, cycles=600):
    """Random handshakes; per cycle, the counter's ready and the exact count's answer."""
    dut = CreditCounter(capacity)
    rng = np.random.default_rng(seed)
    seen = []

    async def bench(ctx):
        count = 0  # accepted and not yet taken, up to date
        for _ in range(cycles):
            valid = rng.random() < valid_p
            out_valid = count > 0 and rng.random() < 0.8  # a result can only be taken if held
            ready = rng.random() < take_p
            ctx.set(dut.i_valid, valid)
            ctx.set(dut.o_valid, out_valid)
            ctx.set(dut.o_ready, ready)
            i_ready = ctx.get(dut.i_ready)
            seen.append((i_ready, count < capacity))
            await ctx.tick()
            count += int(valid and i_ready) - int(out_valid and ready)

    run_simulation(dut, bench)
    return seen


@pytest.mark.parametrize("capacity", [2, 3, 9, 27])
@pytest.mark.parametrize("valid_p, take_p", [(1.0, 1.0), (0.9, 0.2), (0.5, 0.5), (0.2, 0.9)])
def test_ready_is_exactly_count_below_capacity(capacity, valid_p, take_p):
    seen = run_counter(capacity, valid_p, take_p, seed=capacity)
    assert all(got == want for got, want in seen)
    if take_p < valid_p:
        assert any(not want for _, want in seen)  # the full case was reached


def test_capacity_below_two_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        CreditCounter(1)


def test_ready_is_low_while_reset_is_held():
    from amaranth import ClockDomain, Module

    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.dut = dut = CreditCounter(4)
    seen = []

    async def bench(ctx):
        ctx.set(dut.i_valid, 1)
        seen.append(ctx.get(dut.i_ready))  # empty, out of reset: ready
        ctx.set(cd.rst, 1)
        for _ in range(3):
            seen.append(ctx.get(dut.i_ready))
            await ctx.tick()
        ctx.set(cd.rst, 0)
        seen.append(ctx.get(dut.i_ready))

    run_simulation(top, bench)
    assert seen == [1, 0, 0, 0, 1]
